import t from 'tap';
import { InProcessConnectionCounter, MessageRateLimiter } from '../../src/whiteboard/rate-limiter.js';
import { InProcessRoomBus, roomEvent } from '../../src/whiteboard/room-bus.js';
import { frame } from '../../src/whiteboard/protocol.js';

t.test('message rate limiter: burst, steady refill, disconnect on persistent excess', async (t) => {
  let now = 0;
  const limiter = new MessageRateLimiter(5, 10, () => now);
  const admit = (n: number) => Array.from({ length: n }, () => limiter.admit());
  t.same(admit(5), ['ok', 'ok', 'ok', 'ok', 'ok'], 'a full burst');
  t.equal(limiter.admit(), 'limited');
  now += 100; // 0.1 s at 10/s: one more token
  t.equal(limiter.admit(), 'ok');
  t.equal(limiter.admit(), 'limited');
  now += 10_000; // a long pause refills to the burst and forgets the strikes
  t.same(admit(5), Array(5).fill('ok'));
  t.same(admit(5), Array(5).fill('limited'), 'strikes up to the burst are only refusals');
  t.equal(limiter.admit(), 'disconnect', 'one more than a burst of refusals disconnects');
});

t.test('a client that stays at the sustained rate is never refused', async (t) => {
  let now = 0;
  const limiter = new MessageRateLimiter(3, 100, () => now);
  for (let i = 0; i < 1000; i++) {
    now += 10;
    if (limiter.admit() !== 'ok') return t.fail(`refused at message ${i}`);
  }
  t.pass();
});

t.test('connections per address in a sliding minute', async (t) => {
  let now = 0;
  const counter = new InProcessConnectionCounter(2, () => now);
  t.ok(counter.tryConnect('1.2.3.4'));
  now += 30_000;
  t.ok(counter.tryConnect('1.2.3.4'));
  t.notOk(counter.tryConnect('1.2.3.4'), 'third within the minute');
  t.ok(counter.tryConnect('5.6.7.8'), 'another address is counted apart');
  now += 30_001;
  t.ok(counter.tryConnect('1.2.3.4'), 'the first has slid out of the window');
  t.notOk(counter.tryConnect('1.2.3.4'));
});

t.test('in-process bus: presence per user across connections, fan-out in publish order', async (t) => {
  const bus = new InProcessRoomBus();
  const ann = { id: 'u1', name: 'ann' };
  t.equal(await bus.addPresence('r', ann, 'c1'), true, 'first socket: joined');
  t.equal(await bus.addPresence('r', ann, 'c2'), false, 'second tab: already a member');
  t.same(await bus.members('r'), [ann]);
  t.equal(await bus.removePresence('r', 'u1', 'c1'), false);
  t.equal(await bus.removePresence('r', 'u1', 'c1'), false, 'removing twice is harmless');
  t.equal(await bus.removePresence('r', 'u1', 'c2'), true, 'last socket: left');
  t.same(await bus.members('r'), []);
  const got: string[] = [];
  const event = (roomId: string) => roomEvent({ message: frame('clear_canvas', { roomId, seq: 1, userId: 'u1' }) });
  const a = event('a');
  const b = event('b');
  const off = bus.subscribe('r', { deliver: (e) => got.push(e === a ? 'a' : e === b ? 'b' : 'other'), accessChanged: () => {}, accessMayHaveChanged: () => {} });
  bus.publish('r', a);
  bus.publish('other', event('x'));
  bus.publish('r', b);
  off();
  bus.publish('r', event('c'));
  t.same(got, ['a', 'b']);
});
