import t from 'tap';
import { clusterUnavailable, type Instance, startCluster } from '../helpers/cluster.js';
import { scrape, value } from '../helpers/metrics.js';
import { createRoom, joined, line, newUser, nothingMore } from '../whiteboard/fixtures.js';

/*
 * One instance writes a room at a time; the others forward their sockets' writes to it. What a
 * client sees must not change: its echo, refusals and repeats come back as if its own instance had
 * written them, and a writer that goes away costs at most a moment.
 */

const skip = clusterUnavailable();
const env = { WS_RATE_BURST: 10_000, WS_RATE_PER_SECOND: 10_000, METRICS: 'true' };

const commits = async (server: Parameters<typeof scrape>[0]) => value(await scrape(server), 'inkwell_commits_total') ?? 0;
const forwarded = async (server: Parameters<typeof scrape>[0], outcome: string) => value(await scrape(server), `inkwell_writes_forwarded_total{outcome="${outcome}"}`) ?? 0;

/** Two instances, Alice on A and Bob on B in one room, and Alice's first draw, which makes A the room's writer. */
async function roomWrittenByA(t: Parameters<typeof startCluster>[0], tag: string, proxyDatabase = false) {
  const [a, b] = (await startCluster(t, 2, { env }, { proxyDatabase })) as [Instance, Instance];
  const alice = await newUser(a, `alice-${tag}`);
  const roomId = await createRoom(a, alice);
  const onA = await joined(a, alice, roomId);
  const onB = await joined(b, await newUser(b, `bob-${tag}`), roomId);
  onA.sock.send(line(roomId, { clientRef: 'a1' }));
  const a1 = await onA.sock.next((m) => m.type === 'draw' && m.clientRef === 'a1');
  await onB.sock.next((m) => m.type === 'draw' && m.seq === a1.seq);
  return { a, b, roomId, onA, onB, a1 };
}

t.test('writes of a socket on another instance are stored by the room’s writer and answered as usual', { skip: skip ?? false }, async (t) => {
  const { b, roomId, onA, onB, a1 } = await roomWrittenByA(t, 'w');
  const commitsOnB = await commits(b);

  onB.sock.send(line(roomId, { clientRef: 'b1' }));
  const b1 = await onB.sock.next((m) => m.type === 'draw' && m.seq === a1.seq + 1);
  t.equal(b1.clientRef, 'b1', 'the sender on B gets its echo with its clientRef');
  const seen = await onA.sock.next((m) => m.type === 'draw' && m.seq === b1.seq);
  t.notOk('clientRef' in seen, 'the others get it without');
  t.equal(await commits(b), commitsOnB, 'B committed nothing: A stored it');
  t.equal(await forwarded(b, 'stored'), 1, 'B forwarded it');

  onB.sock.send(line(roomId, { clientRef: 'b1' }));
  t.match(await onB.sock.next((m) => m.type === 'draw' && m.clientRef === 'b1'), { seq: b1.seq }, 'a repeated clientRef: the earlier drawing, to its sender');
  t.same(await nothingMore(onA.sock, (m) => m.type === 'draw', 300), [], 'and nothing new for the room');
  t.equal(await forwarded(b, 'duplicate'), 1);

  onB.sock.send({ type: 'delete_drawing', roomId, drawingId: a1.drawing.id });
  t.match(await onB.sock.next('error'), { code: 'forbidden', roomId }, 'a refusal comes back to the sender');
  t.equal(await forwarded(b, 'refused'), 1);

  onB.sock.send({ type: 'delete_drawing', roomId, drawingId: b1.drawing.id });
  const deleted = await onA.sock.next('delete_drawing');
  t.same(deleted, { type: 'delete_drawing', roomId, seq: b1.seq + 1, drawingId: b1.drawing.id }, 'its own drawing deleted, seen on A');
  t.match(await onB.sock.next('delete_drawing'), { seq: deleted.seq });
  t.equal(await commits(b), commitsOnB, 'still nothing committed on B');
  await Promise.all([onA.sock.close(), onB.sock.close()]);
});

