/**
 * `npm run bench:idle`: opens N idle sockets (10,000 by default, --sockets=N or BENCH_SOCKETS) to
 * (b) a bare `ws` server and then (a) Inkwell, authenticated on its whiteboard socket, each in a
 * process of its own on loopback, and prints each server's memory per socket (RSS after a full GC,
 * before and after, each read once the server has been quiet for --settle=S seconds, 35 by default:
 * see SETTLE_MS) and the time to connect them (an Inkwell socket counts once it answers a ping: see
 * READY). Inkwell on PGlite in a fresh data directory, or PostgreSQL with
 * BENCH_DATABASE_URL (a schema of its own). Needs `ulimit -n` above N in this shell.
 * --heap=<dir> (or BENCH_HEAP) also writes Inkwell's heap snapshots before and after into <dir>
 * and prints what the heap gained per socket, by kind of object (RSS then includes the snapshots').
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { heapGrowth } from './heap-summary.js';
import type { ChildMessage, Command, ServerKind } from './server-process.js';

const sockets = Number(process.argv.find((a) => a.startsWith('--sockets='))?.split('=')[1] ?? process.env.BENCH_SOCKETS ?? 10_000);
const heapDir = process.argv.find((a) => a.startsWith('--heap='))?.split('=')[1] ?? process.env.BENCH_HEAP;
const CONCURRENT = 200;
/**
 * When an Inkwell socket counts as connected: `pong` (the default), once it answers a ping, that is
 * once the server has authenticated it; `open`, at the upgrade, as this benchmark did until 6
 * December 2026. With `open` the burst ends while the server is still authenticating most of the
 * sockets (on PGlite 1,681 of 10,000 were done when the last one opened; the rest took 4.5 s more).
 */
const READY = process.argv.find((a) => a.startsWith('--ready='))?.split('=')[1] ?? 'pong';
if (READY !== 'pong' && READY !== 'open') throw new Error('--ready is pong or open');
/**
 * How long a server is left quiet before its RSS is read. V8 keeps memory it no longer needs after a
 * burst and returns it in steps once the process is idle: read every second after 10,000
 * connections, the RSS of the bare relay and of Inkwell fell at about 8–9 s and again at about 29 s,
 * then held. Read 3 s after the burst, as this benchmark did until 6 December 2026, a good part of
 * each figure was memory V8 was about to return. Both servers, before and after connecting, wait
 * the same; --settle=3 gives the old readings.
 */
const SETTLE_MS = Number(process.argv.find((a) => a.startsWith('--settle='))?.split('=')[1] ?? 35) * 1000;
const HARD_LIMIT_MS = 300_000;

/** A server in its own process, driven over IPC (see server-process.ts). */
class Server {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, (m: ChildMessage) => void>();
  readonly ready: Promise<{ port: number; database?: string }>;

  constructor(kind: ServerKind) {
    this.child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [kind], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [...process.execArgv, '--expose-gc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`the ${kind} server exited with code ${code}`)));
      this.child.on('message', (m: ChildMessage) => {
        if (m.type === 'ready') return resolve(m);
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      });
    });
  }

  call<T>(command: { cmd: Command['cmd'] } & Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => (m.type === 'reply' && m.error ? reject(new Error(m.error)) : resolve((m as { result: T }).result)));
      this.child.send({ ...command, id });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'stop', id: this.nextId++ });
    await exited;
  }

  kill(): void {
    this.child.kill('SIGTERM');
  }
}

const open: WebSocket[] = [];
/**
 * Opens one socket. With `answered`, it counts as connected once the server answers a `ping`, which
 * it does only after checking the token and the account (frames that arrive before are held until
 * then): an Inkwell socket is open at the upgrade, before it is authenticated.
 */
