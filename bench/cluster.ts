/**
 * `npm run bench:cluster`: one room served by two Inkwell instances (separate processes on one
 * PostgreSQL schema and one Redis), its members spread over both, against one instance alone, in
 * the same run and in alternating bursts. Prints delivered drawings/s and the ratio cluster/one,
 * p50/p99 from send to receipt (and across instances: sender on one, receiver on the other), Redis
 * commands and transactions per drawing, the CPU of the servers and of the load generator, each
 * server's event loop and GC, Inkwell's commit, fan-out and ordering-wait histograms, and the load average.
 *
 * Options (argv `--name=value` or env BENCH_NAME): senders (20), receivers (50), rate (1000
 * drawings/s in all), seconds (10 measured per set-up), slices (5), points (8).
 * BENCH_DATABASE_URL (default the local postgres://postgres@127.0.0.1:5432/test) and
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379): each run uses schemas and a key prefix of its own.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { type Histograms, shares, summed } from './histograms.js';
import { LoadRoom, type LoadResult, sendPattern } from './load.js';
import { type LoopStats, loopRow, worst } from './loop-monitor.js';
import { ServerChild } from './server-child.js';

function option(name: string, fallback: number): number {
  const raw = process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? process.env[`BENCH_${name.toUpperCase()}`];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got "${raw}")`);
  return n;
}

const config = {
  senders: option('senders', 20),
  receivers: option('receivers', 50),
  rate: option('rate', 1000),
  seconds: option('seconds', 10),
  slices: option('slices', 5),
  points: option('points', 8),
};
const databaseUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const members = config.senders + config.receivers;
const HARD_LIMIT_MS = Math.max(240, 2 * config.seconds + 120) * 1000;
const WARMUP_SECONDS = 1;
const DRAIN_MS = 3000;

interface Counts {
  redisCommands: number;
  /** Transactions the instance's group-commit writer ran. */
  writerTransactions: number;
}

/** What was counted over the measured bursts, per drawing sent. */
interface PerDrawing {
  redisCommands: number;
  transactionsOne: number;
  transactionsTwo: number;
  /** The load generator's CPU, ms (this process shares the cores with what it measures). */
  generatorCpuOne: number;
  generatorCpuTwo: number;
}

/** Logins (on the first server) for every member and a room made by the first of them. */
async function prepare(server: ServerChild, port: number) {
  const emails = Array.from({ length: members }, (_, i) => `bench-cluster-${i}@example.com`);
  const sessions = await server.call<Array<{ access: string }>>({ cmd: 'login', emails });
  const created = await fetch(`http://127.0.0.1:${port}/api/v1/rooms/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sessions[0]!.access}` },
    body: '{}',
  });
  if (created.status !== 201) throw new Error(`creating the room answered ${created.status}: ${await created.text()}`);
  const { roomId } = (await created.json()) as { roomId: string };
  return { roomId, sessions };
}

/** The room's members, member i on ports[i % ports.length]. */
function openRoom(ports: number[], room: { roomId: string; sessions: Array<{ access: string }> }): Promise<LoadRoom> {
  const serverOf = (i: number) => i % ports.length;
  return LoadRoom.open({
    members,
    senders: config.senders,
    points: config.points,
    url: (i) => `ws://127.0.0.1:${ports[serverOf(i)]}/ws?token=${encodeURIComponent(room.sessions[i]!.access)}`,
    join: {
      message: () => ({ type: 'join_room', roomId: room.roomId }),
      joined: (frame) => frame.type === 'room_state' && frame.complete === true && frame.roomId === room.roomId,
    },
    drawFields: { roomId: room.roomId },
    ...(ports.length > 1 ? { serverOf } : {}),
  });
}

const f = (n: number | undefined, digits = 1) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Each set-up's server processes over the measured bursts. */
type Loops = Array<{ label: string; bursts: LoopStats[] }>;

/** Each set-up's histograms before and after the measured bursts (the two instances summed). */
type HistogramWindow = { one: [Histograms, Histograms]; two: [Histograms, Histograms] };

