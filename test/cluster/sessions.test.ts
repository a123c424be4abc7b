import t from 'tap';
import { clusterUnavailable, startCluster, type Instance } from '../helpers/cluster.js';
import { login, request } from '../helpers/http.js';
import { socketsOf } from '../helpers/ws-client.js';

const skip = clusterUnavailable();

t.test('a login ended on one instance closes its sockets on the others', { skip: skip ?? false }, async (t) => {
  const [a, b] = await startCluster(t, 2);
  const me = (server: Instance, token: string) => request(server, 'GET', '/api/v1/auth/me/', { token });

  for (const redis of ['up', 'cut from the other instance'] as const) {
    t.test(`Redis ${redis}`, async (t) => {
      const email = `cluster-${redis.length}@example.com`;
      const ending = await login(a!, email);
      const other = await login(a!, email);
      const sockets = [...(await socketsOf(a!, ending)), ...(await socketsOf(b!, ending))];
      const otherSockets = await socketsOf(b!, other);
      if (redis !== 'up') b!.redisProxy.cut();
      t.teardown(() => b!.redisProxy.restore());

      const started = Date.now();
      const closed = Promise.all(sockets.map(async (s) => ({ ...(await s.closed), afterMs: Date.now() - started })));
      t.equal((await request(a!, 'POST', '/api/v1/auth/logout/', { body: { refresh: ending.refresh } })).status, 204);
      for (const c of await closed) {
        t.same({ code: c.code, reason: c.reason }, { code: 4001, reason: 'session ended' });
        t.comment(`closed ${c.afterMs} ms after the logout`);
      }
      t.equal((await me(b!, ending.access)).status, 401, 'the other instance refuses the token');
      t.equal((await me(b!, other.access)).status, 200, 'another login of the same user works there');
      otherSockets[0]!.send({ type: 'ping' });
      await otherSockets[0]!.next('pong');
      for (const s of otherSockets) await s.close();
    });
  }

  t.test('/ready reports Redis, and stays 200 without it', async (t) => {
    /** Polls /ready (always 200: Redis is not the database) until it reports Redis `state`. */
    const redisBecomes = async (state: string) => {
      for (let i = 0; i < 400; i++) {
        const res = await request(b!, 'GET', '/ready');
        if (res.status !== 200) return res;
        if (res.body.redis === state) return res;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`/ready never reported redis ${state}`);
    };
    t.same((await redisBecomes('up')).body, { status: 'ready', database: 'up', redis: 'up' });
    b!.redisProxy.cut();
    t.same((await redisBecomes('down')).body, { status: 'ready', database: 'up', redis: 'down' });
    b!.redisProxy.restore();
    t.same((await redisBecomes('up')).body, { status: 'ready', database: 'up', redis: 'up' }, 'reconnects by itself');
  });
});
