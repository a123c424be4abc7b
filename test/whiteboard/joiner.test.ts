import t from 'tap';
import { startServer, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';
import { createRoom, joined, line, newUser, nothingMore } from './fixtures.js';

/** About 200 KB of JSON a drawing. */
const fat = (roomId: string, clientRef: string) => line(roomId, { clientRef, points: Array.from({ length: 5000 }, (_, i) => ({ x: i * 1.123456, y: i * 7.654321 })) });

/** 60 fat drawings: a snapshot of ~12 MB, more than the loopback's socket buffers hold for a paused reader. */
async function bigRoom(_server: TestServer, sock: TestSocket, roomId: string) {
  for (let i = 0; i < 60; i++) {
    sock.send(fat(roomId, `s${i}`));
    await sock.next((m) => m.type === 'draw' && m.clientRef === `s${i}`, 30_000);
  }
}

/** Joins and stops reading: the server's snapshot send stalls once the socket buffers are full. */
async function stalledJoiner(server: TestServer, access: string, roomId: string) {
  const b = new TestSocket(`${server.wsUrl}/ws?token=${encodeURIComponent(access)}`);
  await b.opened;
  b.send({ type: 'join_room', roomId });
  b.ws.pause();
  return b;
}

const rate = { WS_RATE_BURST: 10_000, WS_RATE_PER_SECOND: 10_000 };

t.test('a joiner that stops reading its snapshot is closed with 1013 once held events pass the send limit', async (t) => {
  const server = await startServer(t, { env: { ...rate, WS_SEND_BUFFER_LIMIT: 2 * 1024 * 1024 } });
  const alice = await newUser(server, 'jwriter');
  const bob = await newUser(server, 'jreader');
  const roomId = await createRoom(server, alice);
  const a = await joined(server, alice, roomId);
  await bigRoom(server, a.sock, roomId);
  const b = await stalledJoiner(server, bob.access, roomId);

  const CLOSING = 2;
  let n = 0;
  // 60 more would hold ~12 MB for the joiner; the limit is 2 MiB.
  while (![...server.app.websocketServer.clients].some((s) => s.readyState === CLOSING) && n < 60) {
    a.sock.send(fat(roomId, `l${n}`));
    await a.sock.next((m) => m.type === 'draw' && m.clientRef === `l${n}`, 30_000);
    n++;
  }
  t.ok(n < 60, `closed after ${n} live drawings held during the snapshot`);
  b.ws.resume();
  t.equal((await b.closed).code, 1013);
  t.notOk(
    b.received.some((m) => m.type === 'room_state' && m.complete),
    'closed while its snapshot was still being sent (the held events, not the unsent buffer alone)',
  );
  a.sock.send(line(roomId, { clientRef: 'still' }));
  t.equal((await a.sock.next((m) => m.clientRef === 'still')).type, 'draw', 'the room carries on');
  await a.sock.close();
});

t.test('a second join_room while the first snapshot is loading loses none of the held events', async (t) => {
  const server = await startServer(t, { env: rate });
  const alice = await newUser(server, 'jadmin');
  const bob = await newUser(server, 'jtwice');
  const roomId = await createRoom(server, alice);
  const a = await joined(server, alice, roomId);
  await bigRoom(server, a.sock, roomId);
  const b = await stalledJoiner(server, bob.access, roomId);

  // Bob draws while his snapshot is stalled: the echo waits among his held events.
  b.send(line(roomId, { clientRef: 'mine' }));
  const stored = await a.sock.next((m) => m.type === 'draw' && m.drawing.userId === bob.user.id);
  b.send({ type: 'join_room', roomId });
  // Time for the server to take the second join before Bob reads again (it is only received).
  await new Promise((r) => setTimeout(r, 200));
  b.ws.resume();
  const echo = await b.next((m) => m.type === 'draw' && m.clientRef === 'mine', 30_000);
  t.match(echo, { roomId, seq: stored.seq, drawing: { id: stored.drawing.id } }, 'the own echo survived the rejoin');
  t.ok(
    b.received.some((m) => m.type === 'room_state' && m.complete),
    'the second snapshot completed',
  );
  t.same(await nothingMore(b, (m) => m.type === 'draw' && m.clientRef === 'mine'), [], 'echoed once');
  await b.close();
  await a.sock.close();
});
