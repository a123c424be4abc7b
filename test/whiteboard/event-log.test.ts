import t, { type Test } from 'tap';
import { installTransactionCounter, transactionCounts } from '../../bench/transaction-counter.js';
import { ManualClock } from '../helpers/clock.js';
import { startFakeOpenAI } from '../helpers/fake-openai.js';
import { persistentDatabase, startServer, testDatabase } from '../helpers/server.js';
import { createRoom, joined, line, newUser } from './fixtures.js';

installTransactionCounter();

const ordered = (m: any) => ['draw', 'delete_drawing', 'clear_canvas'].includes(m.type) || (m.type === 'ai_message' && !m.error);

t.test('the log holds every broadcast frame exactly as a receiver got it, and survives a restart', async (t) => {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const database = persistentDatabase(t);
  const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.baseURL, OPENAI_MAX_RETRIES: 0 };
  const server = await startServer(t, { database, env });
  const admin = await newUser(server, 'logadmin');
  const bob = await newUser(server, 'logbob');
  const roomId = await createRoom(server, admin);
  const a = await joined(server, admin, roomId);
  const b = await joined(server, bob, roomId);

  for (let i = 1; i <= 3; i++) {
    a.sock.send(line(roomId, { clientRef: `r${i}` }));
    await a.sock.next((m) => m.type === 'draw' && m.clientRef === `r${i}`);
  }
  const victim = (await b.sock.next((m) => m.type === 'draw' && m.seq === 2)).drawing.id;
  b.sock.send(line(roomId, { shapeType: 'text', text: 'from bob' }));
  a.sock.send({ type: 'delete_drawing', roomId, drawingId: victim });
  a.sock.send({ type: 'ai_generate_image', roomId, prompt: 'a lighthouse' });
  const picture = await b.sock.next((m) => m.type === 'ai_message' && !m.error);
  a.sock.send(line(roomId, { clientRef: 'r4' }));
  await b.sock.next((m) => m.type === 'draw' && m.drawing.seq === picture.seq + 1);

  const seen = b.sock.received.filter(ordered);
  const seq = seen[seen.length - 1].seq;
  t.equal(seq, 7, 'three draws, bob’s draw, a delete, a picture, a draw');
  t.same(
    seen.map((m: any) => m.seq),
    [1, 2, 3, 4, 5, 6, 7],
  );
  const { eventLog } = server.app.whiteboard;
  t.same(await eventLog.between(roomId, 0, seq), seen, 'every frame, in seq order, as broadcast (the AI picture as its ai_message)');
  t.same(await eventLog.between(roomId, 2, 5), seen.slice(2, 5), 'a range in the middle');
  t.same(await eventLog.between(roomId, seq, seq), [], 'nothing after the latest');
  t.equal(await eventLog.between(roomId, 0, seq + 1), null, 'a seq not yet given is not held');
  t.same(await eventLog.between('no-such-room', 0, 0), []);
  t.equal(await eventLog.between('no-such-room', 0, 1), null);

  a.sock.send({ type: 'clear_canvas', roomId });
  const clear = await b.sock.next('clear_canvas');
  a.sock.send(line(roomId, { clientRef: 'after-clear' }));
  const after = await b.sock.next((m) => m.type === 'draw' && m.seq === clear.seq + 1);
  t.equal(await eventLog.between(roomId, 0, after.seq), null, 'a clear drops what came before it');
  t.equal(await eventLog.between(roomId, clear.seq - 2, after.seq), null);
  t.same(await eventLog.between(roomId, clear.seq - 1, after.seq), [clear, after], 'the clear itself and what follows are kept');

  await a.sock.close();
  await b.sock.close();
  await server.close();
  const again = await startServer(t, { database, env });
  t.same(await again.app.whiteboard.eventLog.between(roomId, clear.seq - 1, after.seq), [clear, after], 'read back after a restart');
});

/** A room whose log keeps 5 events or an hour of them, on a server whose clock the test moves; `draw` answers the drawing's seq. */
async function pruningRoom(t: Test, name: string) {
  const clock = new ManualClock();
  const server = await startServer(t, { clock, env: { ROOM_EVENT_LOG_EVENTS: 5, ROOM_EVENT_LOG_AGE: '1h' } });
  const admin = await newUser(server, name);
  const roomId = await createRoom(server, admin);
  const a = await joined(server, admin, roomId);
  const draw = async (ref: string) => {
    a.sock.send(line(roomId, { clientRef: ref }));
    return (await a.sock.next((m) => m.type === 'draw' && m.clientRef === ref)).seq as number;
  };
  return { clock, server, roomId, a, draw };
}

