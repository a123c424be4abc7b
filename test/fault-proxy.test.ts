import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { startFaultProxy } from './helpers/fault-proxy.js';

/** An echo server that also records every byte it received. */
async function echoServer(t: Test): Promise<{ port: number; received: () => string }> {
  let received = '';
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.on('data', (d) => {
      received += d;
      s.write(d);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as { port: number }).port, received: () => received };
}

/** Connects through the proxy; resolves once connected. */
async function dial(port: number): Promise<Socket & { text: () => string; ended: Promise<string> }> {
  const s = connect(port, '127.0.0.1') as Socket & { text: () => string; ended: Promise<string> };
  let text = '';
  s.on('data', (d) => (text += d));
  s.text = () => text;
  s.ended = new Promise((resolve) => {
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.on('close', () => resolve('closed'));
  });
  await once(s, 'connect');
  return s;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('passes bytes both ways', async (t) => {
  const echo = await echoServer(t);
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: echo.port });
  t.teardown(() => proxy.close());
  t.equal(proxy.host, '127.0.0.1');
  const s = await dial(proxy.port);
  s.write('hello');
  await until(() => s.text() === 'hello', 'the echo');
  s.destroy();
});

t.test('cut resets open connections and refuses new ones until restore', async (t) => {
  const echo = await echoServer(t);
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: echo.port });
  t.teardown(() => proxy.close());
  const open = await dial(proxy.port);
  open.write('a');
  await until(() => open.text() === 'a', 'the echo');

  proxy.cut();
  t.match(await open.ended, /ECONNRESET|closed/, 'the open connection is dropped');
  const refused = connect(proxy.port, '127.0.0.1');
  const outcome = await new Promise<string>((resolve) => {
    refused.on('data', () => resolve('data'));
    refused.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    refused.on('close', () => resolve('closed'));
  });
  t.match(outcome, /ECONNRESET|closed/, 'a new connection is reset, not served');

  proxy.restore();
  const again = await dial(proxy.port);
  again.write('back');
  await until(() => again.text() === 'back', 'the echo after restore');
  again.destroy();
});

t.test('stall holds bytes in both directions and restore delivers them in order', async (t) => {
  const echo = await echoServer(t);
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: echo.port });
  t.teardown(() => proxy.close());
  const s = await dial(proxy.port);
  s.write('1');
  await until(() => s.text() === '1', 'the first echo');

  proxy.stall();
  s.write('2');
  s.write('3');
  // Nothing can prove absence without waiting; a short pause only risks missing a bug, never a false failure.
  await new Promise((r) => setTimeout(r, 200));
  t.equal(echo.received(), '1', 'the target got nothing while stalled');
  t.equal(s.text(), '1', 'the client got nothing while stalled');
  t.notOk(s.destroyed, 'the connection stays open');

  proxy.restore();
  await until(() => s.text() === '123', 'the held bytes');
  t.equal(echo.received(), '123', 'held bytes arrive in order');
  s.destroy();
});

t.test('close drops everything and frees the port', async (t) => {
  const echo = await echoServer(t);
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: echo.port });
  const s = await dial(proxy.port);
  await proxy.close();
  t.match(await s.ended, /ECONNRESET|closed/);
  const after = connect(proxy.port, '127.0.0.1');
  const [err] = (await once(after, 'error')) as [NodeJS.ErrnoException];
  t.equal(err.code, 'ECONNREFUSED');
});

t.test('an unreachable target drops the client', async (t) => {
  const dead = createServer();
  dead.listen(0, '127.0.0.1');
  await once(dead, 'listening');
  const port = (dead.address() as { port: number }).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const proxy = await startFaultProxy({ host: '127.0.0.1', port });
  t.teardown(() => proxy.close());
  const s = await dial(proxy.port);
  t.match(await s.ended, /ECONNRESET|closed/);
});
