import t from 'tap';
import WebSocket from 'ws';
import { AuthClient, backoffDelay, TutorClient, WhiteboardClient, type SocketFactory } from '../../client/index.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { request, login, codeFromLog } from '../helpers/http.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTutor } from '../tutor/tutor-helpers.js';

const Socket = WebSocket as unknown as SocketFactory;

function whiteboard(server: TestServer, access: string): WhiteboardClient {
  const client = new WhiteboardClient({ url: server.wsUrl, token: async () => access, WebSocket: Socket, backoff: { initialMs: 50, maxMs: 400 }, pingIntervalMs: 0 });
  client.connect();
  return client;
}

function once<T>(subscribe: (fn: (v: T) => void) => () => void, match: (v: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const off = subscribe((v) => {
      if (!match(v)) return;
      off();
      resolve(v);
    });
  });
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function storedDrawings(server: TestServer, access: string, roomId: string): Promise<any[]> {
  return (await request(server, 'GET', `/api/v1/rooms/${roomId}/drawings/`, { token: access })).body.drawings;
}

t.test('backoff grows exponentially with jitter and a ceiling', async (t) => {
  t.equal(
    backoffDelay(0, { initialMs: 100, maxMs: 1000 }, () => 0),
    50,
  );
  t.equal(
    backoffDelay(0, { initialMs: 100, maxMs: 1000 }, () => 1),
    100,
  );
  t.equal(
    backoffDelay(3, { initialMs: 100, maxMs: 1000 }, () => 1),
    800,
  );
  t.equal(
    backoffDelay(10, { initialMs: 100, maxMs: 1000 }, () => 1),
    1000,
    'capped',
  );
});

t.test('AuthClient signs in with a code, refreshes, signs out', async (t) => {
  const server = await startServer(t);
  const auth = new AuthClient({ baseUrl: server.url });
  const mark = server.logs.raw.length;
  await auth.requestCode('Ann@Example.com');
  const user = await auth.verify('ann@example.com', await codeFromLog(server, 'ann@example.com', mark));
  t.equal(user.email, 'ann@example.com');
  t.match(await auth.api('GET', '/api/v1/auth/me/'), { email: 'ann@example.com' });
  const before = auth.tokens!.refresh;
  await auth.refresh();
  t.not(auth.tokens!.refresh, before, 'the refresh token rotated');
  const ended: string[] = [];
  auth.on('signedOut', ({ reason }) => ended.push(reason));
  await auth.signOut();
  t.equal(auth.user, null);
  t.same(ended, ['Signed out.']);
  const refused = await request(server, 'POST', '/api/v1/auth/token/refresh/', { body: { refresh: before } });
  t.equal(refused.status, 401, 'the login is over on the server');
});

