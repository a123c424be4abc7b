/**
 * `npm run bench:idle`: opens N idle authenticated whiteboard sockets (10,000 by default, --sockets=N
 * or BENCH_SOCKETS) to one Inkwell process on loopback and prints the server's memory per socket
 * (RSS after a full GC, before and after) and the time to connect them. PGlite in memory, or
 * PostgreSQL with BENCH_DATABASE_URL (a schema of its own). Needs `ulimit -n` above N in this shell.
 * --heap=<dir> (or BENCH_HEAP) also writes the server's heap snapshots before and after into <dir>
 * and prints what the heap gained per socket, by kind of object.
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { heapGrowth } from './heap-summary.js';
import type { ChildMessage, Command } from './server-process.js';

const sockets = Number(process.argv.find((a) => a.startsWith('--sockets='))?.split('=')[1] ?? process.env.BENCH_SOCKETS ?? 10_000);
const heapDir = process.argv.find((a) => a.startsWith('--heap='))?.split('=')[1] ?? process.env.BENCH_HEAP;
const CONCURRENT = 200;
const SETTLE_MS = 3000;
const HARD_LIMIT_MS = 180_000;

const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), ['inkwell'], {
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  execArgv: [...process.execArgv, '--expose-gc'],
});
let nextId = 1;
const pending = new Map<number, (m: ChildMessage) => void>();
const ready = new Promise<{ port: number; database?: string }>((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`the server exited with code ${code}`)));
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'ready') return resolve(m);
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
});
function call<T>(command: { cmd: Command['cmd'] } & Record<string, unknown>): Promise<T> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, (m) => (m.type === 'reply' && m.error ? reject(new Error(m.error)) : resolve((m as { result: T }).result)));
    child.send({ ...command, id });
  });
}

const open: WebSocket[] = [];
function connect(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => {
      open.push(ws);
      resolve();
    });
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`socket closed with ${code} before it was open`)));
  });
}

async function main(): Promise<void> {
  const { port, database } = await ready;
  const [session] = await call<Array<{ access: string }>>({ cmd: 'login', emails: ['idle-bench@example.com'] });
  const url = `ws://127.0.0.1:${port}/ws?token=${encodeURIComponent(session!.access)}`;
  await connect(url); // warms the upgrade path before the baseline
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const before = await call<number>({ cmd: 'memory' });
  const heapBefore = heapDir ? await call<string>({ cmd: 'heapSnapshot', path: join(heapDir, 'idle-before.heapsnapshot') }) : '';
  const started = performance.now();
  for (let i = 1; i < sockets; i += CONCURRENT) {
    await Promise.all(Array.from({ length: Math.min(CONCURRENT, sockets - i) }, () => connect(url)));
  }
  const connectMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const after = await call<number>({ cmd: 'memory' });
  const heapAfter = heapDir ? await call<string>({ cmd: 'heapSnapshot', path: join(heapDir, 'idle-after.heapsnapshot') }) : '';
  console.log(
    `load average (the machine is shared): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`idle sockets on Inkwell (${database}): ${open.length} open in ${(connectMs / 1000).toFixed(1)} s (${((connectMs * 1000) / sockets).toFixed(0)} µs each)`);
  console.log(
    `server RSS ${(before / 2 ** 20).toFixed(0)} MB → ${(after / 2 ** 20).toFixed(0)} MB: ${((after - before) / 1024 / (open.length - 1)).toFixed(2)} KB per socket   (target ≤ 8 KB at 10,000)`,
  );
  if (heapDir) console.log(heapGrowth(heapBefore, heapAfter, open.length - 1).join('\n'));
}

const hardStop = setTimeout(() => {
  console.error(`bench: still running after ${HARD_LIMIT_MS / 1000} s; stopping`);
  child.kill('SIGTERM');
  process.exit(1);
}, HARD_LIMIT_MS);
main()
  .catch((err: unknown) => {
    console.error('bench failed:', err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const ws of open) ws.terminate();
    const exited = new Promise((r) => child.once('exit', r));
    child.send({ cmd: 'stop', id: nextId++ });
    await exited;
    clearTimeout(hardStop);
  });
