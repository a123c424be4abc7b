import t from 'tap';
import { sql } from 'kysely';
import { shapeOf } from '../../src/whiteboard/drawing.js';
import type { WriteOp } from '../../src/whiteboard/write-ops.js';
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
    { kind: 'delete', roomId, userId: admin.user.id, drawingId: 'placeholder', role: 'editor' },
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
  t.match(results[2], { kind: 'refused', code: 'invalid_message', message: /"placeholder"/ });
  t.match(results[3], { kind: 'cleared', seq: 3 });
  t.match(results[4], { kind: 'drawn', seq: 4 });
  t.match(results[5], { kind: 'drawn', seq: 5 });

  const a = results[4]?.kind === 'drawn' ? results[4].drawing : undefined;
  const byOther = await writer.write({ kind: 'delete', roomId, userId: admin.user.id, drawingId: a!.id, role: 'editor' });
  t.match(byOther, { kind: 'refused', code: 'forbidden' });
  const byAdmin = await writer.write({ kind: 'delete', roomId, userId: admin.user.id, drawingId: a!.id, role: 'admin' });
  t.match(byAdmin, { kind: 'deleted', seq: 6, drawingId: a!.id });

  const stored = await store.drawings(roomId, 0, 100);
  t.same(
    stored.map((d) => d.text),
    ['D'],
    'the clear removed what came before it, not what came after',
  );
  t.equal(await store.latestSeq(roomId), 6);
  const row = await server.app.db.selectFrom('rooms').select('drawing_count').where('id', '=', roomId).executeTakeFirstOrThrow();
  t.equal(row.drawing_count, 1);

  // A retry after the batch is recognised from the database.
  const retry = await writer.write(draw(bob, 'z', 'D retried'));
  t.match(retry, { kind: 'duplicate', drawing: { text: 'D', seq: 5 } });

  // ROOM_MAX_DRAWINGS=4 counts live drawings: 3 more fit, the 4th is refused, no seq spent.
  const more = await Promise.all([1, 2, 3, 4].map((i) => writer.write(draw(admin, `m${i}`))));
  t.same(
    more.map((r) => r.kind),
    ['drawn', 'drawn', 'drawn', 'refused'],
  );
  t.equal(await store.latestSeq(roomId), 9);

  t.match(await writer.write({ ...draw(admin, null), roomId: 'missing' }), { kind: 'refused', code: 'room_not_found' });
});

t.test('a clientRef freed by a delete or a clear in the same batch stores a new drawing', async (t) => {
  const server = await startServer(t);
  const { writer, store } = server.app.whiteboard;
  const u = await newUser(server, 'wredraw');
  const roomId = (await store.create(u.user.id, null)).roomId;
  const draw = (clientRef: string, text: string): WriteOp => ({ kind: 'draw', roomId, userId: u.user.id, userName: u.user.name, shape: shapeOf({ text }), clientRef });
  const first = await writer.write(draw('a', 'one'));
  if (first.kind !== 'drawn') throw new Error('not drawn');

  // An idle writer commits its first write alone; what queues behind it shares the next transaction.
  let before = writer.stats.transactions;
  const blocker = writer.write(draw('blk', 'blk'));
  const deleted = writer.write({ kind: 'delete', roomId, userId: u.user.id, drawingId: first.drawing.id, role: 'editor' });
  const redrawn = writer.write(draw('a', 'two'));
  await blocker;
  t.match(await deleted, { kind: 'deleted', drawingId: first.drawing.id });
  const second = await redrawn;
  t.match(second, { kind: 'drawn', drawing: { text: 'two' } }, 'not a duplicate of the deleted drawing');
  t.not(second.kind === 'drawn' && second.drawing.id, first.drawing.id);
  // Three writes, one or two transactions (the blocker may share theirs); three would be the fallback.
  t.ok(writer.stats.transactions - before < 3, 'the delete and the redraw shared one transaction');
  t.same(
    (await store.drawings(roomId, 0, 100)).map((d) => d.text),
    ['blk', 'two'],
  );

  // Clear then redraw the same clientRef: the insert must not meet the cleared row in the unique
  // index, which would sink the batch into one transaction per write.
  t.match(await writer.write(draw('b', 'b stored')), { kind: 'drawn' });
  before = writer.stats.transactions;
  const blocker2 = writer.write(draw('blk2', 'blk2'));
  const batch = [writer.write({ kind: 'clear', roomId, userId: u.user.id }), writer.write(draw('b', 'three'))];
  await blocker2;
  t.match(await Promise.all(batch), [{ kind: 'cleared' }, { kind: 'drawn', drawing: { text: 'three' } }]);
  t.ok(writer.stats.transactions - before < 3, 'the clear and the redraw shared one transaction, no fallback');
  t.same(
    (await store.drawings(roomId, 0, 100)).map((d) => d.text),
    ['three'],
  );
});

