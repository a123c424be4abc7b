import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { login, request } from '../helpers/http.js';
import { craftJwt, decodeJwt } from '../helpers/jwt.js';
import { startServer, TEST_JWT_SECRET } from '../helpers/server.js';

t.test('REST refuses text and numbers that cannot be stored with 400, never 500', async (t) => {
  const server = await startServer(t);
  const s = await login(server, 'values@example.com');
  const room = (await request(server, 'POST', '/api/v1/rooms/', { token: s.access, body: {} })).body.roomId as string;

  const refused = async (t: Test, method: string, path: string, body: unknown, field: RegExp) => {
    const res = await request(server, method, path, { token: s.access, body });
    t.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body) ?? ''} → 400`);
    t.equal(res.body.code, 'invalid_request');
    t.match(res.body.message, field, 'the sentence names the field');
  };

  t.test('NUL characters', async (t) => {
    await refused(t, 'POST', '/api/v1/auth/generate-otp/', { email: 'a\u0000@b.co' }, /"body\.email".*NUL/);
    await refused(t, 'POST', '/api/v1/auth/verify-otp/', { email: 'a\u0000@b.co', otp_code: '123456' }, /body\.email/);
    await refused(t, 'PATCH', '/api/v1/auth/me/', { name: 'a\u0000b' }, /body\.name/);
    await refused(t, 'GET', '/api/v1/rooms/%00/', undefined, /params\.idOrSlug/);
    await refused(t, 'GET', '/api/v1/rooms/%00/drawings/', undefined, /params\.roomId/);
    await refused(t, 'GET', '/api/v1/chat/history/a%00/', undefined, /params\.grammarId/);
  });

  t.test('lone surrogates', async (t) => {
    await refused(t, 'POST', '/api/v1/auth/generate-otp/', { email: 'a\ud800@b.co' }, /"body\.email".*surrogate/);
    await refused(t, 'PATCH', '/api/v1/auth/me/', { name: 'a\udc00b' }, /body\.name/);
    await refused(t, 'POST', '/api/v1/rooms/', { slug: '\ud83d' }, /slug/);
    await refused(t, 'POST', '/api/v1/auth/token/refresh/', { refresh: 'x\ud800' }, /body\.refresh/);
    const me = await request(server, 'GET', '/api/v1/auth/me/', { token: s.access });
    t.equal(me.body.name, 'values', 'nothing was renamed');
    const ok = await request(server, 'PATCH', '/api/v1/auth/me/', { token: s.access, body: { name: 'Zoë 🎨' } });
    t.equal(ok.status, 200, 'a well-formed pair of surrogates (an emoji) is fine');
    t.equal(ok.body.name, 'Zoë 🎨');
  });

  t.test('integers outside their column or not finite', async (t) => {
    await refused(t, 'GET', `/api/v1/rooms/${room}/drawings/?after=2147483648`, undefined, /after/);
    await refused(t, 'GET', `/api/v1/rooms/${room}/drawings/?after=1e400`, undefined, /query\.after.*finite/);
    await refused(t, 'GET', `/api/v1/rooms/${room}/drawings/?limit=1e309`, undefined, /query\.limit/);
    await refused(t, 'GET', `/api/v1/rooms/${room}/drawings/?limit=-1e309`, undefined, /limit/);
    await refused(t, 'GET', '/api/v1/chat/history/1/?before=2147483648', undefined, /before/);
    await refused(t, 'GET', '/api/v1/chat/history/1/?before=1e400', undefined, /query\.before/);
    const last = await request(server, 'GET', `/api/v1/rooms/${room}/drawings/?after=2147483647&limit=1000`, { token: s.access });
    t.equal(last.status, 200, 'the largest cursor is still answered');
    t.same(last.body, { drawings: [], nextCursor: null });
    const history = await request(server, 'GET', '/api/v1/chat/history/1/?before=2147483647', { token: s.access });
    t.equal(history.status, 200);
  });
});

t.test('a valid token of an account that no longer exists gets 401 on every authenticated route', async (t) => {
  const server = await startServer(t);
  const owner = await login(server, 'owner@example.com');
  const room = (await request(server, 'POST', '/api/v1/rooms/', { token: owner.access, body: {} })).body.roomId as string;
  // Signed with the server's own secret for a live login, as a development token is after switching databases.
  const { claims } = decodeJwt(owner.access);
  const ghost = craftJwt({ ...claims, sub: randomUUID(), email: 'ghost@example.com' }, TEST_JWT_SECRET);
  const routes: Array<[string, string, unknown?]> = [
    ['POST', '/api/v1/rooms/', {}],
    ['GET', `/api/v1/rooms/${room}/`],
    ['GET', `/api/v1/rooms/${room}/drawings/`],
    ['GET', '/api/v1/auth/me/'],
    ['PATCH', '/api/v1/auth/me/', { name: 'ghost' }],
    ['GET', '/api/v1/chat/history/1/'],
    ['DELETE', '/api/v1/chat/history/1/'],
  ];
  for (const [method, path, body] of routes) {
    const res = await request(server, method, path, { token: ghost, body });
    t.equal(res.status, 401, `${method} ${path}`);
    t.equal(res.body.code, 'unauthorized');
    // The login check runs first: a token naming a login that is not this account's is refused as such.
    t.match(res.body.message, /no longer exists.*log in|names no login; refresh it or sign in again/);
  }
  const fine = await request(server, 'GET', `/api/v1/rooms/${room}/`, { token: owner.access });
  t.equal(fine.status, 200, "an existing account's token still works");
});
