/**
 * `npm run bench:draw`: N senders draw into one room watched by M members, against (a) Inkwell
 * (real login, validation, persistence on PGlite in a fresh data directory (BENCH_PGLITE_DIR=memory:// for the in-memory one), or PostgreSQL with BENCH_DATABASE_URL /
 * DATABASE_URL) and (b) a bare `ws` relay, in the same run; prints delivered drawings/s,
 * p50/p99 latency from send to receipt, the ratios a/b and database transactions per drawing.
 *
 * Options (argv `--name=value` or env BENCH_NAME): senders (5), members (50), rate (1000
 * drawings/s in total), seconds (10 of measured load per server), points (8 per drawing), slices (5),
 * only (relay|inkwell).
 * Saturation: --rate=3000 (the socket rate limits and room size are already lifted for the run).
 * BENCH_ENV_<NAME>=value sets Inkwell's variable <NAME> for the run (e.g. BENCH_ENV_WS_MAX_PAYLOAD=65536).
 * BENCH_PROFILE=<dir> also writes a CPU profile of each server process into that directory.
 */
import { loadavg } from 'node:os';
import { LoadRoom, type LoadResult, sendPattern } from './load.js';
import { type Histograms, shares } from './histograms.js';
import { type LoopStats, loopRow } from './loop-monitor.js';
import { ServerChild } from './server-child.js';
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
  /** The measured load is cut into this many bursts per server, taken in turns (see main()). */
  slices: option('slices', 5),
  only: option('only', ''),
};
// A run stops by itself: 180 s at the default 10 s of load (set-up is slow on a busy machine), more only when asked for a longer load.
const HARD_LIMIT_MS = Math.max(180, 2 * config.seconds + 60) * 1000;
const WARMUP_SECONDS = 1;
const DRAIN_MS = 3000;
if (config.members <= config.senders) throw new Error('members must be more than senders (members include the senders)');

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

const shape = { members: config.members, senders: config.senders, points: config.points };

function openRelayRoom(port: number): Promise<LoadRoom> {
  return LoadRoom.open({ ...shape, url: () => `ws://127.0.0.1:${port}/`, drawFields: {} });
}

function openInkwellRoom(room: InkwellRoom): Promise<LoadRoom> {
  return LoadRoom.open({
    ...shape,
    url: (i) => `ws://127.0.0.1:${room.port}/ws?token=${encodeURIComponent(room.sessions[i]!.access)}`,
    join: {
      message: () => ({ type: 'join_room', roomId: room.roomId }),
      joined: (frame) => frame.type === 'room_state' && frame.complete === true && frame.roomId === room.roomId,
    },
    drawFields: { roomId: room.roomId },
  });
}

