import t, { type Test } from 'tap';
import { startFakeOpenAI, TINY_PNG } from '../helpers/fake-openai.js';
import { startServer } from '../helpers/server.js';
import { createRoom, joined, line, newUser, nothingMore } from '../whiteboard/fixtures.js';
import { fetchBytes } from './fixtures.js';

// AI pictures end to end: real sockets on a listening server, the real SDK against the fake provider.
t.test('ai_generate_image over /ws', async (t) => {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const server = await startServer(t, {
    env: { OPENAI_API_KEY: 'sk-test-images', OPENAI_BASE_URL: fake.baseURL, OPENAI_TIMEOUT: '300ms', OPENAI_MAX_RETRIES: 0 },
  });
  t.beforeEach(() => fake.reset());

  /** A room with its admin and one more member, both joined. */
  async function board(t: Test) {
    const admin = await newUser(server, 'painter');
    const bob = await newUser(server, 'viewer');
    const roomId = await createRoom(server, admin);
    const a = await joined(server, admin, roomId);
    const b = await joined(server, bob, roomId);
    await a.sock.next('member_joined');
    t.teardown(() => Promise.all([a.sock.close(), b.sock.close()]));
    return { admin, bob, roomId, a: a.sock, b: b.sock };
  }

  t.test('success: ai_generating, then ai_message with a stored image drawing served byte for byte', async (t) => {
    const { admin, bob, roomId, a, b } = await board(t);
    a.send(line(roomId, { clientRef: 'before' }));
    const before = await a.next('draw');

    a.send({ type: 'ai_generate_image', roomId, prompt: '  a red fox in the snow  ', x: 40, y: 60 });
    for (const sock of [a, b]) {
      const generating = await sock.next('ai_generating');
      t.match(generating, { type: 'ai_generating', roomId, requestId: String, prompt: 'a red fox in the snow', userId: admin.user.id });
    }
    const done = await a.next('ai_message');
    t.match(done, { type: 'ai_message', roomId, content: 'Generated image for: "a red fox in the snow"', placeholder: false });
    t.notOk(done.error, 'not an error');
    t.match(done.imageUrl, /^\/api\/v1\/images\/[A-Za-z0-9_-]{22}$/);
    t.ok(done.seq > before.seq, 'the picture takes the next seq');
    t.equal(done.drawing.seq, done.seq);
    t.match(done.drawing, { roomId, shapeType: 'image', imageUrl: done.imageUrl, x: 40, y: 60, width: 512, height: 512, userId: admin.user.id });
    const seen = await b.next('ai_message');
    t.same(seen, done, 'every member gets the same ai_message');
    t.equal((await a.drain('ai_generating')).length, 0);

    const res = await fetchBytes(server, done.imageUrl);
    t.equal(res.status, 200);
    t.ok(res.bytes.equals(TINY_PNG), 'the picture is served byte for byte');
    t.equal(res.headers.get('content-type'), 'image/png');

    const late = await joined(server, bob, roomId);
    t.teardown(() => late.sock.close());
    t.same(
      late.state.drawings.map((d: any) => d.id),
      [before.drawing.id, done.drawing.id],
      'a late joiner sees the picture',
    );
  });

  t.test('a url answer works the same way', async (t) => {
    const { roomId, a } = await board(t);
    fake.images.format = 'url';
    a.send({ type: 'ai_generate_image', roomId, prompt: 'a lighthouse' });
    const done = await a.next('ai_message');
    t.match(done.drawing, { shapeType: 'image', x: 100, y: 100, width: 512, height: 512 }, 'default placement');
    const res = await fetchBytes(server, done.imageUrl);
    t.ok(res.bytes.equals(TINY_PNG));
  });

  const failures: Array<[string, () => void, string]> = [
    [
      'moderation refusal',
      () => {
        fake.images.fail = { status: 400, code: 'moderation_blocked', message: 'Rejected by the safety system.' };
      },
      'moderation_blocked',
    ],
    [
      'provider 500',
      () => {
        fake.images.fail = { status: 500 };
      },
      'ai_failed',
    ],
    [
      'provider 429',
      () => {
        fake.images.fail = { status: 429 };
      },
      'ai_rate_limited',
    ],
    [
      'provider silent past OPENAI_TIMEOUT',
      () => {
        fake.images.hang = true;
      },
      'ai_timeout',
    ],
  ];
  for (const [what, arrange, code] of failures) {
    t.test(`${what} → ai_message error ${code}, and the room carries on`, async (t) => {
      const { roomId, a, b } = await board(t);
      arrange();
      a.send({ type: 'ai_generate_image', roomId, prompt: 'something' });
      const generating = await b.next('ai_generating');
      for (const sock of [a, b]) {
        const failed = await sock.next('ai_message');
        t.match(failed, { type: 'ai_message', roomId, requestId: generating.requestId, error: true, code, content: /^[A-Z].+\.$/ });
        t.notOk('drawing' in failed, 'no drawing for a failure');
      }
      a.send(line(roomId, { clientRef: 'after' }));
      const after = await b.next('draw');
      t.equal(after.seq, 1, 'nothing was stored for the failed picture; the next drawing is seq 1');
      t.equal(a.ws.readyState, a.ws.OPEN, 'the socket stays open');
    });
  }

  t.test('a second request while one is running → error ai_busy to the requester only', async (t) => {
    const { roomId, a, b } = await board(t);
    fake.images.delayMs = 150;
    a.send({ type: 'ai_generate_image', roomId, prompt: 'first' });
    await a.next('ai_generating');
    a.send({ type: 'ai_generate_image', roomId, prompt: 'second' });
    const busy = await a.next('error');
    t.match(busy, { type: 'error', code: 'ai_busy', message: String, roomId });
    const done = await a.next('ai_message');
    t.match(done, { content: 'Generated image for: "first"' });
    t.same(await nothingMore(b, (m) => m.type === 'ai_generating' && m.prompt === 'second'), [], 'the refused request is not announced');
    t.equal(fake.requestsTo('/images/generations').length, 1);
  });

  t.test('more than AI_IMAGES_PER_MINUTE (5) in a minute → error rate_limited', async (t) => {
    const { roomId, a } = await board(t);
    for (let i = 0; i < 5; i++) {
      a.send({ type: 'ai_generate_image', roomId, prompt: `picture ${i}` });
      await a.next('ai_message');
    }
    a.send({ type: 'ai_generate_image', roomId, prompt: 'one too many' });
    t.match(await a.next('error'), { code: 'rate_limited', roomId });
    t.equal(fake.requestsTo('/images/generations').length, 5);
  });
});

t.test('without a key: a placeholder picture, at once', async (t) => {
  const server = await startServer(t, { env: { OPENAI_API_KEY: '' } });
  const admin = await newUser(server, 'nokey');
  const roomId = await createRoom(server, admin);
  const { sock } = await joined(server, admin, roomId);
  t.teardown(() => sock.close());
  sock.send({ type: 'ai_generate_image', roomId, prompt: 'a blue whale' });
  await sock.next('ai_generating');
  const done = await sock.next('ai_message');
  t.match(done, { placeholder: true, content: 'Generated image for: "a blue whale"' });
  t.match(done.imageUrl, /^https:\/\/picsum\.photos\/seed\/[0-9a-f]+\/512\/512$/);
  t.equal(done.drawing.imageUrl, done.imageUrl);
  t.equal(done.drawing.shapeType, 'image');
});
