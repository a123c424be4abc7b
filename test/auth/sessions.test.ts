import t from 'tap';
import { login, request } from '../helpers/http.js';
import { craftJwt, decodeJwt } from '../helpers/jwt.js';
import { persistentDatabase, startServer, TEST_JWT_SECRET, type TestServer } from '../helpers/server.js';
import { openSocket, socketsOf, type TestSocket } from '../helpers/ws-client.js';

/** Resolves with how each socket closed and how long after `since` that was. */
function closings(sockets: TestSocket[], since: () => number) {
  return Promise.all(sockets.map(async (s) => ({ ...(await s.closed), afterMs: Date.now() - since() })));
}

const me = (server: TestServer, token: string) => request(server, 'GET', '/api/v1/auth/me/', { token });

t.test('ending a login refuses its tokens and closes its sockets; other logins carry on', async (t) => {
  const server = await startServer(t);

  for (const how of ['logout', 'refresh reuse', 'delete from the list'] as const) {
    t.test(how, async (t) => {
      const email = `ending-${how.replace(/ /g, '-')}@example.com`;
      const ending = await login(server, email);
      const other = await login(server, email);
      const endingSockets = await socketsOf(server, ending);
      const otherSockets = await socketsOf(server, other);
      let started = 0;
      const closed = closings(endingSockets, () => started);

      started = Date.now();
      if (how === 'logout') {
        t.equal((await request(server, 'POST', '/api/v1/auth/logout/', { body: { refresh: ending.refresh } })).status, 204);
      } else if (how === 'refresh reuse') {
        t.equal((await request(server, 'POST', '/api/v1/auth/token/refresh/', { body: { refresh: ending.refresh } })).status, 200);
        const reuse = await request(server, 'POST', '/api/v1/auth/token/refresh/', { body: { refresh: ending.refresh } });
        t.equal(reuse.body.code, 'refresh_token_reused');
      } else {
        const sid = decodeJwt(ending.access).claims.sid;
        t.equal((await request(server, 'DELETE', `/api/v1/auth/sessions/${sid}/`, { token: other.access })).status, 204);
      }

      for (const c of await closed) {
        t.same({ code: c.code, reason: c.reason }, { code: 4001, reason: 'session ended' });
        t.comment(`socket closed ${c.afterMs} ms after the login ended`);
      }
      const refused = await me(server, ending.access);
      t.equal(refused.status, 401, "the ended login's access token is refused at once");
      t.match(refused.body.message, /login has ended/);
      const reopened = await openSocket(`${server.wsUrl}/ws?token=${encodeURIComponent(ending.access)}`);
      t.equal((await reopened.closed).code, 4001, 'and no new socket opens with it');

      t.equal((await me(server, other.access)).status, 200, 'the other login of the same user still works');
      for (const s of otherSockets) {
        s.send({ type: 'ping' });
        s.send({ command: 'ping' });
        await s.next('pong');
        await s.close();
      }
    });
  }

  t.test('logout-all ends every login of the caller and no one else', async (t) => {
    const a1 = await login(server, 'all@example.com');
    const a2 = await login(server, 'all@example.com');
    const stranger = await login(server, 'stranger@example.com');
    const sockets = [...(await socketsOf(server, a1)), ...(await socketsOf(server, a2))];
    const strangerSockets = await socketsOf(server, stranger);
    const closed = closings(sockets, () => 0);
    t.equal((await request(server, 'POST', '/api/v1/auth/logout-all/', { token: a1.access })).status, 204);
    for (const c of await closed) t.equal(c.code, 4001);
    t.equal((await me(server, a1.access)).status, 401);
    t.equal((await me(server, a2.access)).status, 401);
    t.equal((await request(server, 'POST', '/api/v1/auth/token/refresh/', { body: { refresh: a2.refresh } })).status, 401, 'refresh tokens of those logins are dead too');
    t.equal((await me(server, stranger.access)).status, 200);
    strangerSockets[0]!.send({ type: 'ping' });
    await strangerSockets[0]!.next('pong');
    for (const s of strangerSockets) await s.close();
  });
});

t.test('the list of logins', async (t) => {
  const server = await startServer(t);
  const first = await login(server, 'list@example.com');
  const second = await login(server, 'list@example.com');
  const someoneElse = await login(server, 'list-other@example.com');

  const list = await request(server, 'GET', '/api/v1/auth/sessions/', { token: second.access, headers: { 'user-agent': 'ListTest/1.0' } });
  t.equal(list.status, 200);
  const sids = list.body.sessions.map((s: any) => s.sid).sort();
  t.same(sids, [decodeJwt(first.access).claims.sid, decodeJwt(second.access).claims.sid].sort(), "only the caller's own logins");
  const current = list.body.sessions.filter((s: any) => s.current);
  t.equal(current.length, 1);
  t.equal(current[0].sid, decodeJwt(second.access).claims.sid, 'the current login is marked');
  t.equal(current[0].ip, '127.0.0.1');
  t.match(current[0].user_agent, /node|undici/i, 'the user agent of the login request');
  t.ok(Date.parse(current[0].created_at) <= Date.parse(current[0].last_used_at));

  const refreshed = await request(server, 'POST', '/api/v1/auth/token/refresh/', { body: { refresh: first.refresh }, headers: { 'user-agent': 'Refresher/2' } });
  t.equal(decodeJwt(refreshed.body.access).claims.sid, decodeJwt(first.access).claims.sid, 'a refresh keeps the login (same sid)');

  const foreign = decodeJwt(someoneElse.access).claims.sid;
  const del = await request(server, 'DELETE', `/api/v1/auth/sessions/${foreign}/`, { token: first.access });
  t.equal(del.status, 404, "another user's login cannot be ended");
  t.equal((await me(server, someoneElse.access)).status, 200);
  t.equal((await request(server, 'DELETE', '/api/v1/auth/sessions/no-such-login/', { token: first.access })).status, 404);

  await request(server, 'POST', '/api/v1/auth/logout/', { body: { refresh: refreshed.body.refresh } });
  const after = await request(server, 'GET', '/api/v1/auth/sessions/', { token: second.access });
  t.same(
    after.body.sessions.map((s: any) => s.sid),
    [decodeJwt(second.access).claims.sid],
    'an ended login leaves the list',
  );
});

t.test('an access token that names no login is refused', async (t) => {
  const server = await startServer(t);
  const s = await login(server, 'nosid@example.com');
  const { sid: _sid, ...claims } = decodeJwt(s.access).claims;
  const res = await me(server, craftJwt(claims, TEST_JWT_SECRET));
  t.equal(res.status, 401);
  t.match(res.body.message, /refresh it or sign in again/);
  t.equal((await me(server, craftJwt({ ...claims, sid: _sid }, TEST_JWT_SECRET))).status, 200, 'the same claims with their sid pass');
});

t.test('a restart remembers ended logins', async (t) => {
  const database = persistentDatabase(t);
  const first = await startServer(t, { database });
  const s = await login(first, 'restart@example.com');
  await request(first, 'POST', '/api/v1/auth/logout/', { body: { refresh: s.refresh } });
  await first.close();
  const second = await startServer(t, { database });
  t.equal((await me(second, s.access)).status, 401, 'still refused after the restart');
});
