import t from 'tap';
import { startFakeOpenAI } from '../helpers/fake-openai.js';
import { startServer } from '../helpers/server.js';
import { newUser, openChat, startTutor, turnFrames } from '../tutor/tutor-helpers.js';
import { createRoom, joined, newUser as newPainter } from '../whiteboard/fixtures.js';

// OPENAI_TIMEOUT=3s with one retry bounds a call at 6 s, so a 20 s Retry-After is never waited out.
const env = { OPENAI_TIMEOUT: '3s', OPENAI_MAX_RETRIES: 1 };

t.test("tutor: a provider's Retry-After does not override our deadline", async (t) => {
  const { server, fake } = await startTutor(t, { env });
  t.beforeEach(() => fake.reset());
  const sock = await openChat(server, 1, await newUser(server));
  t.teardown(() => sock.close());

  t.test('Retry-After longer than the time left: the turn ends now with ai_rate_limited, no second request', async (t) => {
    fake.chat.fail = { status: 429, message: 'Slow down', headers: { 'retry-after': '20' } };
    sock.send({ data: 'Are you there?' });
    // Well before the provider's 20 s: without the deadline the SDK sleeps 20 s, then asks again.
    const frames = await turnFrames(sock, undefined, 15_000);
    t.same(
      frames.map((f) => f.code ?? f.type),
      ['ai_rate_limited', 'completed'],
    );
    t.equal(fake.requestsTo('/chat/completions').length, 1);
  });

  t.test('a Retry-After that fits is honoured: one retry, then the answer', async (t) => {
    fake.once('chat', { fail: { status: 429, headers: { 'retry-after': '0' } } });
    sock.send({ data: 'Again?' });
    const frames = await turnFrames(sock, undefined, 15_000);
    t.equal(frames.at(-1).message, 'completed.');
    t.ok(
      frames.some((f) => f.type === 'delta'),
      'the retried request answered',
    );
    t.equal(fake.requestsTo('/chat/completions').length, 2);
  });
});

t.test("pictures: a provider's Retry-After does not override our deadline", async (t) => {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const server = await startServer(t, { env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.baseURL, ...env } });
  const painter = await newPainter(server, 'painter');
  const roomId = await createRoom(server, painter);
  const { sock } = await joined(server, painter, roomId);
  t.teardown(() => sock.close());
  fake.images.fail = { status: 429, headers: { 'retry-after': '20' } };
  sock.send({ type: 'ai_generate_image', roomId, prompt: 'a fox' });
  const done = await sock.next('ai_message', 15_000);
  t.match(done, { error: true, code: 'ai_rate_limited' });
  t.equal(fake.requestsTo('/images/generations').length, 1);
});
