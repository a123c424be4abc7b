import { createHmac } from 'node:crypto';
import t from 'tap';
import { sha256Hex } from '../../src/auth/secrets.js';
import { login, request } from '../helpers/http.js';
import { craftJwt, decodeJwt } from '../helpers/jwt.js';
import { startServer, TEST_JWT_SECRET } from '../helpers/server.js';

t.test('refresh and access tokens', async (t) => {
  const server = await startServer(t);
  const refresh = (token: string) => request(server, 'POST', '/api/v1/auth/token/refresh/', { body: { refresh: token } });
  const me = (token: string) => request(server, 'GET', '/api/v1/auth/me/', { token });

  t.test('refresh rotates: new pair, the old token is spent', async (t) => {
    const s = await login(server, 'rotate@example.com');
    const r1 = await refresh(s.refresh);
    t.equal(r1.status, 200);
    t.same(Object.keys(r1.body).sort(), ['access', 'refresh']);
    t.not(r1.body.refresh, s.refresh);
    t.equal((await me(r1.body.access)).status, 200, 'the new access token works');
    t.equal(decodeJwt(r1.body.access).claims.sub, s.user.id);
    const r2 = await refresh(r1.body.refresh);
    t.equal(r2.status, 200, 'the successor can be used in turn');
  });

  t.test('reusing a rotated token revokes the whole family', async (t) => {
    const s = await login(server, 'reuse@example.com');
    const r1 = await refresh(s.refresh);
    const reuse = await refresh(s.refresh);
    t.equal(reuse.status, 401);
    t.equal(reuse.body.code, 'refresh_token_reused');
    const later = await refresh(r1.body.refresh);
    t.equal(later.status, 401, 'tokens issued after the stolen one stop working');
    const other = await login(server, 'reuse@example.com');
    t.equal((await refresh(other.refresh)).status, 200, 'another login (another family) is unaffected');
  });

  t.test('two refreshes with one token at once: one wins, the family dies', async (t) => {
    const s = await login(server, 'double@example.com');
    const [a, b] = await Promise.all([refresh(s.refresh), refresh(s.refresh)]);
    t.same([a.status, b.status].sort(), [200, 401]);
    const winner = a.status === 200 ? a : b;
    t.equal((await refresh(winner.body.refresh)).status, 401, 'the race is treated as theft');
  });

  t.test('logout revokes the family', async (t) => {
    const s = await login(server, 'logout@example.com');
    const r1 = await refresh(s.refresh);
    const out = await request(server, 'POST', '/api/v1/auth/logout/', { body: { refresh: r1.body.refresh } });
    t.equal(out.status, 204);
    t.equal(out.body, '');
    t.equal((await refresh(r1.body.refresh)).status, 401);
    const unknown = await request(server, 'POST', '/api/v1/auth/logout', { body: { refresh: 'not-a-token' } });
    t.equal(unknown.status, 401);
  });

  t.test('refresh tokens are stored only as hashes', async (t) => {
    const s = await login(server, 'stored@example.com');
    const rows = await server.app.db.selectFrom('refresh_tokens').selectAll().where('user_id', '=', s.user.id).execute();
    t.equal(rows.length, 1);
    t.equal(rows[0]!.token_hash, sha256Hex(s.refresh));
    t.notMatch(JSON.stringify(rows), s.refresh);
  });

  t.test('a refresh token is not an access token, and the reverse', async (t) => {
    const s = await login(server, 'types@example.com');
    t.equal((await me(s.refresh)).status, 401, 'refresh token as Bearer');
    t.equal((await refresh(s.access)).status, 401, 'access token at the refresh route');
    const wrongTyp = craftJwt(
      { sub: s.user.id, email: s.user.email, typ: 'refresh', jti: 'x', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 },
      TEST_JWT_SECRET,
    );
    const res = await me(wrongTyp);
    t.equal(res.status, 401, 'a correctly signed JWT of another type');
    t.match(res.body.message, /not an access token/);
  });

  t.test('tampered, unsigned, foreign and expired access tokens are refused', async (t) => {
    const s = await login(server, 'attack@example.com');
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: s.user.id, email: s.user.email, typ: 'access', jti: 'j', sid: decodeJwt(s.access).claims.sid, iat: now, exp: now + 600 };
    const [h, , sig] = s.access.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${sig}`;
    const cases: Record<string, string> = {
      tampered,
      'alg none': craftJwt(claims, null, { alg: 'none', typ: 'JWT' }),
      'alg none with a signature': craftJwt(claims, TEST_JWT_SECRET, { alg: 'none', typ: 'JWT' }),
      'HS512 with the right secret': (() => {
        const body = `${Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
        return `${body}.${createHmac('sha512', TEST_JWT_SECRET).update(body).digest('base64url')}`;
      })(),
      'another secret': craftJwt(claims, 'some-other-secret-that-is-32-characters!'),
      expired: craftJwt({ ...claims, iat: now - 7200, exp: now - 3600 }, TEST_JWT_SECRET),
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await me(token);
      t.equal(res.status, 401, name);
    }
    t.equal((await me(craftJwt(claims, TEST_JWT_SECRET))).status, 200, 'the same claims correctly signed pass (the cases above fail for their defect)');
  });
});
