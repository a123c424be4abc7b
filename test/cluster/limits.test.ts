import t from 'tap';
import { clusterUnavailable, startCluster } from '../helpers/cluster.js';
import { startFakeOpenAI } from '../helpers/fake-openai.js';
import { login, request } from '../helpers/http.js';
import { openSocket, TestSocket } from '../helpers/ws-client.js';
import { turnFrames } from '../tutor/tutor-helpers.js';

const skip = clusterUnavailable();

t.test('limits per address are counted over every instance', { skip: skip ?? false }, async (t) => {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const openai = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.baseURL, OPENAI_MAX_RETRIES: 0 };
  const [a, b] = await startCluster(t, 2, {
    env: { WS_CONNECTIONS_PER_IP_PER_MINUTE: 3, API_RATE_LIMIT_PER_MINUTE: 6, TUTOR_QUESTIONS_PER_MINUTE: 2, ...openai },
  });
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

  t.test('tutor questions per user', async (t) => {
    const onA = await openSocket(`${a!.wsUrl}/chat/1/?token=${encodeURIComponent(s.access)}`);
    const onB = await openSocket(`${b!.wsUrl}/chat/1/?token=${encodeURIComponent(s.access)}`);
    t.teardown(() => Promise.all([onA.close(), onB.close()]));
    for (const sock of [onA, onB]) {
      sock.send({ data: 'q' });
      t.notOk((await turnFrames(sock)).some((f) => f.type === 'error'));
    }
    onA.send({ data: 'one too many' });
    t.same(
      (await turnFrames(onA)).map((f) => [f.type, f.code]),
      [
        ['error', 'rate_limited'],
        ['completed', undefined],
      ],
      'the third in a minute over both instances',
    );
  });

  t.test('API requests', async (t) => {
    // Counted so far: the login's two requests and the two tutor sockets (/ws counts its connections apart).
    const statuses = [];
    for (const server of [b, a, b]) statuses.push((await request(server!, 'GET', '/api/v1/grammar/')).status);
    t.same(statuses, [200, 200, 429], 'six in a minute over both instances, then 429');
  });
});
