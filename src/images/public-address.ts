import { isIPv4, isIPv6 } from 'node:net';

/**
 * Whether an IP address is on the public internet, so the server may fetch from it on a provider's
 * say-so. Loopback, private, link-local (cloud metadata at 169.254.169.254), unique-local, multicast
 * and reserved addresses are refused, including when written as IPv4-mapped (or NAT64/6to4-embedded) IPv6.
 */
export function isPublicAddress(address: string): boolean {
  if (isIPv4(address)) return isPublicV4(v4Bytes(address));
  const bare = address.split('%')[0] ?? ''; // drop a zone id (fe80::1%eth0)
  if (!isIPv6(bare)) return false;
  const bytes = v6Bytes(bare);
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  // ::ffff:a.b.c.d (IPv4-mapped) reaches an IPv4 host; ::/96 holds ::, ::1 and the deprecated IPv4-compatible form.
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return isPublicV4(bytes.slice(12, 16));
  if (zeros(0, 12)) return false;
  // 64:ff9b::/96 (NAT64) and 2002::/16 (6to4) embed an IPv4 address too.
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zeros(4, 12)) return isPublicV4(bytes.slice(12, 16));
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return isPublicV4(bytes.slice(2, 6));
  const first = bytes[0]!;
  if ((first & 0xfe) === 0xfc) return false; // fc00::/7 unique-local
  if (first === 0xfe && (bytes[1]! & 0xc0) === 0x80) return false; // fe80::/10 link-local
  if (first === 0xfe && (bytes[1]! & 0xc0) === 0xc0) return false; // fec0::/10 old site-local
  if (first === 0xff) return false; // multicast
  return true;
}

function isPublicV4(b: number[]): boolean {
  const [a, c] = [b[0]!, b[1]!];
  if (a === 0 || a === 10 || a === 127) return false; // "this network", private, loopback
  if (a === 100 && (c & 0xc0) === 64) return false; // 100.64/10 carrier-grade NAT
  if (a === 169 && c === 254) return false; // link-local, cloud metadata
  if (a === 172 && (c & 0xf0) === 16) return false; // 172.16/12
  if (a === 192 && c === 168) return false; // 192.168/16
  if (a === 192 && c === 0 && b[2] === 0) return false; // 192.0.0/24 protocol assignments
  if (a === 198 && (c & 0xfe) === 18) return false; // 198.18/15 benchmarking
  if (a >= 224) return false; // multicast, reserved, broadcast
  return true;
}

function v4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** The 16 bytes of a valid IPv6 address (`::` shorthand and a trailing dotted quad allowed). */
function v6Bytes(address: string): number[] {
  let text = address.toLowerCase();
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const fill = rest === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].flatMap((g) => {
    const word = parseInt(g, 16);
    return [word >> 8, word & 0xff];
  });
}
