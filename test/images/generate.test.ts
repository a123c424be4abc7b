import t from 'tap';
import { startFakeOpenAI, TINY_PNG } from '../helpers/fake-openai.js';
import { request } from '../helpers/http.js';
import { startServer } from '../helpers/server.js';
import { ImageGenerationError } from '../../src/images/image-studio.js';
import { fetchBytes, startInternalServer, userWithRoom } from './fixtures.js';

// A JPEG header is enough for the server to recognise the format; the rest is opaque bytes.
const FAKE_JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('not really a photo, but bytes all the same')]);

t.test('AI pictures through the real OpenAI SDK against the fake provider', async (t) => {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const server = await startServer(t, {
    env: { OPENAI_API_KEY: 'sk-test-images', OPENAI_BASE_URL: fake.baseURL, OPENAI_TIMEOUT: '300ms', OPENAI_MAX_RETRIES: 0, OPENAI_IMAGE_MODEL: 'img-model-x' },
  });
  const studio = server.app.imageStudio;
  const { session, roomId } = await userWithRoom(server, 'painter@example.com');
  const ctx = { userId: session.user.id, roomId };
  t.beforeEach(() => fake.reset());

  t.test('a b64_json answer is stored and served back byte for byte', async (t) => {
    fake.images.format = 'b64_json';
    fake.images.bytes = TINY_PNG;
    const image = await studio.generate('a red fox in the snow', ctx);
    t.equal(image.placeholder, false);
    t.match(image.imageId, /^[A-Za-z0-9_-]{22}$/);
    t.equal(image.imageUrl, `/api/v1/images/${image.imageId}`);

    const sent = fake.requestsTo('/images/generations');
    t.equal(sent.length, 1);
    t.match(sent[0]!.body, { model: 'img-model-x', prompt: 'a red fox in the snow', size: '1024x1024', n: 1 });

    const res = await fetchBytes(server, image.imageUrl);
    t.equal(res.status, 200);
    t.ok(res.bytes.equals(TINY_PNG), 'same bytes as the provider sent');
    t.equal(res.headers.get('content-type'), 'image/png');
    t.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    t.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const etag = res.headers.get('etag');
    t.ok(etag, 'has an ETag');

    const again = await fetchBytes(server, image.imageUrl, { 'if-none-match': etag! });
    t.equal(again.status, 304, 'a cached copy is revalidated without the bytes');
    t.equal(again.bytes.length, 0);

    const row = await server.app.db.selectFrom('images').selectAll().where('id', '=', image.imageId!).executeTakeFirstOrThrow();
    t.equal(row.room_id, roomId);
    t.equal(row.user_id, session.user.id);
    t.equal(row.prompt, 'a red fox in the snow');
  });

  t.test('a url answer is downloaded, stored and served back byte for byte', async (t) => {
    fake.images.format = 'url';
    fake.images.bytes = FAKE_JPEG;
    fake.images.contentType = 'image/jpeg';
    const image = await studio.generate('a lighthouse at dusk', ctx);
    t.equal(fake.requests.filter((r) => r.path.startsWith('/files/')).length, 1, 'the provider URL was fetched once');
    const res = await fetchBytes(server, image.imageUrl);
    t.equal(res.status, 200);
    t.ok(res.bytes.equals(FAKE_JPEG), 'same bytes as behind the provider URL');
    t.equal(res.headers.get('content-type'), 'image/jpeg');
    t.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  });

  t.test('two generations give two different unguessable ids', async (t) => {
    const a = await studio.generate('one', ctx);
    const b = await studio.generate('one', ctx);
    t.not(a.imageId, b.imageId);
  });

  const failures: Array<[string, () => void, string]> = [
    [
      'moderation_blocked code',
      () => {
        fake.images.fail = { status: 400, code: 'moderation_blocked', message: 'Your request was rejected by the safety system. sk-secret-detail' };
      },
      'moderation_blocked',
    ],
    [
      'content_policy_violation code',
      () => {
        fake.images.fail = { status: 400, code: 'content_policy_violation', message: 'Rejected.' };
      },
      'moderation_blocked',
    ],
    [
      'a 400 whose message names the safety system',
      () => {
        fake.images.fail = { status: 400, message: 'Your request was rejected as a result of our safety system.' };
      },
      'moderation_blocked',
    ],
    [
      'an ordinary 400',
      () => {
        fake.images.fail = { status: 400, code: 'invalid_size', message: 'Bad size.' };
      },
      'ai_failed',
    ],
    [
      'a 500',
      () => {
        fake.images.fail = { status: 500, message: 'The server had an error.' };
      },
      'ai_failed',
    ],
    [
      'a 429',
      () => {
        fake.images.fail = { status: 429, message: 'Rate limit reached for images.' };
      },
      'ai_rate_limited',
    ],
    [
      'no answer within OPENAI_TIMEOUT',
      () => {
        fake.images.hang = true;
      },
      'ai_timeout',
    ],
    [
      'an SVG answer (script-capable, never served)',
      () => {
        fake.images.bytes = Buffer.from('<svg onload="alert(1)"></svg>');
      },
      'ai_failed',
    ],
  ];
  for (const [what, arrange, code] of failures) {
    t.test(`${what} → ${code}`, async (t) => {
      arrange();
      const before = await server.app.db
        .selectFrom('images')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const err = await studio.generate('a picture', ctx).then(
        () => null,
        (e: unknown) => e,
      );
      t.ok(err instanceof ImageGenerationError, 'an ImageGenerationError');
      const failure = err as ImageGenerationError;
      t.equal(failure.code, code);
      t.match(failure.message, /^[A-Z].+\.$/, 'a sentence');
      t.notMatch(failure.message, /sk-|Fake OpenAI|status|Error:|\n\s+at /, 'no provider text or stack');
      const after = await server.app.db
        .selectFrom('images')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      t.equal(Number(after.n), Number(before.n), 'nothing stored');
    });
  }

  t.test('a url answer that is not a picture → ai_failed, nothing stored', async (t) => {
    fake.images.format = 'url';
    fake.images.bytes = Buffer.from('<html>login page</html>');
    fake.images.contentType = 'text/html';
    const err = await studio.generate('a picture', ctx).catch((e: unknown) => e);
    t.equal((err as ImageGenerationError).code, 'ai_failed');
    const line = await server.logs.waitFor(/image generation failed.*text\/html|text\/html.*image generation failed/);
    t.ok(line, 'the operator reads why in the log');
  });

  t.test('a url answer over AI_IMAGE_MAX_BYTES is refused', async (t) => {
    fake.images.format = 'url';
    fake.images.bytes = Buffer.concat([TINY_PNG, Buffer.alloc(30 * 1024 * 1024)]);
    const err = await studio.generate('a huge picture', ctx).catch((e: unknown) => e);
    t.equal((err as ImageGenerationError).code, 'ai_failed');
  });

  // SSRF: the URL in an answer (or where it redirects) must not make the server fetch its own network.
  t.test('a url answer redirecting off the provider to a private address → ai_failed, never fetched', async (t) => {
    const internal = await startInternalServer();
    t.teardown(() => internal.close());
    for (const target of [`${internal.url}/secret.png`, 'http://169.254.169.254/latest/meta-data/']) {
      fake.reset();
      fake.images.format = 'url';
      fake.images.redirect = target;
      const err = await studio.generate('a picture', ctx).catch((e: unknown) => e);
      t.equal((err as ImageGenerationError).code, 'ai_failed', target);
      t.equal(fake.requests.filter((r) => r.path.startsWith('/files/')).length, 1, 'the provider URL itself was fetched');
    }
    t.equal(internal.hits(), 0, 'the internal server was never reached');
  });

  t.test("a redirect that stays on the provider's origin is followed", async (t) => {
    fake.images.format = 'url';
    fake.images.bytes = FAKE_JPEG;
    fake.images.contentType = 'image/jpeg';
    await studio.generate('first', ctx); // stores /files/img_<n>_0.jpg on the fake
    const stored = fake.requests.find((r) => r.path.startsWith('/files/'))!.path;
    fake.images.redirect = new URL(fake.baseURL).origin + stored;
    const image = await studio.generate('second', ctx);
    const res = await fetchBytes(server, image.imageUrl);
    t.ok(res.bytes.equals(FAKE_JPEG), 'the bytes behind the redirect');
  });

  t.test('the provider key never reaches the log', async (t) => {
    t.notMatch(server.logs.text(), /sk-test-images/);
  });

  t.test('the image route answers 404 for an unknown id and 400 for a malformed one', async (t) => {
    for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', 'does-not-exist', '3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f']) {
      const unknown = await request(server, 'GET', `/api/v1/images/${id}`);
      t.equal(unknown.status, 404, id);
      t.match(unknown.body, { statusCode: 404, error: 'Not Found', code: 'image_not_found', message: String });
    }
    for (const id of ['..%2Fetc%2Fpasswd', 'x'.repeat(65), 'a%20b']) {
      const malformed = await request(server, 'GET', `/api/v1/images/${id}`);
      t.equal(malformed.status, 400, id);
      t.match(malformed.body, { statusCode: 400, message: /imageId|pattern/ });
    }
  });
});