function report(one: LoadResult, two: LoadResult, perDrawing: PerDrawing, loadBefore: string, loops: { one: Loops; two: Loops }, h: HistogramWindow): void {
  console.log(`\nload average before / after measuring (the machine is shared): ${loadBefore} / ${load()}`);
  console.log(
    `cluster benchmark: ${config.senders} senders and ${config.receivers} receivers in one room, ${config.rate} drawings/s in all, ` +
      `${config.points} points each, ${config.seconds} s measured per set-up in ${config.slices} alternating bursts; PostgreSQL, latency = receipt − send at every receiver; ${sendPattern}`,
  );
  const head = `${''.padEnd(34)} ${'delivered/s'.padStart(12)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'lost'.padStart(8)}`;
  console.log(head);
  const row = (label: string, r: LoadResult) =>
    `${label.padEnd(34)} ${f(r.deliveredPerSecond).padStart(12)} ${f(r.p50, 2).padStart(8)} ${f(r.p99, 2).padStart(8)} ${f(r.max).padStart(8)} ${f(r.sent - r.receivedPerReceiver).padStart(8)}`;
  console.log(row('(b) one instance', one));
  console.log(row('(a) two instances + Redis, all', two));
  console.log(`${'(a) … sender and receiver apart'.padEnd(34)} ${''.padStart(12)} ${f(two.crossP50, 2).padStart(8)} ${f(two.crossP99, 2).padStart(8)}`);
  console.log(`delivered a/b:              ${f(two.deliveredPerSecond / one.deliveredPerSecond, 3)}   (target ≥ 0.95)`);
  console.log(`p99 across instances − b:   ${f((two.crossP99 ?? Number.NaN) - one.p99, 2)} ms   (target ≤ 5 ms)`);
  console.log(`p99 all receivers − b:      ${f(two.p99 - one.p99, 2)} ms`);
  console.log(
    `Redis commands per drawing: ${f(perDrawing.redisCommands, 3)}   (sent by both instances: a PUBLISH per commit and per message of forwarded writes, presence and lease scripts)`,
  );
  console.log(
    `transactions per drawing:   ${f(perDrawing.transactionsOne, 3)} one instance, ${f(perDrawing.transactionsTwo, 3)} two instances together (each commit is one write to every socket of the room)`,
  );
  // The servers' CPU per drawing, every thread of every process of the set-up (not PostgreSQL's or Redis's).
  const cpuPerDrawing = (set: Loops, r: LoadResult) => set.reduce((n, s) => n + (worst(s.bursts)?.cpuMs ?? 0), 0) / Math.max(1, r.sent);
  const [cpuOne, cpuTwo] = [cpuPerDrawing(loops.one, one), cpuPerDrawing(loops.two, two)];
  console.log(`server CPU per drawing:     ${f(cpuOne, 3)} ms one instance, ${f(cpuTwo, 3)} ms two instances together (${f(cpuTwo / cpuOne, 2)}×)`);
  console.log(`load generator CPU per drawing: ${f(perDrawing.generatorCpuOne, 3)} ms (one instance), ${f(perDrawing.generatorCpuTwo, 3)} ms (two)`);
  console.log('server processes during the measured bursts (worst burst; GC and CPU summed over the bursts):');
  for (const { label, bursts } of [...loops.one, ...loops.two]) console.log(loopRow(label, bursts));
  console.log("Inkwell's own histograms over the measured bursts (its /metrics; two instances summed):");
  console.log(`  group-commit transaction, start → commit, one instance:   ${shares(h.one[0].commit, h.one[1].commit)}`);
  console.log(`  group-commit transaction, start → commit, two instances:  ${shares(h.two[0].commit, h.two[1].commit)}`);
  console.log(`  receipt of a write → handed to its instance's sockets, one: ${shares(h.one[0].deliver, h.one[1].deliver)}`);
  console.log(`  receipt of a write → handed to its instance's sockets, two: ${shares(h.two[0].deliver, h.two[1].deliver)}`);
  console.log(`  an event reaching an instance → delivered there in seq order, two: ${shares(h.two[0].order, h.two[1].order, 0.0005)}`);
  for (const [label, r] of [
    ['one instance', one],
    ['two instances', two],
  ] as const) {
    console.log(`seq order at receivers (${label}): ${r.outOfOrder === 0 ? 'strictly increasing everywhere' : `${r.outOfOrder} frames out of order`}`);
    const problems = { ...r.errors, ...Object.fromEntries(Object.entries(r.closes).map(([k, v]) => [`close ${k}`, v])) };
    if (Object.keys(problems).length) console.log(`errors/closes (${label}): ${JSON.stringify(problems)}`);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const tag = randomBytes(5).toString('hex');
  const shared = {
    BENCH_DATABASE_URL: databaseUrl,
    BENCH_SCHEMA: `bench_cluster_${tag}`,
    BENCH_ENV_REDIS_URL: redisUrl,
    BENCH_ENV_REDIS_KEY_PREFIX: `bench:${tag}:`,
    // Both instances must accept the same tokens.
    BENCH_ENV_JWT_SECRET: randomBytes(32).toString('hex'),
  };
  const single = new ServerChild('inkwell', { BENCH_DATABASE_URL: databaseUrl });
  const first = new ServerChild('inkwell', shared);
  const children = [single, first];
  const rooms: LoadRoom[] = [];
  const stopAll = async () => {
    for (const room of rooms) room.close();
    // The instance that drops the shared schema goes last.
    await Promise.all(children.filter((c) => c !== first).map((c) => c.stop()));
    await first.stop();
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  const hardStop = setTimeout(() => {
    console.error(`bench: still running after ${HARD_LIMIT_MS / 1000} s; stopping`);
    void stopAll().finally(() => process.exit(1));
  }, HARD_LIMIT_MS);

  try {
    // The first cluster instance runs the migrations before the second starts.
    const firstReady = await first.ready;
    const second = new ServerChild('inkwell', { ...shared, BENCH_KEEP_SCHEMA: '1' });
    children.push(second);
    const [secondReady, singleReady] = await Promise.all([second.ready, single.ready]);
    const oneRoom = await openRoom([singleReady.port], await prepare(single, singleReady.port));
    const twoRoom = await openRoom([firstReady.port, secondReady.port], await prepare(first, firstReady.port));
    rooms.push(oneRoom, twoRoom);

    for (const room of rooms) await room.burst(config.rate, WARMUP_SECONDS, DRAIN_MS, false);
    const loadBefore = load();
    // The same command to every server: the one instance's answer, then the two cluster instances'.
    const askAll = async <T>(cmd: 'counts' | 'histograms') => {
      const [one, ...two] = await Promise.all([single, first, second].map((c) => c.call<T>({ cmd })));
      return { one: one!, two };
    };
    const counts = async () => {
      const { one, two } = await askAll<Counts>('counts');
      const sum = (k: keyof Counts) => two.reduce((n, c) => n + c[k], 0);
      return { redisCommands: sum('redisCommands'), transactionsOne: one.writerTransactions, transactionsTwo: sum('writerTransactions') };
    };
    const countsBefore = await counts();
    const histograms = async () => {
      const { one, two } = await askAll<Histograms>('histograms');
      return { one, two: summed(two) };
    };
    const histogramsBefore = await histograms();
    // Each set-up's server processes, watched during its own bursts.
    const watched = (entries: Array<[ServerChild, string]>) => entries.map(([server, label]) => ({ server, label, bursts: [] as LoopStats[] }));
    const loops = {
      one: watched([[single, '(b) one instance']]),
      two: watched([
        [first, '(a) first instance'],
        [second, '(a) second instance'],
      ]),
    };
    const serversOf = new Map([
      [oneRoom, loops.one],
      [twoRoom, loops.two],
    ]);
    // The load generator (this process) shares the cores with the servers: its own CPU per set-up.
    const generatorCpuMs = new Map<LoadRoom, number>();
    for (let slice = 0; slice < config.slices; slice++) {
      const order = slice % 2 === 0 ? rooms : [...rooms].reverse();
      for (const room of order) {
        const servers = serversOf.get(room)!;
        await Promise.all(servers.map(({ server }) => server.call({ cmd: 'loop', reset: true })));
        const cpu = process.cpuUsage();
        await room.burst(config.rate, config.seconds / config.slices, DRAIN_MS, true);
        const used = process.cpuUsage(cpu);
        generatorCpuMs.set(room, (generatorCpuMs.get(room) ?? 0) + (used.user + used.system) / 1000);
        for (const { server, bursts } of servers) bursts.push(await server.call<LoopStats>({ cmd: 'loop', reset: true }));
      }
    }
    const countsAfter = await counts();
    const histogramsAfter = await histograms();
    const [one, two] = [oneRoom.result(), twoRoom.result()];
    const counted = (k: keyof Awaited<ReturnType<typeof counts>>, r: LoadResult) => (countsAfter[k] - countsBefore[k]) / Math.max(1, r.sent);
    report(
      one,
      two,
      {
        redisCommands: counted('redisCommands', two),
        transactionsOne: counted('transactionsOne', one),
        transactionsTwo: counted('transactionsTwo', two),
        generatorCpuOne: (generatorCpuMs.get(oneRoom) ?? 0) / Math.max(1, one.sent),
        generatorCpuTwo: (generatorCpuMs.get(twoRoom) ?? 0) / Math.max(1, two.sent),
      },
      loadBefore,
      loops,
      { one: [histogramsBefore.one, histogramsAfter.one], two: [histogramsBefore.two, histogramsAfter.two] },
    );
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
