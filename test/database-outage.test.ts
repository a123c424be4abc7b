import pg from 'pg';
import t, { type Test } from 'tap';
import { sql } from 'kysely';
import { proxyInFront, type FaultProxy } from './helpers/fault-proxy.js';
import { request } from './helpers/http.js';
import { persistentDatabase, startServer, type TestServer } from './helpers/server.js';
import { createRoom, joined, line, newUser, nothingMore } from './whiteboard/fixtures.js';

const pgUrl = process.env.TEST_DATABASE_URL;
const needsPostgres = pgUrl ? false : 'an outage of a database server needs PostgreSQL (TEST_DATABASE_URL)';
// Never sent to the server (trust authentication), but it is in DATABASE_URL: it must not reach the log.
const PASSWORD = 'outage-secret-pw';

/** Milliseconds until GET /ready answers `status`. */
async function readyBecomes(server: TestServer, status: number): Promise<number> {
  const start = performance.now();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const res = await request(server, 'GET', '/ready');
    if (res.status === status) return Math.round(performance.now() - start);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`/ready never answered ${status}`);
}

/** A server whose every PostgreSQL connection goes through a fault proxy. */
async function serverBehindProxy(t: Test): Promise<{ server: TestServer; proxy: FaultProxy }> {
  const { proxy, url: proxied } = await proxyInFront(pgUrl!, 5432);
  proxied.password = PASSWORD;
  const server = await startServer(t, { env: { DATABASE_URL: proxied.href, DATABASE_TIMEOUT: '1s' } });
  // Restore before the server closes (teardowns run in order), so it can drop its schema.
  t.teardown(async () => {
    proxy.restore();
    await server.close();
    await proxy.close();
  });
  return { server, proxy };
}

/** Two members of one room, joined, with one drawing stored before anything fails. */
async function roomWithTwo(server: TestServer) {
  const alice = await newUser(server, 'alice');
  const bob = await newUser(server, 'bob');
  const roomId = await createRoom(server, alice);
  const a = await joined(server, alice, roomId);
  const b = await joined(server, bob, roomId);
  a.sock.send(line(roomId, { clientRef: 'before' }));
  const before = await a.sock.next((m) => m.type === 'draw' && m.clientRef === 'before');
  await b.sock.next((m) => m.type === 'draw' && m.drawing.id === before.drawing.id);
  return { alice, bob, roomId, a: a.sock, b: b.sock, before };
}

/** What a fresh joiner sees: the clientRefs are not sent to others, so compare drawing ids. */
async function storedIds(server: TestServer, session: Awaited<ReturnType<typeof newUser>>, roomId: string): Promise<string[]> {
  const { sock, state } = await joined(server, session, roomId);
  await sock.close();
  return state.drawings.map((d: { id: string }) => d.id);
}

function checkLog(t: Test, server: TestServer): void {
  const lines = server.logs.lines();
  const lost = lines.find((l) => l.msg === 'database connection lost');
  const back = lines.find((l) => l.msg === 'database connection restored');
  t.equal(lost?.level, 40, 'the loss is logged once at warn');
  t.equal(lines.filter((l) => l.msg === 'database connection lost').length, 1, 'once per outage, not per query');
  t.equal(back?.level, 30, 'the recovery is logged at info');
  t.equal(lines.filter((l) => l.msg === 'database connection restored').length, 1, 'once per outage too');
  t.notOk(server.logs.text().includes(PASSWORD), 'the DATABASE_URL password never reaches the log');
}

t.test('PostgreSQL cut off: the server stays up, refuses writes with an error, and recovers', { skip: needsPostgres }, async (t) => {
  const { server, proxy } = await serverBehindProxy(t);
  const { alice, roomId, a, b, before } = await roomWithTwo(server);

  proxy.cut();
  const to503 = await readyBecomes(server, 503);
  a.send(line(roomId, { clientRef: 'during' }));
  const err = await a.next((m) => m.type === 'error' && m.ref === 'during', 15_000);
  t.match(err, { code: 'internal', roomId }, 'a write during the outage gets an error frame');
  t.same(await nothingMore(b, (m) => m.type === 'draw'), [], 'nothing unstored is broadcast');
  t.equal((await request(server, 'GET', '/health')).status, 200, 'the process is alive');

  proxy.restore();
  const to200 = await readyBecomes(server, 200);
  a.send(line(roomId, { clientRef: 'after' }));
  const after = await a.next((m) => m.type === 'draw' && m.clientRef === 'after', 15_000);
  t.equal(after.seq, before.seq + 1, 'the failed write took no seq');
  await b.next((m) => m.type === 'draw' && m.drawing.id === after.drawing.id);
  t.same(await storedIds(server, alice, roomId), [before.drawing.id, after.drawing.id], 'exactly the acknowledged drawings are stored');
  checkLog(t, server);
  t.comment(`cut: /ready 503 after ${to503} ms; 200 again ${to200} ms after restore; the writer answered "${err.code}": ${err.message}`);
  await a.close();
  await b.close();
});

