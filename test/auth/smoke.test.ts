import t from 'tap';
import { startServer } from '../helpers/server.js';
import { login, request } from '../helpers/http.js';

t.test('a new user logs in and reads their profile', async (t) => {
  const server = await startServer(t);
  const s = await login(server, 'Smoke@Example.com');
  t.equal(s.user.email, 'smoke@example.com');
  const me = await request(server, 'GET', '/api/v1/auth/me', { token: s.access });
  t.same(me.body, s.user);
});
