import t from 'tap';
import { startServer } from './helpers/server.js';
import { createRoom, joined, newUser } from './whiteboard/fixtures.js';

t.test('shutdown does not wait on a peer that never answers the close frame', async (t) => {
  const server = await startServer(t);
  const admin = await newUser(server, 'shutdown');
  const roomId = await createRoom(server, admin);
  const silent = await joined(server, admin, roomId);
  const polite = await joined(server, admin, roomId);
  silent.sock.ws.pause(); // a phone that lost its network: reads nothing, answers nothing

  polite.sock.send({ type: 'draw', roomId, shapeType: 'line', points: [{ x: 1, y: 2 }], clientRef: 'last-words' });
  await polite.sock.next((m) => m.type === 'draw' && m.clientRef === 'last-words');

  await t.resolves(server.app.close(), 'close completes instead of timing out on the silent peer');
  t.equal((await polite.sock.closed).code, 1001, 'a responsive peer sees 1001');
  silent.sock.ws.resume();
  const { code } = await silent.sock.closed;
  t.not(code, 1000, `the silent peer was dropped (close ${code})`);
});
