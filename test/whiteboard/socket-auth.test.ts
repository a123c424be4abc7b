import t from 'tap';
import { startServer } from '../helpers/server.js';
import { openSocket, TestSocket } from '../helpers/ws-client.js';
import { createRoom, line, newUser, roomState } from './fixtures.js';

t.test('the socket is accepted, then closed with 4001 for a bad token', async (t) => {
  const server = await startServer(t);
  const user = await newUser(server, 'auth');
  const roomId = await createRoom(server, user);

  const closedWith = async (url: string, headers?: Record<string, string>) => {
    const sock = new TestSocket(url, headers ? { headers } : {});
    await sock.opened; // accepted first, so a browser can read the close code
    return sock.closed;
  };

  const none = await closedWith(`${server.wsUrl}/ws`);
  t.equal(none.code, 4001, 'no token');
  t.match(none.reason, /access token/);
  t.equal((await closedWith(`${server.wsUrl}/ws?token=garbage`)).code, 4001, 'garbage');
  t.equal((await closedWith(`${server.wsUrl}/ws?token=${user.refresh}`)).code, 4001, 'a refresh token is not an access token');
  const expired = server.app.jwt.sign({ sub: user.user.id, email: user.user.email, typ: 'access', jti: 'old', exp: Math.floor(Date.now() / 1000) - 60 } as never);
  t.equal((await closedWith(`${server.wsUrl}/ws?token=${expired}`)).code, 4001, 'expired');
  const wrongType = server.app.jwt.sign({ sub: user.user.id, email: user.user.email, typ: 'refresh', jti: 'x' } as never);
  t.equal((await closedWith(`${server.wsUrl}/ws?token=${wrongType}`)).code, 4001, 'a signed token of another type');
  t.equal((await closedWith(`${server.wsUrl}/ws`, { authorization: 'Bearer nope' })).code, 4001, 'bad Bearer header');
  t.notOk(
    server.logs.raw.some((l) => l.includes(user.access) || l.includes(user.refresh)),
    'tokens never reach the log',
  );

  t.test('Bearer header works, and frames sent at once are not lost', async (t) => {
    const sock = await openSocket(`${server.wsUrl}/ws`, { headers: { authorization: `Bearer ${user.access}` } });
    // Sent before authentication has finished: held and replayed in order.
    sock.send({ type: 'join_room', roomId });
    sock.send(line(roomId, { clientRef: 'early' }));
    sock.send({ type: 'ping' });
    await roomState(sock, roomId);
    t.equal((await sock.next('draw')).clientRef, 'early');
    await sock.next('pong');
    await sock.close();
  });

  t.test('query token works', async (t) => {
    const sock = await openSocket(`${server.wsUrl}/ws?token=${user.access}`);
    sock.send({ type: 'ping' });
    t.same(await sock.next('pong'), { type: 'pong' });
    t.notOk(
      server.logs.raw.some((l) => l.includes(user.access)),
      'the token query parameter is redacted in logs',
    );
    await sock.close();
  });
});

t.test('connections per IP per minute', async (t) => {
  const server = await startServer(t, { env: { WS_CONNECTIONS_PER_IP_PER_MINUTE: 3 } });
  const user = await newUser(server, 'many');
  const socks = [];
  for (let i = 0; i < 3; i++) {
    const s = await openSocket(`${server.wsUrl}/ws?token=${user.access}`);
    s.send({ type: 'ping' });
    await s.next('pong');
    socks.push(s);
  }
  const fourth = new TestSocket(`${server.wsUrl}/ws?token=${user.access}`);
  const closed = await fourth.closed;
  t.equal(closed.code, 4029);
  t.match(closed.reason, /Too many connections/);
  for (const s of socks) t.equal(s.ws.readyState, s.ws.OPEN, 'the earlier ones stay open');
  for (const s of socks) await s.close();
});
