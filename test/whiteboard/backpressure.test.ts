import t from 'tap';
import type { WebSocket } from 'ws';
import { startServer, type TestServer } from '../helpers/server.js';
import { createRoom, joined, line, newUser } from './fixtures.js';

const fat = (roomId: string, clientRef: string) => line(roomId, { clientRef, points: Array.from({ length: 2000 }, (_, i) => ({ x: i, y: i })) });

/** The server side of the socket that has the most unsent bytes: the paused receiver. */
function slowest(server: TestServer): WebSocket {
  return [...server.app.websocketServer.clients].sort((a, b) => b.bufferedAmount - a.bufferedAmount)[0]!;
}

t.test('a receiver that does not read', async (t) => {
  t.test('cursors are dropped first', async (t) => {
    const server = await startServer(t, { env: { WS_RATE_BURST: 10_000, WS_RATE_PER_SECOND: 10_000 } });
    const alice = await newUser(server, 'fast');
    const bob = await newUser(server, 'slow');
    const roomId = await createRoom(server, alice);
    const a = await joined(server, alice, roomId);
    const b = await joined(server, bob, roomId);
    a.sock.send({ type: 'cursor', roomId, x: 1, y: 1 });
    t.match(await b.sock.next('cursor'), { x: 1 }, 'a reading receiver gets cursors');

    b.sock.ws.pause();
    let n = 0;
    while (slowest(server).bufferedAmount < 256 * 1024 && n < 2000) {
      a.sock.send(fat(roomId, `f${n}`));
      await a.sock.next((m) => m.type === 'draw' && m.clientRef === `f${n}`);
      n++;
    }
    t.ok(slowest(server).bufferedAmount >= 256 * 1024, 'the receiver fell behind');
    a.sock.send({ type: 'cursor', roomId, x: 2, y: 2 });
    a.sock.send(line(roomId, { clientRef: 'after-cursor' }));
    await a.sock.next((m) => m.clientRef === 'after-cursor');
    b.sock.ws.resume();
    await b.sock.next((m) => m.type === 'draw' && m.drawing.seq === n + 1, 20_000);
    t.equal(b.sock.received.filter((m) => m.type === 'draw').length, n + 1, 'every drawing still arrives');
    t.same(b.sock.drain('cursor'), [], 'the cursor was dropped');
    await a.sock.close();
    await b.sock.close();
  });

  t.test('past WS_SEND_BUFFER_LIMIT the receiver is closed with 1013, the room carries on', async (t) => {
    const server = await startServer(t, { env: { WS_SEND_BUFFER_LIMIT: 256 * 1024, WS_RATE_BURST: 10_000, WS_RATE_PER_SECOND: 10_000 } });
    const alice = await newUser(server, 'writer');
    const bob = await newUser(server, 'reader');
    const roomId = await createRoom(server, alice);
    const a = await joined(server, alice, roomId);
    const b = await joined(server, bob, roomId);
    b.sock.ws.pause();
    const CLOSING = 2;
    let n = 0;
    while (![...server.app.websocketServer.clients].some((s) => s.readyState === CLOSING) && n < 2000) {
      a.sock.send(fat(roomId, `g${n}`));
      await a.sock.next((m) => m.type === 'draw' && m.clientRef === `g${n}`);
      n++;
    }
    t.ok(n < 2000, `closed after ${n} large drawings`);
    t.ok(slowest(server).bufferedAmount < 256 * 1024 + 200 * 1024, 'the unsent buffer stopped growing near the limit');
    b.sock.ws.resume();
    const closed = await b.sock.closed;
    t.equal(closed.code, 1013);
    t.match(await a.sock.next('member_left'), { user: { id: bob.user.id } });
    a.sock.send(line(roomId, { clientRef: 'still' }));
    t.equal((await a.sock.next((m) => m.clientRef === 'still')).type, 'draw', 'the sender is unaffected');
    await a.sock.close();
  });
});
