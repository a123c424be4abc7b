import t from 'tap';
import { persistentDatabase, startServer } from '../helpers/server.js';
import type { TestSocket } from '../helpers/ws-client.js';
import { shapeOf } from '../../src/whiteboard/drawing.js';
import { createRoom, joined, line, newUser } from './fixtures.js';

const ordered = (s: TestSocket, roomId: string) =>
  s.received.filter((m) => m && m.roomId === roomId && ['draw', 'delete_drawing', 'clear_canvas', 'ai_message'].includes(m.type)).map((m) => m.seq);

t.test('a burst from several senders reaches every receiver in the same strictly increasing seq order', async (t) => {
  const server = await startServer(t, { env: { WS_RATE_BURST: 10_000, WS_RATE_PER_SECOND: 10_000 } });
  const admin = await newUser(server, 'burst');
  const roomId = await createRoom(server, admin);
  const senders = await Promise.all([0, 1, 2, 3].map(async (i) => joined(server, await newUser(server, `sender${i}`), roomId)));
  const receivers = await Promise.all([0, 1].map(async (i) => joined(server, await newUser(server, `receiver${i}`), roomId)));
  const everyone = [...senders, ...receivers].map((x) => x.sock);
  const PER_SENDER = 250;
  const total = senders.length * PER_SENDER;
  const before = { ...server.app.whiteboard.writer.stats };

  for (let i = 0; i < PER_SENDER; i++) for (const [k, s] of senders.entries()) s.sock.send(line(roomId, { clientRef: `s${k}-${i}` }));
  for (const s of everyone) for (let i = 0; i < total; i++) await s.next('draw', 10_000);

  const expected = Array.from({ length: total }, (_, i) => i + 1);
  for (const s of everyone) t.same(ordered(s, roomId), expected, 'every seq once, in order');
  const ids = (s: TestSocket) => s.received.filter((m) => m.type === 'draw').map((m) => m.drawing.id);
  for (const s of everyone) t.same(ids(s), ids(everyone[0]!), 'the same drawings in the same order');
  senders.forEach((s, k) => {
    const refs = s.sock.received.filter((m) => m.type === 'draw' && m.clientRef).map((m) => m.clientRef);
    t.same(
      refs,
      Array.from({ length: PER_SENDER }, (_, i) => `s${k}-${i}`),
      "a sender's drawings keep its send order",
    );
  });

  const stats = server.app.whiteboard.writer.stats;
  const transactions = stats.transactions - before.transactions;
  const drawings = stats.drawings - before.drawings;
  t.equal(drawings, total);
  t.ok(transactions < total, 'writes were grouped into shared transactions');
  t.comment(`group commit: ${drawings} drawings in ${transactions} transactions = ${(transactions / drawings).toFixed(3)} transactions per drawing`);
  for (const s of everyone) await s.close();
});

t.test('a restart on the same data loses nothing that was broadcast', async (t) => {
  const database = persistentDatabase(t);
  const env = { WS_RATE_BURST: 10_000, WS_RATE_PER_SECOND: 10_000 };
  const first = await startServer(t, { database, env });
  const admin = await newUser(first, 'restart');
  const roomId = await createRoom(first, admin);
  const a = await joined(first, admin, roomId);
  for (let i = 0; i < 20; i++) a.sock.send(line(roomId, { clientRef: `r${i}`, text: `n${i}` }));
  const seen = [];
  for (let i = 0; i < 20; i++) seen.push((await a.sock.next('draw')).drawing);
  a.sock.send({ type: 'delete_drawing', roomId, drawingId: seen[0].id });
  await a.sock.next('delete_drawing');
  // A last burst, and the server stops while it is being written: what was echoed must survive.
  for (let i = 20; i < 120; i++) a.sock.send(line(roomId, { clientRef: `r${i}` }));
  await new Promise((r) => setTimeout(r, 5));
  // Writes still queued when the server stops are committed before the database closes.
  const queued = Array.from({ length: 30 }, (_, i) =>
    first.app.whiteboard.writer.write({ kind: 'draw', roomId, userId: admin.user.id, userName: admin.user.name, shape: shapeOf({ text: `q${i}` }), clientRef: `q${i}` }),
  );
  await first.close();
  const flushed = await Promise.all(queued);
  t.ok(
    flushed.every((r) => r.kind === 'drawn'),
    'queued writes were committed on close',
  );
  const closed = await a.sock.closed;
  t.equal(closed.code, 1001, 'sockets are closed with 1001 on shutdown');
  const echoed = a.sock.received.filter((m) => m.type === 'draw').map((m) => m.drawing);

  const second = await startServer(t, { database, env });
  const b = await joined(second, admin, roomId);
  const byId = new Map(b.state.drawings.map((d: any) => [d.id, d]));
  for (const d of echoed.slice(1)) t.same(byId.get(d.id), d, `drawing seq ${d.seq} survived intact`);
  t.notOk(byId.has(seen[0].id), 'the deleted drawing stays deleted');
  for (const r of flushed) if (r.kind === 'drawn') t.ok(byId.has(r.drawing.id), `flushed drawing ${r.drawing.text} is there`);
  t.ok(b.state.seq >= echoed[echoed.length - 1].seq);
  t.same(
    b.state.drawings.map((d: any) => d.seq),
    [...b.state.drawings.map((d: any) => d.seq)].sort((x: number, y: number) => x - y),
  );
  t.comment(`${echoed.length} drawings echoed before shutdown; ${b.state.drawings.length} live after restart`);
  b.sock.send(line(roomId, { clientRef: 'after' }));
  t.equal((await b.sock.next('draw')).seq, b.state.seq + 1, 'seq carries on after the restart');
  b.sock.send(line(roomId, { clientRef: 'r5' }));
  t.same((await b.sock.next('draw')).drawing, seen[5], 'a retry across the restart is still recognised');
  await b.sock.close();
});