t.test('the log keeps the last ROOM_EVENT_LOG_EVENTS or ROOM_EVENT_LOG_AGE of events, and prunes what is older than both', async (t) => {
  const { clock, server, roomId, a, draw } = await pruningRoom(t, 'prune');
  for (let i = 1; i <= 12; i++) await draw(`d${i}`);
  const { eventLog, writer } = server.app.whiteboard;
  t.equal((await eventLog.between(roomId, 0, 12))?.length, 12, 'past the count but younger than the age: all kept');

  clock.advance(2 * 3600_000);
  const prunesBefore = writer.stats.prunes;
  t.equal(await draw('d13'), 13);
  t.ok(writer.stats.prunes > prunesBefore, 'the writer pruned');
  t.equal(await eventLog.between(roomId, 0, 13), null, 'older than both: gone');
  t.equal(await eventLog.between(roomId, 7, 13), null);
  t.same(
    (await eventLog.between(roomId, 8, 13))?.map((f) => f.seq),
    [9, 10, 11, 12, 13],
    'the last five stay, however old',
  );
  const rows = await server.app.db
    .selectFrom('room_events')
    .select((e) => e.fn.countAll<number>().as('n'))
    .where('room_id', '=', roomId)
    .executeTakeFirstOrThrow();
  t.equal(Number(rows.n), 5, 'the table holds no more than that');
  await a.sock.close();
});

t.test('pruning removes the oldest events only: one younger than the age stops it, so the log never has a hole', async (t) => {
  // Two instances' clocks can disagree: an event logged by one that runs ahead is younger than
  // events logged after it. Pruning stops at it rather than removing what comes after it.
  const { clock, server, roomId, a, draw } = await pruningRoom(t, 'prunehole');
  const { eventLog } = server.app.whiteboard;
  const held = async () => (await server.app.db.selectFrom('room_events').select('seq').where('room_id', '=', roomId).orderBy('seq').execute()).map((r) => r.seq);

  for (let i = 1; i <= 3; i++) await draw(`d${i}`);
  clock.advance(3 * 3600_000);
  t.equal(await draw('ahead'), 4, 'logged three hours ahead of the others');
  clock.advance(-3 * 3600_000);
  for (let i = 5; i <= 12; i++) await draw(`d${i}`);

  // Now 2.5 h on: every event but seq 4 is older than the hour, and 13 - 5 = 8 are beyond the count.
  clock.advance(2.5 * 3600_000);
  t.equal(await draw('d13'), 13);
  t.same(await held(), [4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 'the three before the young event are gone, nothing after it');
  t.same(
    (await eventLog.between(roomId, 3, 13))?.map((f) => f.seq),
    [4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    'a resume from seq 3 is still served whole',
  );

  // Two hours later everything logged so far is past the age: a delete (the locked way) prunes to the last five.
  clock.advance(2 * 3600_000);
  const victim = (await eventLog.between(roomId, 12, 13))![0] as { drawing: { id: string } };
  a.sock.send({ type: 'delete_drawing', roomId, drawingId: victim.drawing.id });
  t.equal((await a.sock.next('delete_drawing')).seq, 14);
  t.same(await held(), [10, 11, 12, 13, 14], 'the last five stay');
  await a.sock.close();
});

t.test('logging adds no transaction and no statement to a write', async (t) => {
  const server = await startServer(t);
  const admin = await newUser(server, 'txlog');
  const roomId = await createRoom(server, admin);
  const socks = await Promise.all([admin, await newUser(server, 'txlog2'), await newUser(server, 'txlog3')].map((u) => joined(server, u, roomId)));
  const { writer } = server.app.whiteboard;

  // One draw at a time: each is one statement, which is its own transaction: the drawing, its
  // logged frame and the room's counters move together.
  const before = { ...writer.stats };
  const counted = transactionCounts();
  for (let i = 0; i < 20; i++) {
    socks[0]!.sock.send(line(roomId, { clientRef: `s${i}` }));
    await socks[0]!.sock.next((m) => m.type === 'draw' && m.clientRef === `s${i}`);
  }
  const now = transactionCounts();
  t.equal(writer.stats.transactions - before.transactions, 20, 'one transaction per drawing');
  t.equal(writer.stats.logged - before.logged, 20, 'each drawing logged');
  t.equal(now.explicit + now.autocommit - (counted.explicit + counted.autocommit), 20, 'the database saw 20 transactions');
  if (testDatabase === 'postgres') {
    t.equal(now.statements - counted.statements, 20, 'one statement each: no begin, lock or commit of their own, and none for the log');
    t.equal(now.explicit - counted.explicit, 0, 'no begin … commit');
  } else {
    // The embedded database runs each batch whole in its thread (its statement unseen here).
    t.equal(now.threadBatches - counted.threadBatches, 20, "each one message to the database's thread");
    t.equal(now.statements - counted.statements, 0, 'and no statement of its own from this side');
  }

  // Many at once: they share transactions, and every one is logged.
  const burst = { ...writer.stats };
  socks.forEach(({ sock }, k) => {
    for (let i = 0; i < 30; i++) sock.send(line(roomId, { clientRef: `b${k}-${i}` }));
  });
  for (const [k, { sock }] of socks.entries()) await sock.next((m) => m.type === 'draw' && m.clientRef === `b${k}-29`);
  const transactions = writer.stats.transactions - burst.transactions;
  t.equal(writer.stats.drawings - burst.drawings, 90);
  t.equal(writer.stats.logged - burst.logged, 90, 'every drawing logged');
  t.ok(transactions < 90, `90 drawings in ${transactions} transactions`);
  t.equal((await server.app.whiteboard.eventLog.between(roomId, 0, 110))?.length, 110, 'the whole log is there');
  for (const { sock } of socks) await sock.close();
});
