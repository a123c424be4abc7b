import t from 'tap';
import { decodeBusMessage, encodeControl, encodeEvents, MAX_EVENTS_PER_MESSAGE, MAX_MESSAGE_TEXT } from '../../src/whiteboard/bus-message.js';
import { frame } from '../../src/whiteboard/protocol.js';
import { type RoomEvent, roomEvent } from '../../src/whiteboard/room-bus.js';
import { type BusRedis, RedisRoomBus } from '../../src/whiteboard/redis-room-bus.js';

const ROOM = 'r1';
const drawing = (seq: number): RoomEvent =>
  roomEvent({
    message: frame('delete_drawing', { roomId: ROOM, seq, drawingId: `d${seq}` }),
    seq,
    origin: { connectionId: 'c1', message: frame('delete_drawing', { roomId: ROOM, seq, drawingId: `d${seq}` }) },
    receivedAt: 1,
  });
const cursor = roomEvent({ message: frame('cursor', { roomId: ROOM, userId: 'u1', x: 1, y: 2 }), volatile: true, exceptUserId: 'u1' });

t.test('a batch of events is one message and comes back as it was sent, without what stays on the sending instance', async (t) => {
  const events = [drawing(1), cursor, drawing(2)];
  const messages = encodeEvents('i1', events);
  t.equal(messages.length, 1);
  const decoded = decodeBusMessage(messages[0]!);
  t.equal(decoded?.from, 'i1');
  // What crosses: the frame and its header (fields left out when the event has none).
  const crossed = events.map(({ type, text, seq, volatile, exceptUserId }) => JSON.parse(JSON.stringify({ type, text, seq, volatile, exceptUserId })));
  t.same(decoded?.events, crossed);
  for (const e of decoded?.events ?? []) {
    t.notOk('origin' in e, 'the sender echo is not sent to other instances');
    t.notOk('receivedAt' in e);
  }
});

t.test('more events than one message holds are cut into several, in order', async (t) => {
  const events = Array.from({ length: MAX_EVENTS_PER_MESSAGE * 2 + 1 }, (_, i) => drawing(i + 1));
  const messages = encodeEvents('i1', events);
  t.equal(messages.length, 3);
  const seqs = messages.flatMap((m) => decodeBusMessage(m)?.events.map((e) => e.seq) ?? []);
  t.same(
    seqs,
    events.map((e) => e.seq),
  );
});

t.test('large frames are cut into messages of at most MAX_MESSAGE_TEXT, a frame larger than that alone', async (t) => {
  const big = (seq: number, chars: number): RoomEvent => ({ type: 'draw', seq, text: `{"type":"draw","seq":${seq},"pad":"${'x'.repeat(chars)}"}` });
  const events = [big(1, MAX_MESSAGE_TEXT / 2), big(2, MAX_MESSAGE_TEXT / 2), big(3, MAX_MESSAGE_TEXT * 2), big(4, 10), big(5, 10)];
  const messages = encodeEvents('i1', events);
  t.same(
    messages.map((m) => decodeBusMessage(m)?.events.map((e) => e.seq)),
    [[1], [2], [3], [4, 5]],
  );
  t.same(
    messages.flatMap((m) => decodeBusMessage(m)?.events.map((e) => e.text) ?? []),
    events.map((e) => e.text),
  );
});

t.test('the one-event message of earlier instances is still read', async (t) => {
  const e = drawing(7);
  const decoded = decodeBusMessage(`${JSON.stringify({ from: 'old', event: { type: e.type, seq: 7 } })}\n${e.text}`);
  t.same(decoded?.events, [{ type: e.type, seq: 7, text: e.text }]);
});

t.test('control messages carry an access change or a head', async (t) => {
  t.same(decodeBusMessage(encodeControl('i1', { access: { userId: 'u2', role: null } })), { from: 'i1', events: [], access: { userId: 'u2', role: null } });
  t.same(decodeBusMessage(encodeControl('i1', { head: 42 })), { from: 'i1', events: [], head: 42 });
});

t.test('what is not a message is dropped whole', async (t) => {
  const [ok] = encodeEvents('i1', [drawing(1), drawing(2)]);
  const [envelope, first] = ok!.split('\n');
  t.equal(decodeBusMessage(`${envelope}\n${first}`), null, 'fewer frames than the envelope announces');
  t.equal(decodeBusMessage(`${ok}\n{"extra":1}`), null, 'more frames than announced');
  t.equal(decodeBusMessage('not json'), null);
  t.equal(decodeBusMessage(JSON.stringify({ events: [] })), null, 'no sender');
  t.equal(decodeBusMessage(JSON.stringify({ from: 'i1', events: [{ seq: 1 }] })), null, 'an event without a type');
  t.equal(decodeBusMessage(JSON.stringify({ from: 'i1', head: 'x' })), null);
});

/** Redis pub/sub in memory: each message reaches every subscriber of its channel in a later turn, as over a socket. */
function fakeRedis() {
  const channels = new Map<string, Set<(message: string) => void>>();
  const published: string[] = [];
  const redis: BusRedis = {
    isUp: () => true,
    publish(channel, message) {
      published.push(message);
      setImmediate(() => {
        for (const listener of channels.get(channel) ?? []) listener(message);
      });
    },
    subscribe(channel, listener) {
      const set = channels.get(channel) ?? new Set();
      channels.set(channel, set);
      set.add(listener);
      return { subscribed: Promise.resolve(), unsubscribe: () => set.delete(listener) };
    },
    onReconnect() {},
    run: async () => [],
  };
  return { redis, published };
}

t.test('a commit published by one instance goes to Redis as one message, before its own sockets; the other delivers it whole, in order', async (t) => {
  const { redis, published } = fakeRedis();
  const deps = {
    redis,
    log: { between: async () => [] },
    heads: async (ids: string[]) => new Map(ids.map((id) => [id, 0])),
    logger: { warn() {}, debug() {} },
  };
  const [a, b] = [new RedisRoomBus(deps), new RedisRoomBus(deps)];
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const seen: string[] = [];
  const listener = (name: string) => ({
    deliver: (e: RoomEvent) => seen.push(`${name} ${e.seq}${e.origin ? ' echo' : ''} after ${published.length} published`),
    accessChanged() {},
    accessMayHaveChanged() {},
  });
  a.subscribe(ROOM, listener('a'));
  b.subscribe(ROOM, listener('b'));
  await new Promise((r) => setTimeout(r, 20)); // both read their starting seq

  for (const seq of [1, 2, 3]) a.publish(ROOM, drawing(seq));
  await new Promise((r) => setTimeout(r, 20));

  t.equal(published.length, 1, 'one PUBLISH for the three events');
  t.same(seen, [
    'a 1 echo after 1 published',
    'a 2 echo after 1 published',
    'a 3 echo after 1 published',
    'b 1 after 1 published',
    'b 2 after 1 published',
    'b 3 after 1 published',
  ]);
});
