import { Redis } from 'ioredis';
import t from 'tap';
import { clusterUnavailable, startCluster } from '../helpers/cluster.js';
import { request } from '../helpers/http.js';
import { createRoom, joined, line, newUser, nothingMore } from '../whiteboard/fixtures.js';

const skip = clusterUnavailable();
const ids = (members: Array<{ id: string }>) => members.map((m) => m.id).sort();

t.test('presence is the room’s, over every instance', { skip: skip ?? false }, async (t) => {
  const [a, b, c] = await startCluster(t, 3);
  const redis = new Redis(process.env.TEST_REDIS_URL!);
  t.teardown(() => redis.disconnect());
  const prefix = a!.app.settings.redis.keyPrefix;

  t.test('members lists users on every instance; a user with tabs on two instances is one member', async (t) => {
    const alice = await newUser(a!, 'alice');
    const bob = await newUser(a!, 'bob');
    const roomId = await createRoom(a!, alice);
    const onA = await joined(a!, alice, roomId);
    const bobOnB = await joined(b!, bob, roomId);
    t.same(ids(bobOnB.state.members), ids([alice.user, bob.user]), 'the joiner on B sees the member on A');
    t.same(await onA.sock.next('member_joined'), { type: 'member_joined', roomId, user: { id: bob.user.id, name: bob.user.name } });

    const bobOnC = await joined(c!, bob, roomId);
    t.same(ids(bobOnC.state.members), ids([alice.user, bob.user]));
    t.same(await nothingMore(onA.sock, (m) => m.type === 'member_joined', 300), [], 'no second member_joined for a second tab elsewhere');
    t.ok((await redis.pttl(`${prefix}presence:${roomId}`)) > 0, 'the presence key expires by itself');

    await bobOnB.sock.close();
    t.same(await nothingMore(onA.sock, (m) => m.type === 'member_left', 300), [], 'one tab closing on one instance is not leaving');
    await bobOnC.sock.close();
    t.same(await onA.sock.next('member_left'), { type: 'member_left', roomId, user: { id: bob.user.id, name: bob.user.name } }, 'the last tab anywhere leaves');
    await onA.sock.close();
    for (let i = 0; i < 50 && (await redis.exists(`${prefix}presence:${roomId}`)); i++) await new Promise((r) => setTimeout(r, 20));
    t.equal(await redis.exists(`${prefix}presence:${roomId}`), 0, 'nothing left behind when everyone is gone');
  });

  t.test("a removed member's socket on another instance gets access_revoked", async (t) => {
    const admin = await newUser(a!, 'admin');
    const editor = await newUser(a!, 'editor');
    const res = await request(a!, 'POST', '/api/v1/rooms/', { token: admin.access, body: { access: 'private' } });
    const roomId = res.body.roomId as string;
    t.equal((await request(a!, 'PUT', `/api/v1/rooms/${roomId}/members/${editor.user.id}/`, { token: admin.access, body: { role: 'editor' } })).status, 200);
    const onA = await joined(a!, admin, roomId);
    const onB = await joined(b!, editor, roomId);
    await onA.sock.next('member_joined');

    t.equal((await request(a!, 'PUT', `/api/v1/rooms/${roomId}/members/${editor.user.id}/`, { token: admin.access, body: { role: 'viewer' } })).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    onB.sock.send(line(roomId, { clientRef: 'as-viewer' }));
    t.match(await onB.sock.next('error'), { code: 'forbidden', ref: 'as-viewer' }, 'a role change made on A applies on B');

    t.equal((await request(c!, 'DELETE', `/api/v1/rooms/${roomId}/members/${editor.user.id}/`, { token: admin.access })).status, 204);
    t.same(await onB.sock.next('access_revoked'), { type: 'access_revoked', roomId }, 'removed through C, told on B');
    t.match(await onA.sock.next('member_left'), { user: { id: editor.user.id } }, 'and A sees them leave');
    await Promise.all([onA.sock.close(), onB.sock.close()]);
  });

  t.test('access changes made while an instance was cut off from Redis apply there once it is back', async (t) => {
    const admin = await newUser(a!, 'admin-cut');
    const kept = await newUser(a!, 'kept');
    const gone = await newUser(a!, 'gone');
    const res = await request(a!, 'POST', '/api/v1/rooms/', { token: admin.access, body: { access: 'private' } });
    const roomId = res.body.roomId as string;
    for (const u of [kept, gone])
      t.equal((await request(a!, 'PUT', `/api/v1/rooms/${roomId}/members/${u.user.id}/`, { token: admin.access, body: { role: 'editor' } })).status, 200);
    const onA = await joined(a!, admin, roomId);
    const keptOnB = await joined(b!, kept, roomId);
    const goneOnB = await joined(b!, gone, roomId);
    b!.redisProxy.cut();
    t.teardown(() => b!.redisProxy.restore());
    // Made on A while B hears nothing from Redis.
    t.equal((await request(a!, 'PUT', `/api/v1/rooms/${roomId}/members/${kept.user.id}/`, { token: admin.access, body: { role: 'viewer' } })).status, 200);
    t.equal((await request(a!, 'DELETE', `/api/v1/rooms/${roomId}/members/${gone.user.id}/`, { token: admin.access })).status, 204);
    t.same(await nothingMore(goneOnB.sock, (m) => m.type === 'access_revoked', 500), [], 'nothing reaches B while it is cut off');
    b!.redisProxy.restore();
    t.same(await goneOnB.sock.next('access_revoked', 8000), { type: 'access_revoked', roomId }, 'the removed member is taken out on B once Redis is back');
    goneOnB.sock.send(line(roomId, { clientRef: 'after-removal' }));
    t.match(await goneOnB.sock.next('error'), { code: 'not_in_room', ref: 'after-removal' }, 'and can no longer draw there');
    keptOnB.sock.send(line(roomId, { clientRef: 'as-viewer-now' }));
    t.match(await keptOnB.sock.next('error'), { code: 'forbidden', ref: 'as-viewer-now' }, 'the member made a viewer meanwhile is one on B');
    await Promise.all([onA.sock.close(), keptOnB.sock.close(), goneOnB.sock.close()]);
  });

  t.test('a leave that could not reach Redis is made good when Redis is back (no ghost member, no leaked key)', async (t) => {
    const alice = await newUser(a!, 'alice-r');
    const rita = await newUser(a!, 'rita');
    const roomId = await createRoom(a!, alice);
    const onA = await joined(a!, alice, roomId);
    const onB = await joined(b!, rita, roomId);
    await onA.sock.next('member_joined');
    b!.redisProxy.cut();
    t.teardown(() => b!.redisProxy.restore());
    await onB.sock.close();
    await new Promise((r) => setTimeout(r, 300));
    b!.redisProxy.restore();
    const restored = Date.now();
    t.match(await onA.sock.next('member_left', 8000), { user: { id: rita.user.id } }, 'A hears Rita leave once B reaches Redis again');
    t.comment(`member_left reached A ${Date.now() - restored} ms after B's Redis came back`);
    const late = await joined(a!, await newUser(a!, 'late-r'), roomId);
    t.notOk(
      late.state.members.some((m: any) => m.id === rita.user.id),
      'a later joiner does not see her',
    );
    await Promise.all([onA.sock.close(), late.sock.close()]);
  });

  t.test('an instance that dies without a goodbye: its users leave on the others within 15 s', async (t) => {
    const alice = await newUser(a!, 'alice-d');
    const dora = await newUser(a!, 'dora');
    const roomId = await createRoom(a!, alice);
    const onA = await joined(a!, alice, roomId);
    await joined(c!, dora, roomId);
    await onA.sock.next('member_joined');

    // C loses Redis, then stops: it can tell nobody that its sockets are gone.
    c!.redisProxy.cut();
    const died = Date.now();
    await c!.close();
    t.same(await nothingMore(onA.sock, (m) => m.type === 'member_left', 1000), [], 'nobody was told at once');
    const left = await onA.sock.next('member_left', 20_000);
    const afterMs = Date.now() - died;
    t.same(left, { type: 'member_left', roomId, user: { id: dora.user.id, name: dora.user.name } });
    t.comment(`member_left reached A ${afterMs} ms after C died`);
    t.ok(afterMs <= 15_000, 'within 15 s');
    const late = await joined(b!, await newUser(b!, 'late'), roomId);
    t.notOk(ids(late.state.members).includes(dora.user.id), 'a later joiner does not see the dead instance’s user');
    await Promise.all([onA.sock.close(), late.sock.close()]);
  });

  t.test('an instance shut down normally says goodbye: its users leave at once', async (t) => {
    const alice = await newUser(a!, 'alice-g');
    const gus = await newUser(a!, 'gus');
    const roomId = await createRoom(a!, alice);
    const onA = await joined(a!, alice, roomId);
    await joined(b!, gus, roomId);
    await onA.sock.next('member_joined');
    const stopped = Date.now();
    await b!.close();
    t.match(await onA.sock.next('member_left', 3000), { user: { id: gus.user.id } }, 'well before an instance counts as dead');
    t.comment(`member_left reached A ${Date.now() - stopped} ms after B began shutting down`);
    await onA.sock.close();
  });
});
