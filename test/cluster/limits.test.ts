import t from 'tap';
import { clusterUnavailable, startCluster } from '../helpers/cluster.js';
import { login, request } from '../helpers/http.js';
import { TestSocket } from '../helpers/ws-client.js';

const skip = clusterUnavailable();

t.test('limits per address are counted over every instance', { skip: skip ?? false }, async (t) => {
  const [a, b] = await startCluster(t, 2, { env: { WS_CONNECTIONS_PER_IP_PER_MINUTE: 3, API_RATE_LIMIT_PER_MINUTE: 6 } });
  const s = await login(a!, 'limits@example.com');

  t.test('socket connections', async (t) => {
    /** Opens a whiteboard socket and tells whether it got past the limit (it answers a ping) or how it closed. */
    const connect = async (server: typeof a) => {
      const sock = new TestSocket(`${server!.wsUrl}/ws?token=${encodeURIComponent(s.access)}`);
      await sock.opened;
      sock.send({ type: 'ping' });
      const outcome = await Promise.race([sock.next('pong').then(() => 'open'), sock.closed.then((c) => `${c.code}`)]);
      t.teardown(() => sock.close());
      return outcome;
    };
    t.equal(await connect(a), 'open');
    t.equal(await connect(b), 'open');
    t.equal(await connect(a), 'open');
    t.equal(await connect(b), '4029', 'the fourth in a minute is refused, though this instance saw only one');
    t.equal(await connect(a), '4029');
  });

  t.test('API requests', async (t) => {
    // The login above made two API requests on instance a.
    const statuses = [];
    for (const server of [b, a, b, a, b]) statuses.push((await request(server!, 'GET', '/api/v1/grammar/')).status);
    t.same(statuses, [200, 200, 200, 200, 429], 'six in a minute over both instances, then 429');
  });
});
