import { createHmac } from 'node:crypto';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Hand-made JWTs for attack tests: any header, any claims, any secret (or none). */
export function craftJwt(claims: Record<string, unknown>, secret: string | null, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const body = `${b64(header)}.${b64(claims)}`;
  if (secret === null) return `${body}.`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

export function decodeJwt(token: string): { header: any; claims: any } {
  const [h, c] = token.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), claims: JSON.parse(Buffer.from(c!, 'base64url').toString()) };
}
