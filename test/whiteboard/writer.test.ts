import t from 'tap';
import { shapeOf } from '../../src/whiteboard/drawing.js';
import type { WriteOp } from '../../src/whiteboard/drawing-writer.js';
import { startServer } from '../helpers/server.js';
import { newUser } from './fixtures.js';

t.test('the group-commit writer applies a mixed batch in order, in one transaction', async (t) => {
  const server = await startServer(t, { env: { ROOM_MAX_DRAWINGS: 4 } });
  const { writer, store } = server.app.whiteboard;
  const admin = await newUser(server, 'wadmin');
  const bob = await newUser(server, 'wbob');
  const room = await store.create(admin.user.id, null);
  const roomId = room.roomId;
  const draw = (who: typeof admin, clientRef: string | null, text = ''): WriteOp => ({
    kind: 'draw',
    roomId,
    userId: who.user.id,
    userName: who.user.name,
    shape: shapeOf({ text }),
    clientRef,
  });

  // The first write of an idle writer goes at once; everything queued behind it shares the next transaction.
  const before = writer.stats.transactions;
  const first = writer.write(draw(admin, null, 'first'));
  const ops: WriteOp[] = [
    draw(bob, 'x', 'A'),
    draw(bob, 'x', 'A again'),
    { kind: 'delete', roomId, userId: admin.user.id, drawingId: 'placeholder', asAdmin: false },
    { kind: 'clear', roomId, userId: admin.user.id },
    draw(bob, 'y', 'C'),
    draw(bob, 'z', 'D'),
  ];
  const pending = ops.map((op) => writer.write(op));
  const firstResult = await first;
  t.equal(firstResult.kind, 'drawn');
  const results = await Promise.all(pending);
  t.equal(writer.stats.transactions - before, 2, 'the first write alone, the six queued behind it in one transaction');
  t.match(results[0], { kind: 'drawn', seq: 2, drawing: { text: 'A', userName: bob.user.name } });
  t.match(results[1], { kind: 'duplicate', drawing: { text: 'A', seq: 2 } }, 'a repeated clientRef in the same batch');
  t.match(results[2], { kind: 'refused', code: 'drawing_not_found' });
  t.match(results[3], { kind: 'cleared', seq: 3 });
  t.match(results[4], { kind: 'drawn', seq: 4 });
  t.match(results[5], { kind: 'drawn', seq: 5 });

  const a = results[4]?.kind === 'drawn' ? results[4].drawing : undefined;
  const byOther = await writer.write({ kind: 'delete', roomId, userId: admin.user.id, drawingId: a!.id, asAdmin: false });
  t.match(byOther, { kind: 'refused', code: 'forbidden' });
  const byAdmin = await writer.write({ kind: 'delete', roomId, userId: admin.user.id, drawingId: a!.id, asAdmin: true });
  t.match(byAdmin, { kind: 'deleted', seq: 6, drawingId: a!.id });

  const stored = await store.drawings(roomId, 0, 100);
  t.same(stored.map((d) => d.text), ['D'], 'the clear removed what came before it, not what came after');
  t.equal(await store.latestSeq(roomId), 6);
  const row = await server.app.db.selectFrom('rooms').select('drawing_count').where('id', '=', roomId).executeTakeFirstOrThrow();
  t.equal(row.drawing_count, 1);

  // A retry after the batch is recognised from the database.
  const retry = await writer.write(draw(bob, 'z', 'D retried'));
  t.match(retry, { kind: 'duplicate', drawing: { text: 'D', seq: 5 } });

  // ROOM_MAX_DRAWINGS=4 counts live drawings: 3 more fit, the 4th is refused, no seq spent.
  const more = await Promise.all([1, 2, 3, 4].map((i) => writer.write(draw(admin, `m${i}`))));
  t.same(more.map((r) => r.kind), ['drawn', 'drawn', 'drawn', 'refused']);
  t.equal(await store.latestSeq(roomId), 9);

  t.match(await writer.write({ ...draw(admin, null), roomId: 'missing' }), { kind: 'refused', code: 'room_not_found' });
});