t.test(
  'a long outage: every write gets its error frame and every request its 500, the log one error line for each kind and one count when it is back',
  { skip: needsPostgres },
  async (t) => {
    const { server, proxy } = await serverBehindProxy(t);
    const { alice, roomId, a, b, before } = await roomWithTwo(server);

    proxy.cut();
    await readyBecomes(server, 503);
    const WRITES = 12;
    for (let i = 0; i < WRITES; i++) {
      a.send(line(roomId, { clientRef: `o${i}` }));
      t.match(await a.next((m) => m.type === 'error' && m.ref === `o${i}`, 15_000), { code: 'internal' }, `write ${i} answered`);
    }
    const REQUESTS = 5;
    for (let i = 0; i < REQUESTS; i++) t.equal((await request(server, 'GET', '/api/v1/rooms', { token: alice.access })).status, 500, `request ${i} answered 500`);
    const errors = server.logs.lines().filter((l) => l.level >= 50);
    t.same(
      errors.map((l) => l.msg),
      [
        'room writes refused: the database does not answer (once per outage; the count follows when it is back)',
        'requests failed: the database does not answer (one line a minute)',
      ],
      `${WRITES} refused writes and ${REQUESTS} failed requests: one error line each`,
    );

    proxy.restore();
    await readyBecomes(server, 200);
    a.send(line(roomId, { clientRef: 'back' }));
    const back = await a.next((m) => m.type === 'draw' && m.clientRef === 'back', 15_000);
    t.equal(back.seq, before.seq + 1);
    const summary = JSON.parse(await server.logs.waitFor(/room writes are stored again/));
    t.match(summary, { level: 30, refusedWrites: WRITES, downMs: Number }, 'the count, at info, when writes are stored again');
    t.equal(server.logs.lines().filter((l) => l.level >= 50).length, 2, 'still those two');
    checkLog(t, server);
    await a.close();
    await b.close();
  },
);

t.test('PostgreSQL hangs: writes fail within the database timeout, the writer does not wedge', { skip: needsPostgres }, async (t) => {
  const { server, proxy } = await serverBehindProxy(t);
  const { alice, roomId, a, b, before } = await roomWithTwo(server);

  proxy.stall();
  const to503 = await readyBecomes(server, 503);
  const refs = ['s1', 's2', 's3'];
  const started = performance.now();
  for (const ref of refs) a.send(line(roomId, { clientRef: ref }));
  for (const ref of refs) {
    const err = await a.next((m) => m.type === 'error' && m.ref === ref, 20_000);
    t.equal(err.code, 'internal', `${ref} is refused with an error frame`);
  }
  const refusedIn = Math.round(performance.now() - started);
  t.same(await nothingMore(b, (m) => m.type === 'draw'), [], 'nothing unstored is broadcast');

  proxy.restore();
  const to200 = await readyBecomes(server, 200);
  a.send(line(roomId, { clientRef: 's1' }));
  const again = await a.next((m) => m.type === 'draw' && m.clientRef === 's1', 15_000);
  t.equal(again.seq, before.seq + 1, 'the retried write is stored once, next in order');
  await b.next((m) => m.type === 'draw' && m.drawing.id === again.drawing.id);
  t.same(await storedIds(server, alice, roomId), [before.drawing.id, again.drawing.id]);
  checkLog(t, server);
  t.comment(`stall: /ready 503 after ${to503} ms; 3 queued writes refused after ${refusedIn} ms; 200 again ${to200} ms after restore`);
  await a.close();
  await b.close();
});

t.test("pg_terminate_backend of the server's connections: it stays up and carries on", { skip: needsPostgres }, async (t) => {
  const database = persistentDatabase(t);
  const server = await startServer(t, { database });
  const { roomId, a, b, before } = await roomWithTwo(server);

  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  t.teardown(() => admin.end());
  // Only this test's connections: the application name carries its schema.
  const { rowCount } = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [`inkwell ${database.schema}`]);
  t.ok(rowCount! >= 1, `terminated ${rowCount} connection(s)`);
  await server.logs.waitFor(/database connection lost/, 10_000);

  t.equal((await request(server, 'GET', '/ready')).status, 200, 'ready again on a new connection');
  a.send(line(roomId, { clientRef: 'after' }));
  const after = await a.next((m) => m.type === 'draw' && m.clientRef === 'after', 15_000);
  t.equal(after.seq, before.seq + 1);
  await b.next((m) => m.type === 'draw' && m.drawing.id === after.drawing.id);
  await a.close();
  await b.close();
});

t.test('embedded database: a failing query refuses writes with an error frame and broadcasts nothing', async (t) => {
  const server = await startServer(t);
  const { alice, roomId, a, b, before } = await roomWithTwo(server);
  await sql`alter table drawings rename to drawings_away`.execute(server.app.db);
  for (const ref of ['f1', 'f2']) a.send(line(roomId, { clientRef: ref }));
  for (const ref of ['f1', 'f2']) t.match(await a.next((m) => m.type === 'error' && m.ref === ref), { code: 'internal' });
  t.same(await nothingMore(b, (m) => m.type === 'draw'), [], 'nothing unstored is broadcast');
  await sql`alter table drawings_away rename to drawings`.execute(server.app.db);
  a.send(line(roomId, { clientRef: 'f1' }));
  const again = await a.next((m) => m.type === 'draw' && m.clientRef === 'f1');
  t.equal(again.seq, before.seq + 1);
  t.same(await storedIds(server, alice, roomId), [before.drawing.id, again.drawing.id]);
  await a.close();
  await b.close();
});