t.test('a write the database refuses fails alone: the rest of its batch is stored, in order, with no seq spent on it', async (t) => {
  const server = await startServer(t);
  const { writer, store } = server.app.whiteboard;
  const u = await newUser(server, 'wfail');
  const roomId = (await store.create(u.user.id, null)).roomId;
  const draw = (text: string): WriteOp => ({ kind: 'draw', roomId, userId: u.user.id, userName: u.user.name, shape: shapeOf({ text }), clientRef: null });

  const blocker = writer.write(draw('blocker'));
  // PostgreSQL takes no NUL character in a text value: the batch's statement fails.
  const batch = [writer.write(draw('before')), writer.write(draw('bad\u0000')), writer.write(draw('after'))];
  await blocker;
  const [before, bad, after] = await Promise.allSettled(batch);
  t.match(before, { status: 'fulfilled', value: { kind: 'drawn', seq: 2 } });
  // 22021 when the NUL reaches a text value, 22P05 when it reaches the JSON the batch's one statement reads.
  t.match(bad, { status: 'rejected', reason: { code: /^22(021|P05)$/ } }, "the database's error, with its SQLSTATE");
  t.match(after, { status: 'fulfilled', value: { kind: 'drawn', seq: 3 } });
  t.same(
    (await store.drawings(roomId, 0, 100)).map((d) => d.text),
    ['blocker', 'before', 'after'],
  );
  t.equal(await store.latestSeq(roomId), 3);
});

t.test("a batch never lands inside another transaction on the server's connection", async (t) => {
  const server = await startServer(t);
  const { writer, store } = server.app.whiteboard;
  const u = await newUser(server, 'wtrx');
  const roomId = (await store.create(u.user.id, null)).roomId;
  const { db } = server.app;
  const access = () => db.selectFrom('rooms').select('access').where('id', '=', roomId).executeTakeFirstOrThrow();
  const original = (await access()).access;

  const draw = (text: string): WriteOp => ({ kind: 'draw', roomId, userId: u.user.id, userName: u.user.name, shape: shapeOf({ text }), clientRef: null });
  // The writer is warm (on the embedded database, its thread has loaded what runs the batches).
  t.match(await writer.write(draw('first')), { kind: 'drawn', seq: 1 });

  let write: Promise<unknown> | undefined;
  const rolledBack = db.transaction().execute(async (trx) => {
    await trx
      .updateTable('rooms')
      .set({ access: original === 'private' ? 'open' : 'private' })
      .where('id', '=', roomId)
      .execute();
    // Sent while this transaction is open; on the embedded database, a batch that ran now would
    // commit this transaction's update with its own (begin and commit are separate statements).
    write = writer.write(draw('queued'));
    await sql`select 1`.execute(trx);
    await sql`select 1`.execute(trx);
    throw new Error('roll back');
  });
  await t.rejects(rolledBack, /roll back/);
  t.match(await write, { kind: 'drawn', seq: 2 }, 'the write went after the transaction');
  t.equal((await access()).access, original, 'the rolled-back update stayed rolled back: the batch did not commit it');
  t.same(
    (await store.drawings(roomId, 0, 100)).map((d) => d.text),
    ['first', 'queued'],
    'and the batch itself was committed',
  );
});
