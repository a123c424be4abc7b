import t from 'tap';
import { request, type Session } from '../helpers/http.js';
import { ManualClock } from '../helpers/clock.js';
import { persistentDatabase, startServer, type TestServer } from '../helpers/server.js';
import { connect, createRoom, joined, line, newUser, nothingMore, ordered, resume } from './fixtures.js';
import type { TestSocket } from '../helpers/ws-client.js';

/** Draws and waits for the drawer's own echo; returns its seq. */
async function draw(sock: TestSocket, roomId: string, clientRef: string): Promise<number> {
  sock.send(line(roomId, { clientRef }));
  return (await sock.next((m) => m.type === 'draw' && m.clientRef === clientRef, 20_000)).seq;
}

const seqs = (frames: any[]) => frames.map((f) => f.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

t.test('a client that was away gets exactly what it missed, then live events, with no gap and no repeat', async (t) => {
  const server = await startServer(t);
  const ann = await newUser(server, 'resann');
  const bob = await newUser(server, 'resbob');
  const cat = await newUser(server, 'rescat');
  const roomId = await createRoom(server, ann);
  const a = await joined(server, ann, roomId);
  const b = await joined(server, bob, roomId);
  // Cat stays connected throughout: what she sees is what was broadcast.
  const c = await joined(server, cat, roomId);
  for (let i = 0; i < 3; i++) await draw(b.sock, roomId, `before${i}`);
  const applied = (await a.sock.next((m) => m.type === 'draw' && m.seq === 3)).seq;
  await a.sock.close();

  const first = await draw(b.sock, roomId, 'away0');
  for (let i = 1; i < 5; i++) await draw(b.sock, roomId, `away${i}`);
  b.sock.send({ type: 'delete_drawing', roomId, drawingId: (await c.sock.next((m) => m.type === 'draw' && m.seq === first)).drawing.id });
  await c.sock.next('delete_drawing');

  // Bob keeps drawing while Ann rejoins: some of these land before her seq, some after.
  const back = await connect(server, ann);
  for (let i = 0; i < 40; i++) b.sock.send(line(roomId, { clientRef: `during${i}` }));
  const replaying = resume(back, roomId, applied);
  // Ann draws at once too: her drawing comes once, in the replay or live.
  back.send(line(roomId, { clientRef: 'mine' }));
  const answer = await replaying;
  t.equal(answer.kind, 'room_events', 'resumed, not reloaded');
  t.equal(answer.frames.length, 1);
  t.match(answer.frames[0], { roomId, role: 'admin', complete: true });
  t.same(answer.frames[0].members.map((m: any) => m.id).sort(), [ann.user.id, bob.user.id, cat.user.id].sort());
  const caughtUp = answer.frames[0].seq;
  t.same(seqs(answer.events), range(applied + 1, caughtUp), 'every missed event, in seq order, once');
  const bobsLast = await b.sock.next((m) => m.type === 'draw' && m.clientRef === 'during39', 20_000);
  const annsOwn = await c.sock.next((m) => m.type === 'draw' && m.drawing.userId === ann.user.id, 20_000);
  const final = Math.max(bobsLast.seq, annsOwn.seq);
  // On a slow machine every one of these can be stored before the replay is read: then nothing
  // comes live, and waiting for a first live event would wait for ever.
  const live = [];
  while ((live.length ? live[live.length - 1].seq : caughtUp) < final) live.push(await back.next(ordered, 20_000));
  t.same([...seqs(answer.events), ...seqs(live)], range(applied + 1, final), 'replay then live: no gap, no repeat');
  t.same(await nothingMore(back, ordered), [], 'nothing more');
  const mine = [...answer.events, ...live].filter((f) => f.type === 'draw' && f.drawing.userId === ann.user.id);
  t.equal(mine.length, 1, 'her own drawing once');

  const broadcast = c.sock.received.filter(ordered);
  const bySeq = new Map(broadcast.map((f: any) => [f.seq, f]));
  t.same(
    answer.events,
    answer.events.map((e: any) => bySeq.get(e.seq)),
    'the replayed frames are the broadcast ones',
  );
  for (const s of [back, b.sock, c.sock]) await s.close();
});

t.test('a long absence comes in frames of at most 500 events, the last complete', async (t) => {
  const server = await startServer(t, { env: { WS_RATE_BURST: 5000, WS_RATE_PER_SECOND: 5000 } });
  const ann = await newUser(server, 'reschunk');
  const roomId = await createRoom(server, ann);
  const a = await joined(server, ann, roomId);
  for (let i = 0; i < 1200; i++) a.sock.send(line(roomId, { clientRef: `c${i}` }));
  await a.sock.next((m) => m.type === 'draw' && m.clientRef === 'c1199', 60_000);
  await a.sock.close();

  const back = await connect(server, ann);
  const answer = await resume(back, roomId, 0);
  t.equal(answer.kind, 'room_events');
  t.same(
    answer.frames.map((f) => [f.events.length, f.complete]),
    [
      [500, false],
      [500, false],
      [200, true],
    ],
  );
  t.ok(
    answer.frames.every((f) => f.seq === 1200),
    'each frame carries the seq it catches up to',
  );
  t.same(seqs(answer.events), range(1, 1200));
  await back.close();
});

t.test('a resume the log cannot serve gets the whole state with resync:true', async (t) => {
  const clock = new ManualClock();
  const server = await startServer(t, { clock, env: { ROOM_EVENT_LOG_EVENTS: 5, ROOM_EVENT_LOG_AGE: '1h' } });
  const ann = await newUser(server, 'resync');
  const roomId = await createRoom(server, ann);
  const a = await joined(server, ann, roomId);
  for (let i = 1; i <= 12; i++) await draw(a.sock, roomId, `p${i}`);

  t.test('sinceSeq ahead of the room', async (t) => {
    const sock = await connect(server, ann);
    const answer = await resume(sock, roomId, 13);
    t.equal(answer.kind, 'room_state');
    t.match(answer.state, { seq: 12, resync: true });
    t.equal(answer.state!.drawings.length, 12);
    await sock.close();
  });

  t.test('sinceSeq at the room’s seq: an empty, complete room_events', async (t) => {
    const sock = await connect(server, ann);
    const answer = await resume(sock, roomId, 12);
    t.equal(answer.kind, 'room_events');
    t.match(answer.frames, [{ roomId, seq: 12, events: [], complete: true, role: 'admin' }]);
    await sock.close();
  });

  t.test('older than what is kept', async (t) => {
    t.equal((await resume(await connect(server, ann), roomId, 1)).kind, 'room_events', 'young events are kept past the count');
    clock.advance(2 * 3600_000);
    await draw(a.sock, roomId, 'p13');
    const sock = await connect(server, ann);
    const answer = await resume(sock, roomId, 7);
    t.equal(answer.kind, 'room_state', 'the events after 7 are no longer all kept');
    t.match(answer.state, { seq: 13, resync: true });
    t.same(
      answer.state!.drawings.map((d: any) => d.seq),
      range(1, 13),
      'the whole canvas',
    );
    const kept = await resume(sock, roomId, 8);
    t.equal(kept.kind, 'room_events', 'the last five are kept');
    t.same(seqs(kept.events), range(9, 13));
    await sock.close();
  });

  t.test('from before a clear', async (t) => {
    a.sock.send({ type: 'clear_canvas', roomId });
    const clear = (await a.sock.next('clear_canvas')).seq;
    const after = await draw(a.sock, roomId, 'after-clear');
    const sock = await connect(server, ann);
    const answer = await resume(sock, roomId, clear - 2);
    t.equal(answer.kind, 'room_state');
    t.match(answer.state, { seq: after, resync: true });
    t.same(
      answer.state!.drawings.map((d: any) => d.seq),
      [after],
      'the canvas as it is after the clear',
    );
    const since = await resume(sock, roomId, clear);
    t.equal(since.kind, 'room_events', 'from the clear on, the log serves');
    t.same(seqs(since.events), [after]);
    await sock.close();
  });

  t.test('a join without sinceSeq is unchanged', async (t) => {
    const { sock, state } = await joined(server, ann, roomId);
    t.notOk('resync' in state.frames[0], 'no resync flag');
    await sock.close();
  });
});

t.test('a resume join obeys the room’s access like any join', async (t) => {
  const server = await startServer(t);
  const admin = await newUser(server, 'resadmin');
  const viewer = await newUser(server, 'resviewer');
  const stranger = await newUser(server, 'resstranger');
  const create = async (admin: Session, body: Record<string, unknown>) => (await request(server, 'POST', '/api/v1/rooms/', { token: admin.access, body })).body.roomId as string;
  const privateRoom = await create(admin, { access: 'private' });
  t.equal((await request(server, 'PUT', `/api/v1/rooms/${privateRoom}/members/${viewer.user.id}/`, { token: admin.access, body: { role: 'viewer' } })).status, 200);
  const a = await joined(server, admin, privateRoom);
  await draw(a.sock, privateRoom, 'secret1');
  await draw(a.sock, privateRoom, 'secret2');

  const s = await connect(server, stranger);
  const refused = await resume(s, privateRoom, 0);
  t.match(refused, { kind: 'error', error: { code: 'forbidden', roomId: privateRoom } }, 'a stranger gets no events');
  t.same(await nothingMore(s, (m) => m.type === 'room_events' || ordered(m)), []);

  const v = await connect(server, viewer);
  const answer = await resume(v, privateRoom, 1);
  t.equal(answer.kind, 'room_events');
  t.equal(answer.frames[0].role, 'viewer', 'the viewer resumes as a viewer');
  t.same(seqs(answer.events), [2]);
  v.send(line(privateRoom, { clientRef: 'nope' }));
  t.match(await v.next('error'), { code: 'forbidden', ref: 'nope' }, 'and still may not draw');

  const linkRoom = await create(admin, { access: 'link' });
  const link = (await request(server, 'POST', `/api/v1/rooms/${linkRoom}/links/`, { token: admin.access, body: { role: 'editor' } })).body.token;
  const w = await connect(server, stranger);
  t.match(await resume(w, linkRoom, 0), { kind: 'error', error: { code: 'forbidden' } }, 'a link room still needs its share token');
  const withLink = await resume(w, linkRoom, 0, { share: link });
  t.match(withLink.frames, [{ type: 'room_events', role: 'editor', events: [], complete: true }]);
  for (const sock of [a.sock, s, v, w]) await sock.close();
});

t.test('sinceSeq must be a non-negative integer a seq can be', async (t) => {
  const server = await startServer(t);
  const ann = await newUser(server, 'resbad');
  const roomId = await createRoom(server, ann);
  const sock = await connect(server, ann);
  for (const sinceSeq of [-1, 1.5, '3', 2_147_483_648, null]) {
    sock.send({ type: 'join_room', roomId, sinceSeq });
    const error = await sock.next('error');
    t.match(error, { code: 'invalid_message', roomId, message: /"sinceSeq"/ }, `sinceSeq ${JSON.stringify(sinceSeq)}`);
  }
  t.same(await nothingMore(sock, (m) => m.type === 'room_state' || m.type === 'room_events'), [], 'no join happened');
  await sock.close();
});

t.test('events survive a restart and can be resumed from', async (t) => {
  const database = persistentDatabase(t);
  const first: TestServer = await startServer(t, { database });
  const ann = await newUser(first, 'resrestart');
  const roomId = await createRoom(first, ann);
  const a = await joined(first, ann, roomId);
  for (let i = 0; i < 6; i++) await draw(a.sock, roomId, `r${i}`);
  a.sock.send({ type: 'delete_drawing', roomId, drawingId: (await a.sock.received.find((m) => m.type === 'draw' && m.seq === 2)).drawing.id });
  const deleted = await a.sock.next('delete_drawing');
  const broadcast = a.sock.received.filter(ordered).filter((f: any) => f.seq > 3);
  await a.sock.close();
  await first.close();

  const second = await startServer(t, { database });
  const sock = await connect(second, ann);
  const answer = await resume(sock, roomId, 3);
  t.equal(answer.kind, 'room_events');
  t.same(seqs(answer.events), range(4, deleted.seq));
  t.same(
    answer.events,
    broadcast.map(({ clientRef: _, ...f }: any) => f),
    'as broadcast before the restart (without the sender’s clientRef)',
  );
  await sock.close();
});
