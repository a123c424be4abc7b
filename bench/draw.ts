/**
 * `npm run bench:draw`: N senders draw into one room watched by M members, against (a) Inkwell
 * (real login, validation, persistence on PGlite, or PostgreSQL with BENCH_DATABASE_URL /
 * DATABASE_URL) and (b) a bare `ws` relay, in the same run; prints delivered drawings/s,
 * p50/p99 latency from send to receipt, the ratios a/b and database transactions per drawing.
 *
 * Options (argv `--name=value` or env BENCH_NAME): senders (5), members (50), rate (1000
 * drawings/s in total), seconds (10), points (8 per drawing), only (relay|inkwell).
 * BENCH_ENV_<NAME>=value sets Inkwell's variable <NAME> for the run (e.g. BENCH_ENV_WS_COMMIT_INTERVAL=10ms).
 * BENCH_PROFILE=<dir> also writes a CPU profile of each server process into that directory.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runLoad, type LoadResult } from './load.js';
import type { ChildMessage, Command, ServerKind } from './server-process.js';
import type { TransactionCounts } from './transaction-counter.js';


function option(name: string, fallback: number): number;
function option(name: string, fallback: string): string;
function option(name: string, fallback: number | string): number | string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const raw = arg ?? process.env[`BENCH_${name.toUpperCase()}`];
  if (raw === undefined || raw === '') return fallback;
  if (typeof fallback === 'string') return raw;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got "${raw}")`);
  return n;
}

const config = {
  senders: option('senders', 5),
  members: option('members', 50),
  rate: option('rate', 1000),
  seconds: option('seconds', 10),
  points: option('points', 8),
  only: option('only', ''),
};
// A run stops by itself: 60 s at the default 10 s of load, more only when asked for a longer load.
const HARD_LIMIT_MS = Math.max(60, 2 * config.seconds + 40) * 1000;
if (config.members <= config.senders) throw new Error('members must be more than senders (members include the senders)');

/** A benchmarked server in its own process, driven over IPC. */
class ServerChild {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  readonly ready: Promise<{ port: number; database?: string }>;
  readonly exited: Promise<void>;

  constructor(readonly kind: ServerKind) {
    // fork() reuses this process's execArgv, so the child runs TypeScript through tsx as well.
    // BENCH_PROFILE=<dir> writes a V8 CPU profile of each server process there (open it in Chrome DevTools).
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    this.child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [kind], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: process.env,
      execArgv: [...process.execArgv, ...profile],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => {
        reject(new Error(`${kind} server exited with code ${code}`));
        for (const p of this.pending.values()) p.reject(new Error(`${kind} server exited`));
      });
      this.child.on('message', (msg: ChildMessage) => {
        if (msg.type === 'ready') return resolve(msg);
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(msg.error));
        else p.resolve(msg.result);
      });
    });
    this.ready.catch(() => {});
  }

  call<T>(command: Command extends infer C ? (C extends Command ? Omit<C, 'id'> : never) : never): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...command, id });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = this.exited;
    this.call({ cmd: 'stop' }).catch(() => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

const loadShape = {
  members: config.members,
  senders: config.senders,
  rate: config.rate,
  seconds: config.seconds,
  points: config.points,
  warmupMs: 1000,
  drainMs: 5000,
};

async function benchRelay(relay: ServerChild): Promise<LoadResult> {
  const { port } = await relay.ready;
  return runLoad({ ...loadShape, url: () => `ws://127.0.0.1:${port}/`, drawFields: {} });
}

interface InkwellResult extends LoadResult {
  stored: number;
  transactions: TransactionCounts;
  database: string;
}

interface InkwellRoom {
  port: number;
  database: string;
  roomId: string;
  sessions: Array<{ access: string }>;
}

/** Real logins for every member and a room made by the first one, before anything is timed. */
async function prepareInkwell(inkwell: ServerChild): Promise<InkwellRoom | string> {
  const { port, database } = await inkwell.ready;
  const base = `http://127.0.0.1:${port}`;
  const emails = Array.from({ length: config.members }, (_, i) => `bench-${i}@example.com`);
  const sessions = await inkwell.call<Array<{ access: string }>>({ cmd: 'login', emails });
  const created = await fetch(`${base}/api/v1/rooms/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sessions[0]!.access}` },
    body: '{}',
  });
  if (created.status === 404) return 'Inkwell has no POST /api/v1/rooms/ yet; only the relay was measured';
  if (created.status !== 201) throw new Error(`creating the room answered ${created.status}: ${await created.text()}`);
  const { roomId } = (await created.json()) as { roomId: string };
  return { port, database: database ?? 'unknown', roomId, sessions };
}

