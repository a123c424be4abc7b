import t from 'tap';
import { request, type Session } from '../helpers/http.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { connect, joined, line, newUser, nothingMore, roomState } from './fixtures.js';

async function create(server: TestServer, admin: Session, body: Record<string, unknown>): Promise<any> {
  const res = await request(server, 'POST', '/api/v1/rooms/', { token: admin.access, body });
  if (res.status !== 201) throw new Error(`create room ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

const setRole = (server: TestServer, admin: Session, roomId: string, userId: string, role: string) =>
  request(server, 'PUT', `/api/v1/rooms/${roomId}/members/${userId}/`, { token: admin.access, body: { role } });

/** Joins and returns the first answer: the room_state, or the error refusing the join. */
async function tryJoin(server: TestServer, user: Session, roomId: string, share?: string) {
  const sock = await connect(server, user);
  sock.send({ type: 'join_room', roomId, ...(share === undefined ? {} : { share }) });
  const first = await sock.next((m) => m.type === 'room_state' || m.type === 'error');
  return { sock, first };
}

t.test('room access: roles, share links, members', async (t) => {
  const server = await startServer(t);
  const admin = await newUser(server, 'admin');
  const viewer = await newUser(server, 'viewer');
  const editor = await newUser(server, 'editor');
  const stranger = await newUser(server, 'stranger');

  t.test('a viewer receives everything but may only send cursor, leave_room and ping', async (t) => {
    const room = await create(server, admin, {});
    t.equal(room.access, 'open', 'open by default');
    t.equal((await setRole(server, admin, room.roomId, viewer.user.id, 'viewer')).status, 200);
    const a = await joined(server, admin, room.roomId);
    t.equal(a.state.frames[0].role, 'admin', "the creator's room_state says admin");
    const v = await joined(server, viewer, room.roomId);
    t.equal(v.state.frames[0].role, 'viewer');

    a.sock.send(line(room.roomId, { clientRef: 'a1' }));
    const drawn = await v.sock.next('draw');
    t.equal(drawn.drawing.userId, admin.user.id, 'the viewer receives drawings');
    await a.sock.next((m) => m.type === 'draw' && m.clientRef === 'a1');

    const refusals = [
      line(room.roomId, { clientRef: 'v1' }),
      { type: 'delete_drawing', roomId: room.roomId, drawingId: drawn.drawing.id },
      { type: 'clear_canvas', roomId: room.roomId },
      { type: 'ai_generate_image', roomId: room.roomId, prompt: 'a cat' },
    ];
    for (const msg of refusals) {
      v.sock.send(msg);
      const err = await v.sock.next('error');
      t.equal(err.code, 'forbidden', `${msg.type} is forbidden`);
      t.match(err.message, /viewer/, `the refusal of ${msg.type} names the role`);
      t.equal(err.roomId, room.roomId);
    }
    v.sock.send({ type: 'cursor', roomId: room.roomId, x: 1, y: 2 });
    t.match(await a.sock.next('cursor'), { userId: viewer.user.id, x: 1, y: 2 }, 'a viewer moves a cursor');
    v.sock.send({ type: 'ping' });
    await v.sock.next('pong');
    t.same(
      await nothingMore(a.sock, (m) => m.type === 'draw' || m.type === 'clear_canvas' || m.type === 'delete_drawing' || m.type === 'ai_generating'),
      [],
      'nothing the viewer tried reached the room',
    );
    const page = await request(server, 'GET', `/api/v1/rooms/${room.roomId}/drawings/`, { token: admin.access });
    t.equal(page.body.drawings.length, 1, 'the drawing is still there');
    v.sock.send({ type: 'leave_room', roomId: room.roomId });
    await a.sock.next('member_left');
    await Promise.all([a.sock.close(), v.sock.close()]);
  });

  t.test('a role change applies to the next message without reconnecting', async (t) => {
    const room = await create(server, admin, {});
    const e = await joined(server, editor, room.roomId);
    t.equal(e.state.frames[0].role, 'editor', 'any signed-in user joins an open room as editor');
    e.sock.send(line(room.roomId, { clientRef: 'e1' }));
    await e.sock.next((m) => m.type === 'draw' && m.clientRef === 'e1');

    t.equal((await setRole(server, admin, room.roomId, editor.user.id, 'viewer')).status, 200);
    e.sock.send(line(room.roomId, { clientRef: 'e2' }));
    t.match(await e.sock.next('error'), { code: 'forbidden', ref: 'e2', message: /viewer/ });

    t.equal((await setRole(server, admin, room.roomId, editor.user.id, 'editor')).status, 200);
    e.sock.send(line(room.roomId, { clientRef: 'e3' }));
    await e.sock.next((m) => m.type === 'draw' && m.clientRef === 'e3');
    await e.sock.close();
  });

  t.test('a share link lets its holders in; a revoked link is refused', async (t) => {
    const room = await create(server, admin, { access: 'link' });
    const res = await request(server, 'POST', `/api/v1/rooms/${room.roomId}/links/`, { token: admin.access, body: { role: 'editor' } });
    t.equal(res.status, 201);
    t.match(res.body, { token: String, role: 'editor', url: new RegExp(`/rooms/${room.roomId}\\?share=`) });
    const { token } = res.body;
    const notAdmin = await request(server, 'POST', `/api/v1/rooms/${room.roomId}/links/`, { token: editor.access, body: { role: 'editor' } });
    t.equal(notAdmin.status, 403, 'only the admin makes links');

    const without = await tryJoin(server, editor, room.roomId);
    t.match(without.first, { type: 'error', code: 'forbidden', roomId: room.roomId, message: /share/ }, 'no token, no entry');
    const withIt = await tryJoin(server, editor, room.roomId, token);
    t.match(withIt.first, { type: 'room_state', role: 'editor' });
    withIt.sock.send(line(room.roomId, { clientRef: 'l1' }));
    await withIt.sock.next((m) => m.type === 'draw' && m.clientRef === 'l1');

    t.equal((await request(server, 'DELETE', `/api/v1/rooms/${room.roomId}/links/${token}/`, { token: admin.access })).status, 204);
    t.equal((await request(server, 'DELETE', `/api/v1/rooms/${room.roomId}/links/${token}/`, { token: admin.access })).status, 404, 'already revoked');
    const late = await tryJoin(server, stranger, room.roomId, token);
    t.match(late.first, { type: 'error', code: 'forbidden', message: /revoked/ }, 'a revoked link lets no one in');

    const listed = await request(server, 'GET', '/api/v1/rooms/', { token: editor.access });
    t.match(
      listed.body.rooms.find((r: any) => r.roomId === room.roomId),
      { access: 'link', role: 'editor' },
      'whoever joined with the link is a member and sees the room in their list',
    );
    await Promise.all([without.sock.close(), withIt.sock.close(), late.sock.close()]);
  });

  t.test('a private room refuses strangers; members the admin added get in', async (t) => {
    const room = await create(server, admin, { access: 'private', slug: `private-${process.pid}` });
    const out = await tryJoin(server, stranger, room.roomId);
    t.match(out.first, { type: 'error', code: 'forbidden', message: /private/ });
    t.equal((await request(server, 'GET', `/api/v1/rooms/${room.roomId}/drawings/`, { token: stranger.access })).status, 403, 'nor read its drawings');
    t.equal((await setRole(server, admin, room.roomId, stranger.user.id, 'editor')).status, 200);
    const bySlug = await tryJoin(server, stranger, room.slug);
    t.match(bySlug.first, { type: 'room_state', roomId: room.roomId, role: 'editor' }, 'joined by slug once added');
    await roomState(bySlug.sock, room.roomId).catch(() => undefined);
    const listed = await request(server, 'GET', '/api/v1/rooms/', { token: admin.access });
    t.match(
      listed.body.rooms.find((r: any) => r.roomId === room.roomId),
      { role: 'admin', access: 'private' },
    );
    await Promise.all([out.sock.close(), bySlug.sock.close()]);
  });

  t.test('a removed member gets access_revoked and stops receiving', async (t) => {
    const room = await create(server, admin, { access: 'private' });
    t.equal((await setRole(server, admin, room.roomId, editor.user.id, 'editor')).status, 200);
    const a = await joined(server, admin, room.roomId);
    const e = await joined(server, editor, room.roomId);
    await a.sock.next('member_joined');

    t.equal((await request(server, 'DELETE', `/api/v1/rooms/${room.roomId}/members/${editor.user.id}/`, { token: admin.access })).status, 204);
    t.same(await e.sock.next('access_revoked'), { type: 'access_revoked', roomId: room.roomId });
    t.match(await a.sock.next('member_left'), { user: { id: editor.user.id } }, 'the others see them leave');

    a.sock.send(line(room.roomId, { clientRef: 'after' }));
    await a.sock.next((m) => m.type === 'draw' && m.clientRef === 'after');
    t.same(await nothingMore(e.sock, (m) => m.type === 'draw'), [], 'no more room events');
    e.sock.send(line(room.roomId, { clientRef: 'e-after' }));
    t.match(await e.sock.next('error'), { code: 'not_in_room' });
    e.sock.send({ type: 'join_room', roomId: room.roomId });
    t.match(await e.sock.next('error'), { code: 'forbidden', message: /private/ }, 'and cannot rejoin');
    const stillMember = await request(server, 'PUT', `/api/v1/rooms/${room.roomId}/members/${admin.user.id}/`, { token: admin.access, body: { role: 'viewer' } });
    t.equal(stillMember.status, 409, "the admin's own role cannot change");
    await Promise.all([a.sock.close(), e.sock.close()]);
  });
});