t.test('PUBLIC_URL makes imageUrl absolute', async (t) => {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const server = await startServer(t, {
    env: { OPENAI_API_KEY: 'sk-test-images', OPENAI_BASE_URL: fake.baseURL, OPENAI_MAX_RETRIES: 0, PUBLIC_URL: 'https://ink.example.com/' },
  });
  const { session, roomId } = await userWithRoom(server, 'abs@example.com');
  const image = await server.app.imageStudio.generate('a kite', { userId: session.user.id, roomId });
  t.equal(image.imageUrl, `https://ink.example.com/api/v1/images/${image.imageId}`);
  const res = await fetchBytes(server, new URL(image.imageUrl).pathname);
  t.ok(res.bytes.equals(TINY_PNG), 'served under the path of the absolute URL');
});

t.test('closing the server stops a generation still waiting on the provider', async (t) => {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const server = await startServer(t, {
    env: { OPENAI_API_KEY: 'sk-test-images', OPENAI_BASE_URL: fake.baseURL, OPENAI_TIMEOUT: '60s', OPENAI_MAX_RETRIES: 0 },
  });
  const { session, roomId } = await userWithRoom(server, 'closing@example.com');
  fake.images.hang = true;
  const pending = server.app.imageStudio.generate('never answered', { userId: session.user.id, roomId }).catch((e: unknown) => e);
  const request = await fake.waitForRequest('/images/generations');
  await server.close();
  const err = await pending;
  t.ok(err instanceof ImageGenerationError);
  t.equal((err as ImageGenerationError).code, 'ai_failed', 'failed at once, not after OPENAI_TIMEOUT');
  await fake.waitForClose(request);
  t.ok(request.aborted, 'the request to the provider was abandoned');
});
