import t from 'tap';
import { codeFromLog, login, request } from '../helpers/http.js';
import { decodeJwt } from '../helpers/jwt.js';
import { startServer } from '../helpers/server.js';

t.test('login flow over real HTTP', async (t) => {
  const server = await startServer(t);

  t.test('generate answers with the normalised address and the code lifetime', async (t) => {
    const res = await request(server, 'POST', '/api/v1/auth/generate-otp/', { body: { email: '  Grace.Hopper@Example.COM ' } });
    t.equal(res.status, 200);
    t.same(res.body, { message: 'OTP has been sent to your email address', email: 'grace.hopper@example.com', expires_in_minutes: 5 });
    const line = await server.logs.waitFor(/OTP for grace\.hopper@example\.com: \d{6}/);
    t.match(line, /"level":30/, 'the code is logged at info by the log transport');
  });

  t.test('verify creates the account and returns tokens', async (t) => {
    const code = await codeFromLog(server, 'grace.hopper@example.com');
    const res = await request(server, 'POST', '/api/v1/auth/verify-otp', { body: { email: 'GRACE.HOPPER@example.com', otp_code: code } });
    t.equal(res.status, 200, 'also answers without the trailing slash');
    t.equal(res.body.message, 'Login successful');
    t.match(res.body.user, { id: String, email: 'grace.hopper@example.com', name: 'grace.hopper' });
    t.same(res.body.token_info, { access_token_expires_in_days: 3, refresh_token_expires_in_days: 10 });
    const { header, claims } = decodeJwt(res.body.tokens.access);
    t.equal(header.alg, 'HS256');
    t.match(claims, { sub: res.body.user.id, email: 'grace.hopper@example.com', typ: 'access', jti: String, iat: Number, exp: Number });
    t.equal(claims.exp - claims.iat, 3 * 86400, 'access token lives 3 days by default');
    t.ok(res.body.tokens.refresh.length >= 22, 'refresh token carries at least 128 bits');
    t.notMatch(res.body.tokens.refresh, /\./, 'refresh token is opaque, not a JWT');

    const me = await request(server, 'GET', '/api/v1/auth/me/', { token: res.body.tokens.access });
    t.equal(me.status, 200);
    t.same(me.body, res.body.user);
  });

  t.test('a second login reuses the account', async (t) => {
    const a = await login(server, 'repeat@example.com');
    const b = await login(server, 'Repeat@Example.com');
    t.equal(a.user.id, b.user.id);
  });

  t.test('generate answers the same for known and unknown addresses', async (t) => {
    await login(server, 'known@example.com');
    const known = await request(server, 'POST', '/api/v1/auth/generate-otp/', { body: { email: 'known@example.com' } });
    const unknown = await request(server, 'POST', '/api/v1/auth/generate-otp/', { body: { email: 'nobody-yet@example.com' } });
    t.equal(known.status, unknown.status);
    t.same(Object.keys(known.body).sort(), Object.keys(unknown.body).sort());
    t.equal(known.body.message, unknown.body.message);
  });

  t.test('invalid addresses and bodies are 400s with a sentence', async (t) => {
    for (const email of ['not-an-email', 'a@b', 'two@@example.com', 'space in@example.com', '']) {
      const res = await request(server, 'POST', '/api/v1/auth/generate-otp/', { body: { email } });
      t.equal(res.status, 400, `rejects ${JSON.stringify(email)}`);
      t.match(res.body, { statusCode: 400, error: 'Bad Request', message: /email/ });
    }
    const missing = await request(server, 'POST', '/api/v1/auth/generate-otp/', { body: {} });
    t.equal(missing.status, 400);
    t.match(missing.body.message, /email/);
    const badJson = await request(server, 'POST', '/api/v1/auth/generate-otp/', { body: '{"email":', headers: { 'content-type': 'application/json' } });
    t.equal(badJson.status, 400);
  });

  t.test('unknown body fields are never stored', async (t) => {
    const s = await login(server, 'extra@example.com');
    const res = await request(server, 'PATCH', '/api/v1/auth/me/', { token: s.access, body: { name: 'Extra', email: 'hijack@example.com', id: 'x' } });
    t.equal(res.status, 200);
    t.same(res.body, { id: s.user.id, email: 'extra@example.com', name: 'Extra' });
  });

  t.test('PATCH /me renames within 1–64 characters', async (t) => {
    const s = await login(server, 'rename@example.com');
    t.equal(s.user.name, 'rename', 'name defaults to the local part');
    const ok = await request(server, 'PATCH', '/api/v1/auth/me', { token: s.access, body: { name: '  Ada Lovelace ' } });
    t.equal(ok.body.name, 'Ada Lovelace');
    for (const name of ['', '   ', 'x'.repeat(65)]) {
      const bad = await request(server, 'PATCH', '/api/v1/auth/me/', { token: s.access, body: { name } });
      t.equal(bad.status, 400, `rejects ${name.length}-char name`);
    }
    const me = await request(server, 'GET', '/api/v1/auth/me/', { token: s.access });
    t.equal(me.body.name, 'Ada Lovelace', 'a rejected rename changes nothing');
  });

  t.test('/me needs a Bearer access token', async (t) => {
    const none = await request(server, 'GET', '/api/v1/auth/me/');
    t.equal(none.status, 401);
    t.match(none.body, { statusCode: 401, error: 'Unauthorized', message: /Bearer/ });
    const garbage = await request(server, 'GET', '/api/v1/auth/me/', { token: 'abc.def.ghi' });
    t.equal(garbage.status, 401);
  });
});