async function benchInkwell(inkwell: ServerChild, room: InkwellRoom): Promise<InkwellResult> {
  const { port, roomId, sessions } = room;
  let before: TransactionCounts | undefined;
  let after: TransactionCounts | undefined;
  let stored = 0;
  const result = await runLoad({
    ...loadShape,
    url: (i) => `ws://127.0.0.1:${port}/ws?token=${encodeURIComponent(sessions[i]!.access)}`,
    join: {
      message: () => ({ type: 'join_room', roomId }),
      joined: (frame) => frame.type === 'room_state' && frame.complete === true,
    },
    drawFields: { roomId },
    onJoined: async () => {
      before = await inkwell.call<TransactionCounts>({ cmd: 'counts' });
    },
    onDrained: async () => {
      after = await inkwell.call<TransactionCounts>({ cmd: 'counts' });
      stored = await inkwell.call<number>({ cmd: 'storedDrawings', roomId });
    },
  });
  return { ...result, stored, transactions: diff(after!, before!), database: room.database };
}

function diff(a: TransactionCounts, b: TransactionCounts): TransactionCounts {
  return {
    explicit: a.explicit - b.explicit,
    autocommit: a.autocommit - b.autocommit,
    statements: a.statements - b.statements,
    writerTransactions: (a.writerTransactions ?? 0) - (b.writerTransactions ?? 0),
  };
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function row(label: string, r: LoadResult): string {
  const lost = r.sent - r.receivedPerReceiver;
  return `${label.padEnd(22)} ${f(r.deliveredPerSecond).padStart(12)} ${f(r.p50, 2).padStart(8)} ${f(r.p99, 2).padStart(8)} ${f(r.max, 1).padStart(8)} ${f(lost, 1).padStart(8)}`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const relay = config.only === 'inkwell' ? undefined : new ServerChild('relay');
  const inkwell = config.only === 'relay' ? undefined : new ServerChild('inkwell');
  const stopAll = () => Promise.all([relay?.stop(), inkwell?.stop()]);
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  const hardStop = setTimeout(() => {
    console.error(`bench: still running after ${HARD_LIMIT_MS / 1000} s; stopping`);
    void stopAll().finally(() => process.exit(1));
  }, HARD_LIMIT_MS);

  try {
    // Both servers are up and Inkwell's users logged in before anything is timed, so a start-up
    // (PGlite's initdb above all) never runs during the other's measurement.
    const [room] = await Promise.all([inkwell ? prepareInkwell(inkwell) : undefined, relay?.ready]);
    const relayResult = relay ? await benchRelay(relay) : undefined;
    await relay?.stop();
    const inkwellResult = inkwell && room ? (typeof room === 'string' ? room : await benchInkwell(inkwell, room)) : undefined;

    const receivers = config.members - config.senders;
    console.log(
      `\ndraw benchmark: ${config.senders} senders, ${config.members} members (${receivers} receivers), ` +
        `${config.rate} drawings/s for ${config.seconds} s, ${config.points} points each; latency = receipt − send at receivers, after a 1 s warm-up`,
    );
    console.log(`${''.padEnd(22)} ${'delivered/s'.padStart(12)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'lost'.padStart(8)}`);
    if (relayResult) console.log(row('(b) bare ws relay', relayResult));
    if (typeof inkwellResult === 'string') console.log(`(a) Inkwell: ${inkwellResult}`);
    else if (inkwellResult) {
      console.log(row(`(a) Inkwell ${inkwellResult.database}`, inkwellResult));
      if (relayResult) {
        console.log(`ratio a/b delivered/s: ${f(inkwellResult.deliveredPerSecond / relayResult.deliveredPerSecond, 3)}   (target ≥ 0.8)`);
        console.log(`ratio a/b p99:         ${f(inkwellResult.p99 / relayResult.p99, 2)}`);
      }
      console.log(`Inkwell p99:           ${f(inkwellResult.p99, 2)} ms   (target ≤ 15 ms)`);
      const tx = inkwellResult.transactions;
      const total = tx.explicit + tx.autocommit;
      console.log(
        `transactions per stored drawing: ${f(total / Math.max(1, inkwellResult.stored), 3)}   (target ≤ 0.1) — ` +
          `${total} transactions (${tx.explicit} begin…commit, ${tx.autocommit} single statements), ` +
          `${tx.statements} statements, ${inkwellResult.stored} drawings stored; ` +
          `the group-commit writer reports ${tx.writerTransactions} transactions`,
      );
      console.log(`seq order at receivers:  ${inkwellResult.outOfOrder === 0 ? 'strictly increasing everywhere' : `${inkwellResult.outOfOrder} frames out of order`}`);
      const problems = { ...inkwellResult.errors, ...Object.fromEntries(Object.entries(inkwellResult.closes).map(([k, v]) => [`close ${k}`, v])) };
      if (Object.keys(problems).length) console.log(`Inkwell errors/closes during the run: ${JSON.stringify(problems)}`);
    }
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
  } finally {
    await stopAll();
    clearTimeout(hardStop);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
