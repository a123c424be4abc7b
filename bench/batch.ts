/**
 * `npm run bench:batch`: what one batch of new drawings costs the database, with no server, socket or
 * load generator around it: the writer's one-statement way (BatchStore.commit) against the locked
 * transaction (begin, lock and reads, write, commit: BatchStore.apply in a transaction), which is
 * the baseline, in alternating rounds in one process. On the embedded PGlite in this process's
 * thread (its engine's own time), or on PostgreSQL with BENCH_DATABASE_URL (a schema of its own,
 * dropped afterwards). Options: --rounds=4, --batches=300 per size and round. Also prints each
 * batch's p50/p99/max beside the database's bare commit (a one-row update), the tail's baseline.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../src/db/connect.js';
import type { Database } from '../src/db/types.js';
import { inProcessBatches } from '../src/whiteboard/batch-runners.js';
import { BatchStore } from '../src/whiteboard/batch-store.js';
import { shapeOf } from '../src/whiteboard/drawing.js';
import type { WriteOp } from '../src/whiteboard/write-ops.js';

const option = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const rounds = option('rounds', 4);
const batches = option('batches', 300);
const SIZES = [1, 3, 20];

async function open(): Promise<{ db: Kysely<Database>; label: string; close(): Promise<void> }> {
  const url = process.env.BENCH_DATABASE_URL;
  if (url) {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema}` });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    await sql`create schema ${sql.id(schema)}`.execute(db);
    await migrateToLatest(db, schema);
    return {
      db,
      label: 'PostgreSQL',
      close: async () => {
        await sql`drop schema ${sql.id(schema)} cascade`.execute(db);
        await db.destroy();
      },
    };
  }
  const [{ PGlite }, { PGliteDialect }] = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')]);
  // A data directory on disk, as `npm start` runs it: memory:// grows each file by copying it.
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-bench-'));
  const client = await PGlite.create(dir);
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
  await migrateToLatest(db);
  return {
    db,
    label: 'PGlite (in this thread, a directory)',
    close: async () => {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const { db, label, close } = await open();
const userId = randomUUID();
await db
  .insertInto('users')
  .values({ id: userId, email: `bench-${userId}@example.com`, name: 'Bench', created_at: new Date() })
  .execute();
const roomId = randomUUID();
await db.insertInto('rooms').values({ id: roomId, admin_id: userId, created_at: new Date() }).execute();
const store = new BatchStore({ maxRoomDrawings: 10_000_000 });
const runner = inProcessBatches(db, { maxRoomDrawings: 10_000_000 });
const points = Array.from({ length: 8 }, (_, i) => ({ x: i * 10, y: i * 5 }));
const ops = (n: number): WriteOp[] =>
  Array.from({ length: n }, () => ({ kind: 'draw', roomId, userId, userName: 'Bench', shape: shapeOf({ shapeType: 'line', points }), clientRef: randomUUID() }));

const ways = {
  locked: (o: WriteOp[]) => db.transaction().execute((trx) => store.apply(trx, o, new Date())),
  // What the server runs: the one statement, or the locked transaction when it does not apply.
  'one statement': (o: WriteOp[]) => runner.run(o, new Date()),
};
const times = new Map<string, number[]>();
// Every counted batch's own wall time, for the tail: the mean hides what a drawing waits at p99.
const each = new Map<string, number[]>();
const timed = async (key: string, counted: boolean, run: () => Promise<unknown>) => {
  const t = performance.now();
  await run();
  if (counted) (each.get(key) ?? each.set(key, []).get(key)!).push(performance.now() - t);
};
// The baseline for the tail: the database's own commit, a one-row update of the room that changes nothing.
const bareCommit = () => sql`update rooms set seq = seq where id = ${roomId}`.execute(db);
// This process's CPU time: on PGlite that is the engine's own work, which other load on the machine does not lengthen.
const cpuTimes = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < batches; i++) await timed('bare commit', round > 0, bareCommit);
  for (const size of SIZES) {
    for (const [way, run] of Object.entries(ways)) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      for (let i = 0; i < batches; i++) await timed(`${size}|${way}`, round > 0, () => run(ops(size)));
      const used = process.cpuUsage(cpu);
      const key = `${size}|${way}`;
      // The first round warms the engine and the plans up: not counted.
      if (round > 0) {
        (times.get(key) ?? times.set(key, []).get(key)!).push((performance.now() - started) / batches);
        (cpuTimes.get(key) ?? cpuTimes.set(key, []).get(key)!).push((used.user + used.system) / 1000 / batches);
      }
    }
  }
}
const count = await db
  .selectFrom('drawings')
  .select((e) => e.fn.countAll<number>().as('n'))
  .executeTakeFirstOrThrow();
const seq = await db.selectFrom('rooms').select('seq').where('id', '=', roomId).executeTakeFirstOrThrow();
await close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`bench:batch on ${label}: ${batches} batches per size, way and round; ${rounds - 1} rounds counted (medians of the rounds)`);
console.log('drawings a batch | wall: locked transaction (b) | one statement (a) | a/b | CPU of this process: (b) | (a) | a/b');
const cell = (ms: number, width: number) => `${ms.toFixed(3).padStart(width)} ms`;
for (const size of SIZES) {
  const [b, a] = [median(times.get(`${size}|locked`)!), median(times.get(`${size}|one statement`)!)];
  const [cb, ca] = [median(cpuTimes.get(`${size}|locked`)!), median(cpuTimes.get(`${size}|one statement`)!)];
  console.log(`${String(size).padStart(16)} | ${cell(b, 25)} | ${cell(a, 14)} | ${(a / b).toFixed(2)} | ${cell(cb, 21)} | ${cell(ca, 6)} | ${(ca / cb).toFixed(2)}`);
}
const tail = (key: string) => {
  const d = [...each.get(key)!].sort((x, y) => x - y);
  const at = (p: number) => d[Math.min(d.length - 1, Math.floor(p * d.length))]!.toFixed(2);
  return `p50 ${at(0.5)} / p99 ${at(0.99)} / p99.9 ${at(0.999)} / max ${d.at(-1)!.toFixed(1)} ms`;
};
console.log('each batch alone, one after another (what a drawing waits for, in the worst case two of them):');
console.log(`  bare commit (a one-row update, the database's own cost): ${tail('bare commit')}`);
for (const size of SIZES) {
  console.log(`  ${String(size).padStart(2)} drawings: locked ${tail(`${size}|locked`)}; one statement ${tail(`${size}|one statement`)}`);
}
console.log(
  `stored ${Number(count.n)} drawings, room seq ${seq.seq} (equal: nothing lost or doubled); load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
