import t from 'tap';
import { startServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';
import { createRoom, joined, newUser, nothingMore, roomState } from './fixtures.js';

t.test('presence, cursors and heartbeat', async (t) => {
  const server = await startServer(t, { env: { WS_HEARTBEAT_INTERVAL: '200ms' } });
  const alice = await newUser(server, 'alice');
  const bob = await newUser(server, 'bob');

  t.test('a user with two tabs is one member', async (t) => {
    const roomId = await createRoom(server, alice);
    const a = await joined(server, alice, roomId);
    const tab1 = await joined(server, bob, roomId);
    t.match(await a.sock.next('member_joined'), { roomId, user: { id: bob.user.id, name: bob.user.name } });
    const tab2 = await joined(server, bob, roomId);
    t.same(tab2.state.members.map((m: any) => m.id).sort(), [alice.user.id, bob.user.id].sort(), 'members are users, not sockets');
    t.same(await nothingMore(a.sock, (m) => m.type === 'member_joined'), [], 'no second member_joined for the second tab');

    await tab1.sock.close();
    t.same(await nothingMore(a.sock, (m) => m.type === 'member_left'), [], 'one tab closing is not leaving');
    tab2.sock.send({ type: 'leave_room', roomId });
    t.same(await a.sock.next('member_left'), { type: 'member_left', roomId, user: { id: bob.user.id, name: bob.user.name } });

    const again = await joined(server, bob, roomId);
    await a.sock.next('member_joined');
    await again.sock.close();
    t.match(await a.sock.next('member_left'), { user: { id: bob.user.id } }, 'closing the last socket leaves');
    await tab2.sock.close();
    await a.sock.close();
  });

  t.test('cursors go to the other members only and are never stored', async (t) => {
    const roomId = await createRoom(server, alice);
    const a = await joined(server, alice, roomId);
    const aTab2 = await joined(server, alice, roomId);
    const b = await joined(server, bob, roomId);
    a.sock.send({ type: 'cursor', roomId, x: 10, y: 20 });
    t.same(await b.sock.next('cursor'), { type: 'cursor', roomId, userId: alice.user.id, x: 10, y: 20 });
    t.same(await nothingMore(a.sock, (m) => m.type === 'cursor'), [], 'not echoed to the sender');
    t.same(await nothingMore(aTab2.sock, (m) => m.type === 'cursor'), [], "not sent to the sender's other tab");
    const late = await joined(server, bob, roomId);
    t.same(late.state.drawings, []);
    t.equal(late.state.seq, 0, 'a cursor takes no seq');
    for (const s of [a.sock, aTab2.sock, b.sock, late.sock]) await s.close();
  });

  t.test('a socket that does not answer pings is dropped (and leaves)', async (t) => {
    const roomId = await createRoom(server, alice);
    const a = await joined(server, alice, roomId);
    const silent = new TestSocket(`${server.wsUrl}/ws?token=${bob.access}`, { autoPong: false });
    await silent.opened;
    silent.send({ type: 'join_room', roomId });
    await roomState(silent, roomId);
    await a.sock.next('member_joined');
    t.match(await a.sock.next('member_left', 5000), { user: { id: bob.user.id } }, 'dropped after missing a ping');
    t.equal((await silent.closed).code, 1006, 'terminated');
    t.equal(a.sock.ws.readyState, a.sock.ws.OPEN, 'a client that answers stays');
    await a.sock.close();
  });
});
