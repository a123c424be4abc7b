import t from 'tap';
import { performance } from 'node:perf_hooks';
import OpenAI, { toFile } from 'openai';
import { startFakeOpenAI, TINY_PNG, type FakeOpenAI } from './helpers/fake-openai.js';

const fake: FakeOpenAI = await startFakeOpenAI();
t.teardown(() => fake.close());
t.beforeEach(() => fake.reset());

const client = (opts: { timeout?: number; maxRetries?: number } = {}) =>
  new OpenAI({ apiKey: 'test', baseURL: fake.baseURL, maxRetries: opts.maxRetries ?? 0, timeout: opts.timeout ?? 5000 });

const messages = [{ role: 'user' as const, content: 'Hi' }];

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

t.test('streaming chat yields chunks in order and records the request', async (t) => {
  const stream = await client().chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
  const deltas: string[] = [];
  const finishReasons: (string | null)[] = [];
  let firstRole: string | undefined;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (deltas.length === 0 && choice.delta.role) firstRole = choice.delta.role;
    if (choice.delta.content) deltas.push(choice.delta.content);
    finishReasons.push(choice.finish_reason);
    t.equal(chunk.model, 'gpt-4o-mini');
    t.equal(chunk.object, 'chat.completion.chunk');
  }
  t.same(deltas, ['Hello', ' there', '. How', ' can I help?']);
  t.equal(firstRole, 'assistant');
  t.equal(finishReasons.at(-1), 'stop');

  const [req] = fake.requestsTo('/chat/completions');
  t.ok(req);
  t.equal(req!.method, 'POST');
  t.equal(req!.path, '/v1/chat/completions');
  t.match(req!.body, { model: 'gpt-4o-mini', messages, stream: true });
  t.equal(req!.headers.authorization, 'Bearer test');
  t.equal(req!.finished, true);
  t.equal(req!.aborted, false);
});

