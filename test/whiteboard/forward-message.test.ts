import t from 'tap';
import { decodeBusMessage, encodeEvents } from '../../src/whiteboard/bus-message.js';
import { decodeForwardMessage, encodeReleased, encodeReply, encodeWrites, MAX_WRITES_PER_MESSAGE } from '../../src/whiteboard/forward-message.js';
import { frame } from '../../src/whiteboard/protocol.js';
import { roomEvent } from '../../src/whiteboard/room-bus.js';
import type { WriteOp } from '../../src/whiteboard/write-ops.js';

const draw = (clientRef: string | null): WriteOp => ({
  kind: 'draw',
  roomId: 'r1',
  userId: 'u1',
  userName: 'Ann',
  shape: { shapeType: 'line', points: [{ x: 1, y: 2 }], color: '#000000', strokeWidth: 2 } as never,
  clientRef,
});
const ops: WriteOp[] = [draw('a1'), draw(null), { kind: 'delete', roomId: 'r1', userId: 'u1', role: 'editor', drawingId: 'd1' }, { kind: 'clear', roomId: 'r1', userId: 'u1' }];

t.test('forwarded writes come back as they were sent, in order, cut into messages of at most the limit', async (t) => {
  const writes = Array.from({ length: MAX_WRITES_PER_MESSAGE + 1 }, (_, i) => ({ req: i + 1, op: ops[i % ops.length]! }));
  const messages = encodeWrites('i1', writes);
  t.equal(messages.length, 2);
  const decoded = messages.map((m) => decodeForwardMessage(m));
  t.same(decoded[0]?.from, 'i1');
  t.same(
    decoded.flatMap((m) => m?.writes ?? []),
    writes,
  );
});

t.test('answers and hand-overs', async (t) => {
  t.same(decodeForwardMessage(encodeReply('i2', { req: 3, outcome: 'refused', code: 'forbidden', message: 'No.' }))?.replies, [
    { req: 3, outcome: 'refused', code: 'forbidden', message: 'No.' },
  ]);
  t.same(decodeForwardMessage(encodeReply('i2', { req: 4, outcome: 'not_writer' }))?.replies, [{ req: 4, outcome: 'not_writer' }]);
  t.match(decodeForwardMessage(encodeReleased('i2', ['r1', 'r2'], 7)), { from: 'i2', released: ['r1', 'r2'], upto: 7, writes: [], replies: [] });
});

t.test('what is not a forward message is dropped, not acted on', async (t) => {
  for (const text of [
    'not json',
    '{}',
    JSON.stringify({ from: 'i1', writes: [{ req: 1, op: { kind: 'erase', roomId: 'r1', userId: 'u1' } }] }),
    JSON.stringify({ from: 'i1', writes: [{ req: 1.5, op: ops[3] }] }),
    JSON.stringify({ from: 'i1', writes: [{ req: 1, op: { ...ops[2], role: 'owner' } }] }),
    JSON.stringify({ from: 'i1', replies: [{ req: 1, outcome: 'maybe' }] }),
    JSON.stringify({ from: 'i1', writes: Array.from({ length: MAX_WRITES_PER_MESSAGE + 1 }, (_, i) => ({ req: i, op: ops[3] })) }),
  ]) {
    t.equal(decodeForwardMessage(text), null, text.slice(0, 80));
  }
});

t.test('an event stored for a forwarded write carries its tag to the other instances', async (t) => {
  const event = roomEvent({ message: frame('clear_canvas', { roomId: 'r1', seq: 5, userId: 'u1' }), seq: 5, forwarded: { instance: 'i2', req: 9 } });
  const [message] = encodeEvents('i1', [event]);
  t.same(decodeBusMessage(message!)?.events[0]?.forwarded, { instance: 'i2', req: 9 });
});
