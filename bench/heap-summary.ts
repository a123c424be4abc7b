/**
 * Reads two V8 heap snapshots (before and after opening N sockets) and prints what the heap gained
 * per socket, by kind of object: the constructors and closures each idle socket holds.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count of every (type, name) in a snapshot. */
function tally(path: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!]!;
    let name = s.strings[s.nodes[i + nameAt]!] ?? '';
    // Strings and numbers by their kind only: their text says nothing about who holds them.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number') name = '';
    if (name.length > 60) name = `${name.slice(0, 57)}…`;
    const key = `${type} ${name}`.trim();
    const t = out.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += s.nodes[i + sizeAt]!;
    out.set(key, t);
  }
  return out;
}

/** The kinds of object that grew by at least `minPerSocket` bytes a socket, largest first. */
export function heapGrowth(before: string, after: string, sockets: number, minPerSocket = 16): string[] {
  const a = tally(before);
  const b = tally(after);
  const rows: Array<{ key: string; count: number; bytes: number }> = [];
  let total = 0;
  for (const [key, t] of b) {
    const was = a.get(key) ?? { count: 0, bytes: 0 };
    const bytes = t.bytes - was.bytes;
    total += bytes;
    rows.push({ key, count: t.count - was.count, bytes });
  }
  rows.sort((x, y) => y.bytes - x.bytes);
  const lines = [`JS heap gained ${(total / 1024 / sockets).toFixed(2)} KB per socket; by kind (objects per socket, bytes per socket):`];
  for (const r of rows) {
    if (r.bytes / sockets < minPerSocket) break;
    lines.push(`  ${(r.count / sockets).toFixed(2).padStart(6)} × ${r.key.padEnd(64)} ${(r.bytes / sockets).toFixed(0).padStart(6)} B`);
  }
  return lines;
}