t.test('non-stream chat returns the joined content; usage chunk on request', async (t) => {
  fake.chat.chunks = ['a', 'b', 'c'];
  const res = await client().chat.completions.create({ model: 'm', messages });
  t.equal(res.choices[0]?.message.content, 'abc');
  t.equal(res.choices[0]?.finish_reason, 'stop');
  t.match(res._request_id, /^req_fake\d+$/, 'x-request-id surfaces as _request_id');

  const stream = await client().chat.completions.create({
    model: 'm',
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let usage: unknown;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  t.match(usage, { completion_tokens: 3 });
});

t.test('first byte and chunk delays', async (t) => {
  fake.chat.firstByteDelayMs = 100;
  fake.chat.chunkDelayMs = 60;
  const start = performance.now();
  const stream = await client().chat.completions.create({ model: 'm', messages, stream: true });
  const times: number[] = [];
  for await (const chunk of stream) if (chunk.choices[0]?.delta.content) times.push(performance.now() - start);
  t.equal(times.length, 4);
  t.ok(times[0]! >= 90, `first chunk after ${times[0]}ms`);
  for (let i = 1; i < times.length; i++) t.ok(times[i]! - times[i - 1]! >= 45, `gap ${i}: ${times[i]! - times[i - 1]!}ms`);
});

t.test('429 → RateLimitError with retry-after, code and request id', async (t) => {
  fake.chat.fail = { status: 429, message: 'Slow down', headers: { 'retry-after': '7' } };
  const err = await rejection(client().chat.completions.create({ model: 'm', messages, stream: true }));
  t.type(err, OpenAI.RateLimitError);
  const e = err as InstanceType<typeof OpenAI.RateLimitError>;
  t.equal(e.status, 429);
  t.equal(e.code, 'rate_limit_exceeded');
  t.equal(e.type, 'requests');
  t.match(e.message, /^429 Slow down$/);
  t.equal(e.headers.get('retry-after'), '7');
  t.match(e.requestID, /^req_fake\d+$/);
});

t.test('SDK retries 429 honouring retry-after; once() makes only the first fail', async (t) => {
  fake.once('chat', { fail: { status: 429, headers: { 'retry-after': '0.05' } } });
  const res = await client({ maxRetries: 2 }).chat.completions.create({ model: 'm', messages });
  t.equal(res.choices[0]?.message.content, 'Hello there. How can I help?');
  const reqs = fake.requestsTo('/chat/completions');
  t.equal(reqs.length, 2);
  t.equal(reqs[0]!.headers['x-stainless-retry-count'], '0');
  t.equal(reqs[1]!.headers['x-stainless-retry-count'], '1');
  t.ok(reqs[1]!.receivedAt - reqs[0]!.receivedAt >= 40, 'waited for retry-after');
});

t.test('500 → InternalServerError', async (t) => {
  fake.chat.fail = { status: 500 };
  const err = await rejection(client().chat.completions.create({ model: 'm', messages }));
  t.type(err, OpenAI.InternalServerError);
  t.equal((err as InstanceType<typeof OpenAI.APIError>).status, 500);
  t.equal((err as InstanceType<typeof OpenAI.APIError>).type, 'server_error');
});

t.test('timeout before first byte → APIConnectionTimeoutError, request recorded as aborted', async (t) => {
  fake.chat.firstByteDelayMs = 1000;
  const start = performance.now();
  const err = await rejection(client({ timeout: 200 }).chat.completions.create({ model: 'm', messages, stream: true }));
  t.type(err, OpenAI.APIConnectionTimeoutError);
  t.ok(performance.now() - start < 900, 'did not wait for the delayed answer');
  const req = await fake.waitForClose(await fake.waitForRequest('/chat/completions'));
  t.equal(req.aborted, true);
  t.equal(req.finished, false);
});

t.test('hang + AbortController → APIUserAbortError, recorded aborted', async (t) => {
  fake.chat.hang = true;
  const ac = new AbortController();
  const pending = rejection(client().chat.completions.create({ model: 'm', messages, stream: true }, { signal: ac.signal }));
  const req = await fake.waitForRequest('/chat/completions');
  t.match(req.body, { model: 'm' });
  t.equal(req.aborted, false);
  ac.abort();
  t.type(await pending, OpenAI.APIUserAbortError);
  await fake.waitForClose(req);
  t.equal(req.aborted, true);
});

t.test('aborting mid-stream ends iteration silently and is recorded as aborted', async (t) => {
  fake.chat.chunkDelayMs = 200;
  const stream = await client().chat.completions.create({ model: 'm', messages, stream: true });
  const got: string[] = [];
  for await (const chunk of stream) {
    got.push(chunk.choices[0]?.delta.content ?? '');
    stream.controller.abort(); // the SDK swallows AbortError inside the iterator
  }
  t.same(got, ['Hello']);
  const req = await fake.waitForClose(fake.requests[0]!);
  t.equal(req.aborted, true);
});

t.test('failAfterChunks → stream iteration throws after that many chunks', async (t) => {
  fake.chat.failAfterChunks = 2;
  const stream = await client().chat.completions.create({ model: 'm', messages, stream: true });
  const got: string[] = [];
  const err = await rejection(
    (async () => {
      for await (const chunk of stream) got.push(chunk.choices[0]?.delta.content ?? '');
    })(),
  );
  t.same(got, ['Hello', ' there']);
  t.type(err, Error);
  t.notOk(err instanceof OpenAI.APIError, 'mid-stream network errors are NOT wrapped by the SDK');
  t.match(String(err), /terminated/);
  const req = await fake.waitForClose(fake.requests[0]!);
  t.equal(req.aborted, false, 'cut by the fake, not by the client');
  t.equal(req.finished, false);

  fake.once('chat', { failAfterChunks: 0 });
  const err2 = await rejection(client().chat.completions.create({ model: 'm', messages }));
  t.type(err2, OpenAI.APIConnectionError, 'non-stream: socket destroyed before headers');
});

t.test('images: b64_json', async (t) => {
  const res = await client().images.generate({ model: 'gpt-image-1', prompt: 'a cat' });
  t.equal(res.data?.length, 1);
  t.same(Buffer.from(res.data![0]!.b64_json!, 'base64'), TINY_PNG);
  t.match(fake.requestsTo('/images/generations')[0]!.body, { model: 'gpt-image-1', prompt: 'a cat' });
  t.equal(TINY_PNG.subarray(1, 4).toString(), 'PNG');
});

t.test('images: url served by the fake', async (t) => {
  fake.images.format = 'url';
  fake.images.bytes = Buffer.from('not really a jpeg');
  fake.images.contentType = 'image/jpeg';
  const res = await client().images.generate({ model: 'dall-e-3', prompt: 'a dog', response_format: 'url' });
  const url = res.data![0]!.url!;
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/files\/.+\.jpg$/);
  const download = await fetch(url);
  t.equal(download.status, 200);
  t.equal(download.headers.get('content-type'), 'image/jpeg');
  t.same(Buffer.from(await download.arrayBuffer()), Buffer.from('not really a jpeg'));
  t.equal((await fetch(url.replace(/\/files\/.*/, '/files/missing.png'))).status, 404);
});

t.test('images: moderation 400 carries the error code', async (t) => {
  for (const code of ['moderation_blocked', 'content_policy_violation']) {
    fake.once('images', { fail: { status: 400, code, message: 'Your request was rejected by the safety system.' } });
    const err = await rejection(client().images.generate({ model: 'gpt-image-1', prompt: 'bad' }));
    t.type(err, OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    t.equal(e.status, 400);
    t.equal(e.code, code);
    t.equal(e.type, 'invalid_request_error');
    t.equal(e.param, null);
    t.match(e.error, { message: /safety system/, code });
  }
});

t.test('images: delay + hang', async (t) => {
  fake.images.delayMs = 80;
  const start = performance.now();
  await client().images.generate({ model: 'gpt-image-1', prompt: 'x' });
  t.ok(performance.now() - start >= 70);
  fake.images.hang = true;
  const err = await rejection(client({ timeout: 100 }).images.generate({ model: 'gpt-image-1', prompt: 'x' }));
  t.type(err, OpenAI.APIConnectionTimeoutError);
});

t.test('transcription: multipart parsed, json and text formats', async (t) => {
  const audio = Buffer.alloc(1234, 7);
  const res = await client().audio.transcriptions.create({
    model: 'whisper-1',
    file: await toFile(audio, 'q.wav', { type: 'audio/wav' }),
    language: 'en',
  });
  t.equal(res.text, 'What is the present perfect?');
  const req = fake.requestsTo('/audio/transcriptions')[0]!;
  t.match(req.headers['content-type'], /^multipart\/form-data; boundary=/);
  t.same(req.body, {
    fields: { model: 'whisper-1', language: 'en' },
    files: [{ name: 'file', filename: 'q.wav', contentType: 'audio/wav', size: 1234 }],
  });

  fake.transcription.text = 'plain';
  const text = await client().audio.transcriptions.create({
    model: 'whisper-1',
    file: await toFile(audio, 'q.wav', { type: 'audio/wav' }),
    response_format: 'text',
  });
  t.equal(text, 'plain');

  fake.transcription.fail = { status: 400, message: 'Audio file is too short', code: 'audio_too_short' };
  const err = await rejection(client().audio.transcriptions.create({ model: 'whisper-1', file: await toFile(audio, 'q.wav') }));
  t.type(err, OpenAI.BadRequestError);
  t.equal((err as InstanceType<typeof OpenAI.APIError>).code, 'audio_too_short');
});

t.test('speech: bytes streamed in two chunks', async (t) => {
  fake.speech.chunkDelayMs = 150;
  const input = 'The present perfect connects the past with now.';
  const start = performance.now();
  const res = await client().audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input });
  t.equal(res.headers.get('content-type'), 'audio/mpeg');
  const reader = res.body!.getReader();
  const parts: { at: number; bytes: Uint8Array }[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push({ at: performance.now() - start, bytes: r.value });
  t.same(Buffer.concat(parts.map((p) => p.bytes)), Buffer.from(`MP3:${input}`));
  t.ok(parts.length >= 2, `${parts.length} chunks`);
  const gap = parts.at(-1)!.at - parts[0]!.at;
  t.ok(gap >= 100, `first chunk arrived ${gap}ms before the last one`);
  t.match(fake.requestsTo('/audio/speech')[0]!.body, { model: 'gpt-4o-mini-tts', voice: 'alloy', input });

  fake.speech.bytes = (text) => Buffer.from(`WAV:${text.length}`);
  const wav = await client().audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'abc', response_format: 'wav' });
  t.equal(wav.headers.get('content-type'), 'audio/wav');
  t.equal(Buffer.from(await wav.arrayBuffer()).toString(), 'WAV:3');

  fake.speech.fail = { status: 500 };
  t.type(await rejection(client().audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x' })), OpenAI.InternalServerError);
});

t.test('once overrides exactly one request each, in order', async (t) => {
  fake.once('chat', { chunks: ['first'] });
  fake.once('chat', { chunks: ['second'] });
  const c = client();
  const ask = async () => (await c.chat.completions.create({ model: 'm', messages })).choices[0]?.message.content;
  t.equal(await ask(), 'first');
  t.equal(await ask(), 'second');
  t.equal(await ask(), 'Hello there. How can I help?');
  t.same(fake.chat.chunks, ['Hello', ' there', '. How', ' can I help?'], 'base behaviour untouched');
});

t.test('reset restores defaults and clears requests and overrides', async (t) => {
  const chat = fake.chat;
  fake.chat.chunks = ['x'];
  fake.chat.fail = { status: 500 };
  fake.once('chat', { chunks: ['queued'] });
  await rejection(client().chat.completions.create({ model: 'm', messages }));
  t.equal(fake.requests.length, 1);
  fake.reset();
  t.equal(fake.requests.length, 0);
  t.equal(fake.chat, chat, 'same object, mutated in place');
  t.equal(fake.chat.fail, undefined);
  t.same(fake.chat.chunks, ['Hello', ' there', '. How', ' can I help?']);
  const res = await client().chat.completions.create({ model: 'm', messages });
  t.equal(res.choices[0]?.message.content, 'Hello there. How can I help?', 'queued override was dropped');
});

t.test('unknown path → 404 NotFoundError in OpenAI error shape', async (t) => {
  const err = await rejection(client().models.list());
  t.type(err, OpenAI.NotFoundError);
  t.equal((err as InstanceType<typeof OpenAI.APIError>).code, 'unknown_url');
  t.equal(fake.requests[0]?.method, 'GET');
  t.equal(fake.requests[0]?.path, '/v1/models');
});

t.test('waitForRequest resolves for the count-th request and times out otherwise', async (t) => {
  const c = client();
  const second = fake.waitForRequest('/chat/completions', 2);
  await c.chat.completions.create({ model: 'one', messages });
  await c.chat.completions.create({ model: 'two', messages });
  t.match((await second).body, { model: 'two' });
  await t.rejects(fake.waitForRequest('/chat/completions', 3, 50), /timed out after 50ms/);
});

t.test('close() destroys hanging connections', async (t) => {
  const own = await startFakeOpenAI();
  own.chat.hang = true;
  const c = new OpenAI({ apiKey: 'test', baseURL: own.baseURL, maxRetries: 0, timeout: 10_000 });
  const pending = rejection(c.chat.completions.create({ model: 'm', messages, stream: true }));
  const req = await own.waitForRequest('/chat/completions');
  const start = performance.now();
  await own.close();
  t.ok(performance.now() - start < 1000, 'close did not wait for the hanging response');
  t.type(await pending, OpenAI.APIConnectionError);
  t.equal(req.aborted, false, 'server-side close is not a client abort');
});