t.test('a writer shut down normally hands its rooms over at once', { skip: skip ?? false }, async (t) => {
  const { a, b, roomId, onB } = await roomWrittenByA(t, 's');
  onB.sock.send(line(roomId, { clientRef: 'b1' }));
  const b1 = await onB.sock.next((m) => m.type === 'draw' && m.clientRef === 'b1');
  t.equal(await forwarded(b, 'stored'), 1, 'A writes the room');

  await a.close();
  const sent = Date.now();
  onB.sock.send(line(roomId, { clientRef: 'b2' }));
  const b2 = await onB.sock.next((m) => m.type === 'draw' && m.clientRef === 'b2', 2000);
  t.comment(`stored ${Date.now() - sent} ms after A shut down`);
  t.equal(b2.seq, b1.seq + 1, 'B stores it, next in seq');
  t.equal(await forwarded(b, 'timeout'), 0, 'without waiting for A');
  t.same(await nothingMore(onB.sock, (m) => m.type === 'error'), [], 'no error');
  await onB.sock.close();
});

t.test('a writer that dies: the room is taken over and a draw with a clientRef still stored, once', { skip: skip ?? false }, async (t) => {
  const { a, b, roomId, onB, a1 } = await roomWrittenByA(t, 'd');

  // A loses Redis, then stops: its lease stays until it lapses, and nothing it could say gets out.
  a.redisProxy.cut();
  await a.close();
  const sent = Date.now();
  onB.sock.send(line(roomId, { clientRef: 'b1' }));
  const b1 = await onB.sock.next((m) => m.type === 'draw' && m.clientRef === 'b1', 10_000);
  const afterMs = Date.now() - sent;
  t.comment(`stored ${afterMs} ms after it was sent to a room whose writer had died`);
  t.equal(b1.seq, a1.seq + 1);
  t.equal(await forwarded(b, 'timeout'), 1, 'the forward timed out once');
  t.same(await nothingMore(onB.sock, (m) => m.type === 'error' || m.type === 'draw', 300), [], 'no error, and stored once');

  onB.sock.send(line(roomId, { clientRef: 'b2' }));
  t.match(await onB.sock.next((m) => m.type === 'draw' && m.clientRef === 'b2', 2000), { seq: b1.seq + 1 }, 'B writes the room now');
  t.equal(await forwarded(b, 'timeout'), 1, 'without asking A again');

  await onB.sock.close();
});

t.test('a writer that dies: a draw without a clientRef is refused rather than risked twice, then goes through', { skip: skip ?? false }, async (t) => {
  const { a, b, roomId, onB, a1 } = await roomWrittenByA(t, 'c');
  a.redisProxy.cut();
  await a.close();
  onB.sock.send(line(roomId));
  t.match(await onB.sock.next('error', 10_000), { code: 'internal', roomId, message: /try again/ }, 'the sender is told to try again');
  t.same(await nothingMore(onB.sock, (m) => m.type === 'draw', 300), [], 'nothing stored');
  onB.sock.send(line(roomId));
  t.match(await onB.sock.next('draw', 2000), { seq: a1.seq + 1 }, 'the retry is stored by B, which writes the room now');
  t.equal(await forwarded(b, 'timeout'), 1);
  await onB.sock.close();
});

t.test('a writer whose database fails gives its rooms up: the other instance writes them, for both', { skip: skip ?? false }, async (t) => {
  const { a, b, roomId, onA, onB, a1 } = await roomWrittenByA(t, 'f', true);
  a.databaseProxy!.cut();
  onB.sock.send(line(roomId, { clientRef: 'b1' }));
  const b1 = await onB.sock.next((m) => m.type === 'draw' && m.clientRef === 'b1', 10_000);
  t.equal(b1.seq, a1.seq + 1, 'a draw forwarded to A, which could not store it, is stored by B');
  t.equal(await forwarded(b, 'failed'), 1);
  onB.sock.send(line(roomId, { clientRef: 'b2' }));
  t.match(await onB.sock.next((m) => m.type === 'draw' && m.clientRef === 'b2', 5000), { seq: b1.seq + 1 }, 'B writes the room now');

  // A's own sockets draw through B while A's database is away.
  onA.sock.send(line(roomId, { clientRef: 'a2' }));
  t.match(await onA.sock.next((m) => m.type === 'draw' && m.clientRef === 'a2', 5000), { seq: b1.seq + 2 }, 'a draw sent to A is stored by B');
  t.equal(await forwarded(a, 'stored'), 1);
  t.same(await nothingMore(onB.sock, (m) => m.type === 'error', 100), [], 'no error on B');
  t.same(await nothingMore(onA.sock, (m) => m.type === 'error', 100), [], 'no error on A');
  await Promise.all([onA.sock.close(), onB.sock.close()]);
});