function diff(a: TransactionCounts, b: TransactionCounts): TransactionCounts {
  return {
    explicit: a.explicit - b.explicit,
    autocommit: a.autocommit - b.autocommit,
    statements: a.statements - b.statements,
    threadBatches: a.threadBatches - b.threadBatches,
    writerTransactions: (a.writerTransactions ?? 0) - (b.writerTransactions ?? 0),
  };
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function row(label: string, r: LoadResult): string {
  const lost = r.sent - r.receivedPerReceiver;
  return `${label.padEnd(30)} ${f(r.deliveredPerSecond).padStart(12)} ${f(r.p50, 2).padStart(8)} ${f(r.p99, 2).padStart(8)} ${f(r.max, 1).padStart(8)} ${f(lost, 1).padStart(8)}`;
}

function report(relay: LoadResult | undefined, inkwell: LoadResult | undefined, db: { database: string; stored: number; tx: TransactionCounts } | undefined, note?: string): void {
  const receivers = config.members - config.senders;
  console.log(
    `\nload average while measuring (the machine is shared): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `draw benchmark: ${config.senders} senders, ${config.members} members (${receivers} receivers), ` +
      `${config.rate} drawings/s, ${config.points} points each, ${config.seconds} s measured per server in ${config.slices} alternating bursts ` +
      `after a ${WARMUP_SECONDS} s warm-up; latency = receipt − send at every receiver; ${sendPattern}`,
  );
  console.log(`${''.padEnd(30)} ${'delivered/s'.padStart(12)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'lost'.padStart(8)}`);
  if (relay) console.log(row('(b) bare ws relay', relay));
  if (note) console.log(`(a) Inkwell: ${note}`);
  if (!inkwell || !db) return;
  console.log(row(`(a) Inkwell ${db.database}`, inkwell));
  // Saturation is a run at 3,000 drawings/s or more (--rate=3000); the latency targets are for 1,000/s.
  const saturation = config.rate >= 3000;
  if (relay) {
    console.log(`ratio a/b delivered/s: ${f(inkwell.deliveredPerSecond / relay.deliveredPerSecond, 3)}   (target ≥ ${saturation ? '0.95 at saturation' : '0.99'})`);
    console.log(`ratio a/b p99:         ${f(inkwell.p99 / relay.p99, 2)}`);
    console.log(`Inkwell p50 − relay p50: ${f(inkwell.p50 - relay.p50, 2)} ms   (target ≤ 3 ms at 1,000/s)`);
  }
  console.log(`Inkwell p99:           ${f(inkwell.p99, 2)} ms   (target ≤ 10 ms at 1,000/s)`);
  const total = db.tx.explicit + db.tx.autocommit;
  console.log(
    `transactions per stored drawing: ${f(total / Math.max(1, db.stored), 3)}   (target ≤ ${saturation ? '0.05 at saturation' : '0.25 at 1,000/s'}) — ` +
      `${total} transactions (${db.tx.explicit - db.tx.threadBatches} begin…commit, ${db.tx.autocommit} single statements` +
      `${db.tx.threadBatches ? `, ${db.tx.threadBatches} batches run whole in the database's thread, each one statement or one begin…commit` : ''}), ` +
      `${db.tx.statements} statements seen here, ${db.stored} drawings stored; ` +
      `the group-commit writer reports ${db.tx.writerTransactions} transactions`,
  );
  console.log(`seq order at receivers:  ${inkwell.outOfOrder === 0 ? 'strictly increasing everywhere' : `${inkwell.outOfOrder} frames out of order`}`);
  const problems = { ...inkwell.errors, ...Object.fromEntries(Object.entries(inkwell.closes).map(([k, v]) => [`close ${k}`, v])) };
  if (Object.keys(problems).length) console.log(`Inkwell errors/closes during the run: ${JSON.stringify(problems)}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const relay = config.only === 'inkwell' ? undefined : new ServerChild('relay');
  const inkwell = config.only === 'relay' ? undefined : new ServerChild('inkwell');
  const rooms: LoadRoom[] = [];
  const stopAll = () => {
    for (const room of rooms) room.close();
    return Promise.all([relay?.stop(), inkwell?.stop()]);
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  const hardStop = setTimeout(() => {
    console.error(`bench: still running after ${HARD_LIMIT_MS / 1000} s; stopping`);
    void stopAll().finally(() => process.exit(1));
  }, HARD_LIMIT_MS);

  try {
    // Both servers are up, Inkwell's users logged in and every member joined before anything is
    // timed, so a start-up (PGlite's initdb above all) never runs during a measurement.
    const [prepared, relayReady] = await Promise.all([inkwell ? prepareInkwell(inkwell) : undefined, relay?.ready]);
    const inkwellRoom = typeof prepared === 'object' ? prepared : undefined;
    const relayLoad = relayReady ? await openRelayRoom(relayReady.port) : undefined;
    const inkwellLoad = inkwellRoom ? await openInkwellRoom(inkwellRoom) : undefined;
    rooms.push(...[relayLoad, inkwellLoad].filter((r): r is LoadRoom => r !== undefined));

    for (const room of rooms) await room.burst(config.rate, WARMUP_SECONDS, DRAIN_MS, false);
    const storedBefore = inkwellRoom ? await inkwell!.call<number>({ cmd: 'storedDrawings', roomId: inkwellRoom.roomId }) : 0;
    const before = inkwellRoom ? await inkwell!.call<TransactionCounts>({ cmd: 'counts' }) : undefined;
    const histogramsBefore = inkwellRoom ? await inkwell!.call<Histograms>({ cmd: 'histograms' }) : undefined;
    // The machine is shared: taking the two servers in turns, in short bursts, lets both see the
    // same background load instead of one getting a quiet ten seconds and the other a busy one.
    const servers = new Map<LoadRoom, ServerChild>();
    if (relayLoad && relay) servers.set(relayLoad, relay);
    if (inkwellLoad && inkwell) servers.set(inkwellLoad, inkwell);
    const measuredLoops = new Map<LoadRoom, { label: string; bursts: LoopStats[] }>();
    for (const [room, server] of servers) measuredLoops.set(room, { label: server === relay ? '(b) relay' : '(a) Inkwell', bursts: [] });
    for (let slice = 0; slice < config.slices; slice++) {
      const order = slice % 2 === 0 ? rooms : [...rooms].reverse();
      for (const room of order) {
        const server = servers.get(room)!;
        await server.call({ cmd: 'loop', reset: true });
        await room.burst(config.rate, config.seconds / config.slices, DRAIN_MS, true);
        measuredLoops.get(room)!.bursts.push(await server.call<LoopStats>({ cmd: 'loop', reset: true }));
      }
    }
    const after = inkwellRoom ? await inkwell!.call<TransactionCounts>({ cmd: 'counts' }) : undefined;
    const histogramsAfter = inkwellRoom ? await inkwell!.call<Histograms>({ cmd: 'histograms' }) : undefined;
    const storedAfter = inkwellRoom ? await inkwell!.call<number>({ cmd: 'storedDrawings', roomId: inkwellRoom.roomId }) : 0;

    const db = inkwellRoom && before && after ? { database: inkwellRoom.database, stored: storedAfter - storedBefore, tx: diff(after, before) } : undefined;
    report(relayLoad?.result(), inkwellLoad?.result(), db, typeof prepared === 'string' ? prepared : undefined);
    console.log('server processes during the measured bursts (worst burst; GC summed over the bursts):');
    for (const { label, bursts } of measuredLoops.values()) console.log(loopRow(label, bursts));
    if (histogramsBefore && histogramsAfter) {
      console.log("Inkwell's own histograms over the measured bursts (its /metrics):");
      console.log(`  receipt of a write → its event handed to every socket: ${shares(histogramsBefore.deliver, histogramsAfter.deliver)}`);
      console.log(`  group-commit transaction, start → commit:            ${shares(histogramsBefore.commit, histogramsAfter.commit)}`);
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
