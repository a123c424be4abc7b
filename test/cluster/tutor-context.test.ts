import t, { type Test } from 'tap';
import { clusterUnavailable, startCluster, type Instance } from '../helpers/cluster.js';
import { startFakeOpenAI } from '../helpers/fake-openai.js';
import { login, request } from '../helpers/http.js';
import type { TestSocket } from '../helpers/ws-client.js';
import { openChat, turnFrames } from '../tutor/tutor-helpers.js';

const skip = clusterUnavailable();

t.test('the tutor context is the same on every instance', { skip: skip ?? false }, async (t) => {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const [a, b] = await startCluster(t, 2, {
    env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.baseURL, OPENAI_MAX_RETRIES: 0, OPENAI_TIMEOUT: '5s', TUTOR_QUESTIONS_PER_MINUTE: 1000 },
  });
  const topic = 1;

  let asked = 0;
  /** Asks on a socket, waits for the turn's `completed.` and returns the messages the model was given after the system one. */
  const ask = async (t: Test, socket: TestSocket, question: string, answer: string) => {
    fake.chat.chunks = [answer];
    socket.send({ data: question });
    const frames = await turnFrames(socket);
    t.notOk(
      frames.some((f) => f.error),
      `${question}: no error`,
    );
    const request = await fake.waitForRequest('/chat/completions', ++asked);
    return (request.body as { messages: Array<{ role: string; content: string }> }).messages.slice(1);
  };
  const turn = (question: string, answer: string) => [
    { role: 'user', content: question },
    { role: 'assistant', content: answer },
  ];
  const deleteHistory = async (t: Test, server: Instance, access: string) => {
    t.equal((await request(server, 'DELETE', `/api/v1/chat/history/${topic}/`, { token: access })).status, 204);
  };

  for (const redis of ['up', 'cut from the reading instance'] as const) {
    t.test(`Redis ${redis}`, async (t) => {
      const me = await login(a!, `context-${redis.length}@example.com`);
      const onA = await openChat(a!, topic, me);
      const onB = await openChat(b!, topic, me);
      t.teardown(async () => {
        b!.redisProxy.restore();
        await onA.close();
        await onB.close();
      });
      if (redis !== 'up') b!.redisProxy.cut();

      // B reads the conversation first, so anything it kept from that read would show below.
      t.same(await ask(t, onB, 'b1', 'B one.'), [{ role: 'user', content: 'b1' }]);
      t.same(await ask(t, onA, 'a1', 'A one.'), [...turn('b1', 'B one.'), { role: 'user', content: 'a1' }], "A sees B's turn");
      t.same(await ask(t, onB, 'b2', 'B two.'), [...turn('b1', 'B one.'), ...turn('a1', 'A one.'), { role: 'user', content: 'b2' }], "a conversation continued on B sees A's turn");

      await deleteHistory(t, a!, me.access);
      t.same(await ask(t, onB, 'b3', 'B three.'), [{ role: 'user', content: 'b3' }], 'deleted on A: B sends none of the deleted messages');
      t.same(await ask(t, onA, 'a2', 'A two.'), [...turn('b3', 'B three.'), { role: 'user', content: 'a2' }]);

      await deleteHistory(t, b!, me.access);
      t.same(await ask(t, onA, 'a3', 'A three.'), [{ role: 'user', content: 'a3' }], 'deleted on B: A sends none of the deleted messages');
    });
  }
});