t.test('WhiteboardClient: draws, reconnects, catches up, retries a draw exactly once', async (t) => {
  const server = await startServer(t);
  const ann = await login(server, 'ann@example.com');
  const bo = await login(server, 'bo@example.com');
  const room = (await request(server, 'POST', '/api/v1/rooms/', { token: ann.access, body: {} })).body;
  const a = whiteboard(server, ann.access);
  const b = whiteboard(server, bo.access);
  t.teardown(() => {
    a.close();
    b.close();
  });
  const aSynced = once(a.on.bind(a, 'synced'));
  const bSynced = once(b.on.bind(b, 'synced'));
  a.join(room.roomId);
  b.join(room.roomId);
  await Promise.all([aSynced, bSynced]);

  const seen = once(b.on.bind(b, 'changed'), () => (b.room(room.roomId)?.drawings.size ?? 0) === 1);
  const drawn = await a.draw(room.roomId, { shapeType: 'rectangle', x: 1, y: 2, width: 3, height: 4 });
  await seen;
  t.equal(b.room(room.roomId)!.drawings.get(drawn.id)?.shapeType, 'rectangle', 'the other client has it');

  // The server drops every socket; while a is away b draws, and a draws too (kept, not lost).
  const states: string[] = [];
  a.on('connection', ({ state }) => states.push(state));
  const aBack = new Promise<{ roomId: string; resumed: boolean }>((resolve) => {
    const off = a.on('synced', (v) => {
      off();
      resolve(v);
    });
  });
  const bBack = once(b.on.bind(b, 'synced'));
  for (const socket of server.app.websocketServer.clients) socket.terminate();
  const pending = a.draw(room.roomId, {
    shapeType: 'line',
    points: [
      { x: 0, y: 0 },
      { x: 5, y: 5 },
    ],
  });
  await bBack;
  await b.draw(room.roomId, { shapeType: 'circle', x: 10, y: 10, radius: 5 });
  t.equal((await aBack).resumed, true, 'a caught up from room_events, not a whole room_state');
  const retried = await pending;
  t.ok(states.includes('reconnecting'), 'a said it was reconnecting');
  await until(() => a.room(room.roomId)!.drawings.size === 3);
  const stored = await storedDrawings(server, ann.access, room.roomId);
  t.equal(stored.length, 3, 'the retried draw was stored once');
  t.same([...a.room(room.roomId)!.drawings.keys()].sort(), stored.map((d) => d.id).sort(), "a's canvas equals the stored board after catching up");
  t.equal(a.room(room.roomId)!.seq, Math.max(...stored.map((d) => d.seq)), 'a is at the latest seq');
  t.ok(stored.some((d) => d.id === retried.id));
});

t.test('WhiteboardClient: a connection that goes silent is dropped by its ping and comes back', async (t) => {
  const server = await startServer(t);
  const ann = await login(server, 'ann@example.com');
  const room = (await request(server, 'POST', '/api/v1/rooms/', { token: ann.access, body: {} })).body;
  // Between the client and the server: a network that can hang without closing anything.
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: server.port });
  t.teardown(() => proxy.close());
  const client = new WhiteboardClient({
    url: `ws://${proxy.host}:${proxy.port}`,
    token: async () => ann.access,
    WebSocket: Socket,
    backoff: { initialMs: 50, maxMs: 400 },
    pingIntervalMs: 200,
  });
  t.teardown(() => client.close());
  const synced = once(client.on.bind(client, 'synced'));
  client.connect();
  client.join(room.roomId);
  await synced;

  const states: string[] = [];
  client.on('connection', ({ state }) => states.push(state));
  proxy.stall();
  await until(() => states.includes('reconnecting'), 5000);
  t.pass('the client noticed the silence with its ping and is reconnecting');
  const back = new Promise<string>((resolve) => {
    const off = client.on('synced', ({ roomId }) => {
      off();
      resolve(roomId);
    });
  });
  proxy.restore();
  t.equal(await back, room.roomId, 'back in the room once the network answers again');
  t.equal(states.at(-1), 'open');
});

t.test('TutorClient: a streamed answer, audio in order, one completion', async (t) => {
  const { server, fake } = await startTutor(t);
  fake.chat.chunks = ['First sentence.', ' Second one.', ' Third.'];
  const session = await login(server, 'tu@example.com');
  const tutor = new TutorClient({ url: server.wsUrl, grammarId: 'general', token: async () => session.access, WebSocket: Socket });
  t.teardown(() => tutor.close());
  const turn = tutor.ask('Hello?', true);
  const pieces: string[] = [];
  const indexes: number[] = [];
  turn.on('delta', (p) => pieces.push(p));
  turn.on('audio', ({ index }) => indexes.push(index));
  const { text } = await turn.finished;
  t.equal(text, 'First sentence. Second one. Third.');
  t.ok(pieces.length >= 1);
  t.ok(turn.id, 'the turn has its server id');
  t.same(indexes, [...indexes.keys()], 'audio frames come in index order');
  t.ok(indexes.length >= 1, 'the answer was spoken');
});