function connect(url: string, answered: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => {
      open.push(ws);
      if (!answered) return resolve();
      ws.send(JSON.stringify({ type: 'ping' }));
      const onMessage = (data: WebSocket.RawData) => {
        if ((JSON.parse(String(data)) as { type?: string }).type !== 'pong') return;
        ws.off('message', onMessage);
        resolve();
      };
      ws.on('message', onMessage);
    });
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`socket closed with ${code} before it was open`)));
  });
}

interface Measured {
  perSocketKb: number;
  line: string;
}

/** Opens the sockets to one server and measures its RSS before and after; closes them again. */
async function measure(server: Server, label: string, url: string, heap: boolean, answered = false): Promise<Measured> {
  await connect(url, answered); // warms the upgrade path before the baseline
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const before = await server.call<number>({ cmd: 'memory' });
  const heapBefore = heap ? await server.call<string>({ cmd: 'heapSnapshot', path: join(heapDir!, 'idle-before.heapsnapshot') }) : '';
  const started = performance.now();
  for (let i = 1; i < sockets; i += CONCURRENT) {
    await Promise.all(Array.from({ length: Math.min(CONCURRENT, sockets - i) }, () => connect(url, answered)));
  }
  const connectMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const after = await server.call<number>({ cmd: 'memory' });
  const count = open.length - 1;
  const perSocketKb = (after - before) / 1024 / count;
  const line = `${label.padEnd(28)} ${String(open.length).padStart(6)} ${answered ? 'answering' : 'open'} in ${(connectMs / 1000).toFixed(1).padStart(5)} s (${((connectMs * 1000) / sockets).toFixed(0).padStart(5)} µs each)   RSS ${(before / 2 ** 20).toFixed(0)} → ${(after / 2 ** 20).toFixed(0)} MB: ${perSocketKb.toFixed(2)} KB per socket (read ${SETTLE_MS / 1000} s after)`;
  if (heap) {
    const heapAfter = await server.call<string>({ cmd: 'heapSnapshot', path: join(heapDir!, 'idle-after.heapsnapshot') });
    console.log(heapGrowth(heapBefore, heapAfter, count).join('\n'));
  }
  for (const ws of open.splice(0)) ws.terminate();
  return { perSocketKb, line };
}

const servers: Server[] = [];
async function main(): Promise<void> {
  const relay = new Server('relay');
  servers.push(relay);
  const relayMeasured = await measure(relay, '(b) bare ws server', `ws://127.0.0.1:${(await relay.ready).port}`, false);
  await relay.stop();

  const inkwell = new Server('inkwell');
  servers.push(inkwell);
  const { port, database } = await inkwell.ready;
  const [session] = await inkwell.call<Array<{ access: string }>>({ cmd: 'login', emails: ['idle-bench@example.com'] });
  const url = `ws://127.0.0.1:${port}/ws?token=${encodeURIComponent(session!.access)}`;
  const inkwellMeasured = await measure(inkwell, `(a) Inkwell (${database})`, url, heapDir !== undefined, READY === 'pong');

  console.log(
    `load average (the machine is shared): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`idle sockets, RSS after a full GC (Inkwell's are authenticated whiteboard sockets):`);
  console.log(relayMeasured.line);
  console.log(inkwellMeasured.line);
  console.log(
    `Inkwell − bare ws: ${(inkwellMeasured.perSocketKb - relayMeasured.perSocketKb).toFixed(2)} KB per socket; Inkwell ${inkwellMeasured.perSocketKb.toFixed(2)} KB per socket   (target ≤ 8 KB at 10,000)`,
  );
}

const hardStop = setTimeout(() => {
  console.error(`bench: still running after ${HARD_LIMIT_MS / 1000} s; stopping`);
  for (const s of servers) s.kill();
  process.exit(1);
}, HARD_LIMIT_MS);
main()
  .catch((err: unknown) => {
    console.error('bench failed:', err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const ws of open) ws.terminate();
    await Promise.all(servers.map((s) => s.stop()));
    clearTimeout(hardStop);
  });
