import t from 'tap';
import { startServer } from '../helpers/server.js';
import { connect, createRoom, joined, line, newUser, nothingMore, roomState } from './fixtures.js';

t.test('drawing in a shared room', async (t) => {
  const server = await startServer(t, { env: { WS_RATE_BURST: 5000, WS_RATE_PER_SECOND: 5000 } });
  const admin = await newUser(server, 'admin');
  const bob = await newUser(server, 'bob');
  const carol = await newUser(server, 'carol');

  t.test('join, draw, echo with clientRef only to the sender, late joiner sees it', async (t) => {
    const roomId = await createRoom(server, admin);
    const a = await joined(server, admin, roomId);
    t.same(a.state.drawings, []);
    t.equal(a.state.seq, 0);
    t.same(a.state.members, [{ id: admin.user.id, name: admin.user.name }]);
    t.equal(a.state.frames.length, 1);
    const b = await joined(server, bob, roomId);
    t.same(b.state.members.map((m: any) => m.id).sort(), [admin.user.id, bob.user.id].sort());
    const joinedFrame = await a.sock.next('member_joined');
    t.same(joinedFrame, { type: 'member_joined', roomId, user: { id: bob.user.id, name: bob.user.name } });

    a.sock.send(line(roomId, { clientRef: 'ref-1', text: 'hi' }));
    const echo = await a.sock.next('draw');
    t.equal(echo.clientRef, 'ref-1');
    t.equal(echo.seq, 1);
    t.equal(echo.drawing.seq, 1);
    t.match(echo.drawing, {
      roomId,
      shapeType: 'line',
      points: [
        { x: 1, y: 2 },
        { x: 3, y: 4 },
      ],
      color: '#ff0000',
      strokeWidth: 3,
      x: null,
      text: 'hi',
      imageUrl: null,
      userId: admin.user.id,
      userName: admin.user.name,
    });
    t.same(
      Object.keys(echo.drawing).sort(),
      ['color', 'createdAt', 'height', 'id', 'imageUrl', 'points', 'radius', 'roomId', 'seq', 'shapeType', 'strokeWidth', 'text', 'userId', 'userName', 'width', 'x', 'y'].sort(),
    );
    const seen = await b.sock.next('draw');
    t.same(seen.drawing, echo.drawing);
    t.notOk('clientRef' in seen, "another member does not get the sender's clientRef");

    // defaults
    a.sock.send({ type: 'draw', roomId });
    const plain = await a.sock.next('draw');
    t.match(plain.drawing, { shapeType: 'line', color: '#000000', strokeWidth: 2, points: [] });
    t.same((await b.sock.next('draw')).drawing, plain.drawing);

    // a retry with the same clientRef stores nothing new and echoes the stored drawing
    a.sock.send(line(roomId, { clientRef: 'ref-1', color: '#00ff00' }));
    const retry = await a.sock.next('draw');
    t.equal(retry.clientRef, 'ref-1');
    t.same(retry.drawing, echo.drawing);
    t.same(await nothingMore(b.sock, (m) => m.type === 'draw'), [], 'a retry is not broadcast again');

    const late = await joined(server, carol, roomId);
    t.same(
      late.state.drawings.map((d: any) => d.id),
      [echo.drawing.id, plain.drawing.id],
    );
    t.equal(late.state.seq, 2);
    t.same(late.state.drawings[0], echo.drawing);
    for (const s of [a.sock, b.sock, late.sock]) await s.close();
  });

  t.test('delete: author or admin; others are forbidden', async (t) => {
    const roomId = await createRoom(server, admin);
    const a = await joined(server, admin, roomId);
    const b = await joined(server, bob, roomId);
    const c = await joined(server, carol, roomId);
    b.sock.send(line(roomId, { clientRef: 'b1' }));
    const d1 = (await b.sock.next('draw')).drawing;
    b.sock.send(line(roomId, { clientRef: 'b2' }));
    const d2 = (await b.sock.next('draw')).drawing;

    c.sock.send({ type: 'delete_drawing', roomId, drawingId: d1.id });
    const refused = await c.sock.next('error');
    t.match(refused, { type: 'error', code: 'forbidden', roomId });
    t.match(refused.message, /author|admin/);

    b.sock.send({ type: 'delete_drawing', roomId, drawingId: d1.id });
    const del = await c.sock.next('delete_drawing');
    t.same(del, { type: 'delete_drawing', roomId, seq: 3, drawingId: d1.id });
    t.same(await b.sock.next('delete_drawing'), del, 'the author sees it too');

    a.sock.send({ type: 'delete_drawing', roomId, drawingId: d2.id });
    t.same(await b.sock.next('delete_drawing'), { type: 'delete_drawing', roomId, seq: 4, drawingId: d2.id }, 'the admin may delete anyone’s drawing');

    a.sock.send({ type: 'delete_drawing', roomId, drawingId: d2.id });
    const unknown = await a.sock.next('error');
    t.match(unknown, { code: 'invalid_message', roomId }, 'there is no drawing_not_found code');
    t.ok(unknown.message.includes(d2.id), 'the sentence names the drawingId');

    const late = await joined(server, carol, roomId);
    t.same(late.state.drawings, []);
    t.equal(late.state.seq, 4);
    for (const s of [a.sock, b.sock, c.sock, late.sock]) await s.close();
  });

  t.test('clear: admin only, clear_room is a synonym, late joiners see an empty canvas', async (t) => {
    const roomId = await createRoom(server, admin);
    const a = await joined(server, admin, roomId);
    const b = await joined(server, bob, roomId);
    b.sock.send(line(roomId));
    b.sock.send(line(roomId));
    await b.sock.next('draw');
    await b.sock.next('draw');
    b.sock.send({ type: 'clear_canvas', roomId });
    t.match(await b.sock.next('error'), { code: 'forbidden', roomId });
    b.sock.send({ type: 'clear_room', roomId });
    t.match(await b.sock.next('error'), { code: 'forbidden', roomId });

    a.sock.send({ type: 'clear_canvas', roomId });
    t.same(await b.sock.next('clear_canvas'), { type: 'clear_canvas', roomId, seq: 3, userId: admin.user.id });
    const after = await joined(server, carol, roomId);
    t.same(after.state.drawings, []);
    t.equal(after.state.seq, 3);

    b.sock.send(line(roomId));
    await b.sock.next('draw');
    a.sock.send({ type: 'clear_room', roomId });
    t.match(await b.sock.next('clear_canvas'), { seq: 5 });
    const again = await joined(server, carol, roomId);
    t.same(again.state.drawings, []);
    for (const s of [a.sock, b.sock, after.sock, again.sock]) await s.close();
  });

  t.test('a late joiner gets a big canvas in chunks of at most 500', async (t) => {
    const roomId = await createRoom(server, admin);
    const a = await joined(server, admin, roomId);
    for (let i = 0; i < 1203; i++) a.sock.send(line(roomId, { clientRef: `c${i}` }));
    for (let i = 0; i < 1203; i++) await a.sock.next('draw');
    const late = await joined(server, bob, roomId);
    t.same(
      late.state.frames.map((f: any) => f.drawings.length),
      [500, 500, 203],
    );
    t.same(
      late.state.frames.map((f: any) => f.complete),
      [false, false, true],
    );
    t.ok(late.state.frames.every((f: any) => f.seq === 1203 && f.members.length === 2));
    const seqs = late.state.drawings.map((d: any) => d.seq);
    t.same(
      seqs,
      Array.from({ length: 1203 }, (_, i) => i + 1),
      'oldest first, none missing',
    );
    for (const s of [a.sock, late.sock]) await s.close();
  });

  t.test('a canvas of heavy drawings comes in frames of about 1 MiB', async (t) => {
    const roomId = await createRoom(server, admin);
    const a = await joined(server, admin, roomId);
    const points = Array.from({ length: 5000 }, (_, i) => ({ x: i, y: -i }));
    for (let i = 0; i < 30; i++) a.sock.send(line(roomId, { clientRef: `h${i}`, points }));
    for (let i = 0; i < 30; i++) await a.sock.next('draw');
    const late = await joined(server, bob, roomId);
    t.ok(late.state.frames.length > 1, `${late.state.frames.length} frames`);
    t.same(
      late.state.frames.map((f: any) => f.complete),
      late.state.frames.map((_: any, i: number) => i === late.state.frames.length - 1),
    );
    t.equal(late.state.drawings.length, 30);
    t.ok(late.state.drawings.every((d: any) => d.points.length === 5000));
    for (const s of [a.sock, late.sock]) await s.close();
  });

  t.test('leave_room stops the events; a socket may be in several rooms', async (t) => {
    const r1 = await createRoom(server, admin);
    const r2 = await createRoom(server, admin);
    const a = await connect(server, admin);
    a.send({ type: 'join_room', roomId: r1 });
    a.send({ type: 'join_room', roomId: r2 });
    await roomState(a, r1);
    await roomState(a, r2);
    const b = await joined(server, bob, r1);
    const b2 = await joined(server, bob, r2);
    b.sock.send(line(r1));
    b2.sock.send(line(r2));
    t.equal((await a.next((m) => m.type === 'draw' && m.roomId === r1)).roomId, r1);
    t.equal((await a.next((m) => m.type === 'draw' && m.roomId === r2)).roomId, r2);
    a.drain();
    a.send({ type: 'leave_room', roomId: r1 });
    t.match(await b.sock.next('member_left'), { roomId: r1, user: { id: admin.user.id } });
    b.sock.send(line(r1));
    await b.sock.next('draw');
    t.same(await nothingMore(a, (m) => m.roomId === r1), [], 'no events from a room left');
    a.send(line(r1));
    t.match(await a.next('error'), { code: 'not_in_room', roomId: r1 });
    a.send({ type: 'leave_room', roomId: r1 });
    t.match(await a.next('error'), { code: 'not_in_room', roomId: r1 });
    b2.sock.send(line(r2));
    t.equal((await a.next((m) => m.type === 'draw' && m.roomId === r2)).roomId, r2, 'still in the other room');
    for (const s of [a, b.sock, b2.sock]) await s.close();
  });
});

t.test('room_full at ROOM_MAX_DRAWINGS', async (t) => {
  const server = await startServer(t, { env: { ROOM_MAX_DRAWINGS: 3 } });
  const admin = await newUser(server, 'full');
  const roomId = await createRoom(server, admin);
  const a = await joined(server, admin, roomId);
  for (let i = 0; i < 4; i++) a.sock.send(line(roomId, { clientRef: `f${i}` }));
  for (let i = 0; i < 3; i++) t.equal((await a.sock.next('draw')).clientRef, `f${i}`);
  const full = await a.sock.next('error');
  t.match(full, { code: 'room_full', ref: 'f3', roomId });
  t.match(full.message, /3 drawings/);
  const first = (await joined(server, admin, roomId)).state.drawings[0];
  a.sock.send({ type: 'delete_drawing', roomId, drawingId: first.id });
  await a.sock.next('delete_drawing');
  a.sock.send(line(roomId, { clientRef: 'f4' }));
  t.equal((await a.sock.next('draw')).clientRef, 'f4', 'room for one more after a delete');
  await a.sock.close();
});
