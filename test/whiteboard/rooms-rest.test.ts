import t from 'tap';
import { request } from '../helpers/http.js';
import { startServer } from '../helpers/server.js';
import { createRoom, joined, line, newUser } from './fixtures.js';

t.test('rooms REST', async (t) => {
  const server = await startServer(t, { env: { WS_RATE_BURST: 5000, WS_RATE_PER_SECOND: 5000 } });
  const admin = await newUser(server, 'rest');
  const other = await newUser(server, 'other');

  t.test('create and read a room', async (t) => {
    const res = await request(server, 'POST', '/api/v1/rooms/', { token: admin.access, body: {} });
    t.equal(res.status, 201);
    t.match(res.body, { roomId: /^[A-Za-z0-9_-]{22}$/, slug: null, adminId: admin.user.id });
    t.ok(!Number.isNaN(Date.parse(res.body.createdAt)));
    const second = await request(server, 'POST', '/api/v1/rooms', { token: admin.access });
    t.equal(second.status, 201, 'no body and no trailing slash work too');
    t.not(second.body.roomId, res.body.roomId);

    const got = await request(server, 'GET', `/api/v1/rooms/${res.body.roomId}/`, { token: other.access });
    t.same(got.body, res.body);
    const missing = await request(server, 'GET', '/api/v1/rooms/nope/', { token: admin.access });
    t.equal(missing.status, 404);
    t.match(missing.body, { statusCode: 404, code: 'room_not_found', message: String });
  });

  t.test('slugs: unique, 409 when taken, validated, found by GET', async (t) => {
    const slug = `team-board-${process.pid}`;
    const res = await request(server, 'POST', '/api/v1/rooms/', { token: admin.access, body: { slug } });
    t.equal(res.status, 201);
    t.equal(res.body.slug, slug);
    const taken = await request(server, 'POST', '/api/v1/rooms/', { token: other.access, body: { slug } });
    t.equal(taken.status, 409);
    t.match(taken.body, { statusCode: 409, code: 'slug_taken', message: /taken/ });
    for (const bad of ['ab', 'Has-Caps', 'with space', 'x'.repeat(65), 'under_score']) {
      const r = await request(server, 'POST', '/api/v1/rooms/', { token: admin.access, body: { slug: bad } });
      t.equal(r.status, 400, `slug "${bad}" is refused`);
    }
    const extra = await request(server, 'POST', '/api/v1/rooms/', { token: admin.access, body: { slug: `x-${process.pid}`, adminId: other.user.id } });
    t.equal(extra.status, 201, 'unknown fields are stripped');
    t.equal(extra.body.adminId, admin.user.id, 'never stored: the caller is the admin');
    const bySlug = await request(server, 'GET', `/api/v1/rooms/${slug}`, { token: other.access });
    t.same(bySlug.body, res.body);
  });

  t.test('a Bearer token is required', async (t) => {
    t.equal((await request(server, 'POST', '/api/v1/rooms/', { body: {} })).status, 401);
    t.equal((await request(server, 'GET', '/api/v1/rooms/anything/')).status, 401);
    t.equal((await request(server, 'GET', '/api/v1/rooms/anything/drawings/', { token: admin.refresh })).status, 401);
  });

  t.test('drawings are paged oldest first with nextCursor and no silent cap', async (t) => {
    const roomId = await createRoom(server, admin);
    const a = await joined(server, admin, roomId);
    for (let i = 0; i < 25; i++) a.sock.send(line(roomId, { clientRef: `p${i}`, text: `t${i}` }));
    const echoed = [];
    for (let i = 0; i < 25; i++) echoed.push((await a.sock.next('draw')).drawing);
    a.sock.send({ type: 'delete_drawing', roomId, drawingId: echoed[3].id });
    await a.sock.next('delete_drawing');
    const live = echoed.filter((_, i) => i !== 3);

    const all = [];
    let after: number | null = 0;
    let pages = 0;
    while (after !== null) {
      const res: { status: number; body: any } = await request(server, 'GET', `/api/v1/rooms/${roomId}/drawings/?after=${after}&limit=10`, { token: other.access });
      t.equal(res.status, 200);
      t.ok(res.body.drawings.length <= 10);
      all.push(...res.body.drawings);
      after = res.body.nextCursor;
      pages++;
    }
    t.equal(pages, 3);
    t.same(all, live, 'every live drawing, oldest first, exactly as broadcast');

    const whole = await request(server, 'GET', `/api/v1/rooms/${roomId}/drawings`, { token: other.access });
    t.equal(whole.body.drawings.length, 24);
    t.equal(whole.body.nextCursor, null);
    const exact = await request(server, 'GET', `/api/v1/rooms/${roomId}/drawings/?limit=24`, { token: other.access });
    t.equal(exact.body.nextCursor, null, 'no cursor when the page ends exactly at the last drawing');

    const tooMany = await request(server, 'GET', `/api/v1/rooms/${roomId}/drawings/?limit=100000`, { token: other.access });
    t.equal(tooMany.status, 400, 'an oversized limit is refused, not silently capped');
    t.match(tooMany.body.message, /limit/);
    t.equal((await request(server, 'GET', `/api/v1/rooms/${roomId}/drawings/?after=-1`, { token: other.access })).status, 400);
    t.equal((await request(server, 'GET', '/api/v1/rooms/unknown-room/drawings/', { token: other.access })).status, 404);
    await a.sock.close();
  });

  t.test('the OpenAPI document describes the room routes', async (t) => {
    const doc = await request(server, 'GET', '/docs/json');
    t.equal(doc.status, 200);
    const paths = Object.keys(doc.body.paths);
    t.ok(
      paths.some((p) => p.startsWith('/api/v1/rooms/') && p.includes('drawings')),
      'drawings route',
    );
    const create = (doc.body.paths['/api/v1/rooms/'] ?? doc.body.paths['/api/v1/rooms'])?.post;
    t.ok(create?.responses?.['201'], 'create documents its 201');
    t.ok(create?.responses?.['409'], 'and its 409');
    t.ok(create?.requestBody?.content?.['application/json']?.schema?.properties?.access, 'create documents the access mode');
    const path = (suffix: string) => doc.body.paths[`/api/v1/rooms/${suffix}`];
    t.ok((path('') ?? doc.body.paths['/api/v1/rooms'])?.get?.responses?.['200'], 'the caller’s rooms are listed');
    t.ok(path('{roomId}/links/')?.post?.responses?.['201'], 'share links are made');
    t.ok(path('{roomId}/links/{token}/')?.delete?.responses?.['204'], 'and revoked');
    t.ok(path('{roomId}/members/{userId}/')?.put?.requestBody, 'members are set with a role');
    t.ok(path('{roomId}/members/{userId}/')?.delete?.responses?.['204'], 'and removed');
  });
});
