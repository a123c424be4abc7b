import t from 'tap';
import { sql } from 'kysely';
import { shapeOf } from '../../src/whiteboard/drawing.js';
import { encode } from '../../src/whiteboard/protocol.js';
import type { PictureNote, WriteOp, WriteResult } from '../../src/whiteboard/write-ops.js';
import { persistentDatabase, startServer } from '../helpers/server.js';
import { newUser } from './fixtures.js';

// New drawings for one room are stored by one statement that puts each seq into the logged frame's
// text itself (src/whiteboard/draw-statement.ts); these check what that statement stores.

t.test('the logged frames of drawings stored in one statement are the exact text broadcast', async (t) => {
  const server = await startServer(t);
  const { writer, store } = server.app.whiteboard;
  const u = await newUser(server, 'stmt');
  const roomId = (await store.create(u.user.id, null)).roomId;
  const draw = (text: string, clientRef: string | null, picture?: PictureNote): WriteOp => ({
    kind: 'draw',
    roomId,
    userId: u.user.id,
    userName: u.user.name,
    shape: shapeOf({ text }),
    clientRef,
    ...(picture ? { picture } : {}),
  });

  const first = writer.write(draw('first', 'a'));
  // Queued behind the first, these share one batch: one statement.
  const tricky = 'he said "seq" \\ 12 ✓ 😀 </script>';
  const queued = [
    writer.write(draw(tricky, 'b')),
    writer.write(draw('', null, { requestId: 'req-1', content: 'a "cat"', imageUrl: '/api/v1/images/x/', placeholder: false })),
    writer.write(draw('last', 'c')),
  ];
  const results: WriteResult[] = [await first, ...(await Promise.all(queued))];
  t.same(
    results.map((r) => (r.kind === 'drawn' ? r.seq : r.kind)),
    [1, 2, 3, 4],
  );
  t.match(results[2], { kind: 'drawn', frame: { type: 'ai_message', requestId: 'req-1', seq: 3, drawing: { seq: 3 } } });

  const { rows } = await sql<{ seq: number; text: string }>`select seq, frame::text as text from room_events where room_id = ${roomId} order by seq`.execute(server.app.db);
  t.same(
    rows.map((r) => r.seq),
    [1, 2, 3, 4],
  );
  rows.forEach((row, i) => {
    const r = results[i]!;
    t.equal(row.text, r.kind === 'drawn' ? encode(r.frame) : '', `seq ${row.seq}: the logged text is the broadcast text`);
  });
  t.same(
    (await store.drawings(roomId, 0, 10)).map((d) => [d.seq, d.text]),
    [
      [1, 'first'],
      [2, tricky],
      [3, ''],
      [4, 'last'],
    ],
  );
  t.equal(await store.latestSeq(roomId), 4);
});

t.test(
  'a clientRef another writer stores while the statement runs: nothing stored twice, the earlier drawing answered',
  { skip: process.env.TEST_DATABASE_URL ? false : 'needs a second connection to PostgreSQL (TEST_DATABASE_URL)' },
  async (t) => {
    const database = persistentDatabase(t);
    const server = await startServer(t, { database });
    const { writer, store } = server.app.whiteboard;
    const u = await newUser(server, 'race');
    const roomId = (await store.create(u.user.id, null)).roomId;
    const pg = (await import('pg')).default;
    const other = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await other.connect();
    t.teardown(() => other.end());
    await other.query(`set search_path to "${database.schema}"`);

    // The other writer's drawing with ref "r" is inserted, not yet committed: the statement's ref
    // check cannot see it, and its insert waits on the unique index until the other commits.
    await other.query('begin');
    await other.query(
      `insert into drawings (id, room_id, seq, shape_type, points, color, stroke_width, user_id, client_ref, created_at)
       values ('other-drawing', $1, 7, 'text', '[]', '#000000', 2, $2, 'r', now())`,
      [roomId, u.user.id],
    );
    const write = writer.write({ kind: 'draw', roomId, userId: u.user.id, userName: u.user.name, shape: shapeOf({ text: 'mine' }), clientRef: 'r' });
    // Commit once the statement waits on the other's row.
    for (let i = 0; i < 200; i++) {
      const { rows } = await other.query(`select count(*)::int as n from pg_locks where not granted and locktype = 'transactionid'`);
      if (rows[0].n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await other.query('commit');

    t.match(await write, { kind: 'duplicate', drawing: { id: 'other-drawing', seq: 7 } }, 'the write answers with the drawing stored first');
    t.equal(await store.latestSeq(roomId), 0, 'no seq spent');
    t.same(
      (await store.drawings(roomId, 0, 10)).map((d) => d.id),
      ['other-drawing'],
    );
  },
);
