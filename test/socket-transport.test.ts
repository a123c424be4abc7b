import { once } from 'node:events';
import t from 'tap';
import { startServer } from './helpers/server.js';
import { openSocket, TestSocket } from './helpers/ws-client.js';
import { newUser } from './whiteboard/fixtures.js';

// Both sockets run on one transport: the same 4001 (with a reason saying what to do) and one registry.
t.test('/ws and /chat: 4001 says how to connect; open sockets are listed by user and by login', async (t) => {
  const server = await startServer(t);
  const user = await newUser(server, 'transport');

  for (const path of ['/ws', '/chat/1/']) {
    const sock = new TestSocket(`${server.wsUrl}${path}?token=garbage`);
    await sock.opened;
    t.match(await sock.closed, { code: 4001, reason: /access token.*\?token=.*Authorization: Bearer/ }, path);
  }

  // A token naming its login (sid) is indexed by it too.
  const claims = { sub: user.user.id, email: user.user.email, typ: 'access', jti: 'j1', sid: 'login-1' };
  const withSid = server.app.jwt.sign(claims as never);
  const ws = await openSocket(`${server.wsUrl}/ws?token=${withSid}`);
  const chat = await openSocket(`${server.wsUrl}/chat/1/?token=${encodeURIComponent(user.access)}`);
  // Authentication ends with the socket registered; a ping answered proves it finished on both.
  ws.send({ type: 'ping' });
  await ws.next('pong');
  chat.send({ command: 'ping' });
  await chat.next('pong');
  t.equal(server.app.openSockets.ofUser(user.user.id).length, 2, 'both sockets of the user');
  t.equal(server.app.openSockets.ofSession('login-1').length, 1, 'only the socket of that login');

  // What a "log out everywhere" will do: close the login's sockets with 4001.
  const serverSide = server.app.openSockets.ofUser(user.user.id).map((s) => once(s, 'close'));
  for (const s of server.app.openSockets.ofSession('login-1')) s.close(4001, 'session ended');
  t.match(await ws.closed, { code: 4001, reason: 'session ended' });
  await chat.close();
  await Promise.all(serverSide);
  t.equal(server.app.openSockets.ofUser(user.user.id).length, 0, 'closed sockets leave the registry');
  t.equal(server.app.openSockets.ofSession('login-1').length, 0);
});

// A socket's errors are handled by the transport itself (the upgrade request is not kept for them).
t.test('a frame that breaks the WebSocket protocol ends only that socket, logged with its request id', async (t) => {
  const server = await startServer(t);
  const user = await newUser(server, 'protocol-breaker');
  for (const path of ['/ws', '/chat/1/']) {
    const bad = await openSocket(`${server.wsUrl}${path}?token=${encodeURIComponent(user.access)}`);
    const other = await openSocket(`${server.wsUrl}${path}?token=${encodeURIComponent(user.access)}`);
    const pinged = path === '/ws' ? { type: 'ping' } : { command: 'ping' };
    bad.send(pinged);
    await bad.next('pong');
    // Opcode 3 is reserved: the server must fail the connection.
    (bad.ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
    const closed = await bad.closed;
    t.ok([1002, 1006].includes(closed.code), `${path}: closed for the protocol error (${closed.code})`);
    const line = JSON.parse(await server.logs.waitFor(/"msg":"socket error"/));
    t.match(line, { level: 50, reqId: /\S/, err: { message: /opcode/i } }, `${path}: logged with the socket's request id`);
    other.send(pinged);
    await other.next('pong');
    t.pass(`${path}: the other socket still works`);
    await other.close();
    server.logs.raw.length = 0;
  }
});
