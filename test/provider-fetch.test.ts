import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import t from 'tap';
import { providerFetch } from '../src/provider-fetch.js';
import { startFakeOpenAI } from './helpers/fake-openai.js';

interface Seen {
  method?: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A provider stand-in on loopback; `handle` answers, `seen` holds the last request as it arrived. */
async function provider(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const seen: Seen = { headers: {}, body: '' };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      Object.assign(seen, { method: req.method, headers: req.headers, body });
      handle(req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, server, close: () => new Promise<void>((r) => server.close(() => r())) };
}

t.test('a text body goes over node:http and the answer streams back as a Response', async (t) => {
  const p = await provider((_req, res) => {
    res.writeHead(201, { 'content-type': 'text/event-stream', 'x-request-id': 'req_1' });
    res.write('data: one\n\n');
    setTimeout(() => res.end('data: two\n\n'), 20);
  });
  const transport = providerFetch();
  t.teardown(async () => {
    transport.close();
    await p.close();
  });
  const body = JSON.stringify({ question: 'naïve café' });
  const res = await transport.fetch(`${p.url}/v1/chat`, { method: 'POST', headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' }, body });
  t.equal(res.status, 201);
  t.equal(res.headers.get('x-request-id'), 'req_1');
  t.equal(await res.text(), 'data: one\n\ndata: two\n\n', 'every chunk, in order');
  t.equal(p.seen.method, 'POST');
  t.equal(p.seen.headers.authorization, 'Bearer sk-test');
  t.equal(p.seen.headers['content-length'], String(Buffer.byteLength(body)), 'the length in bytes, not characters');
  t.equal(p.seen.body, body);
});

t.test('a status without a body gives a Response without one', async (t) => {
  const p = await provider((_req, res) => {
    res.writeHead(204);
    res.end();
  });
  const transport = providerFetch();
  t.teardown(async () => {
    transport.close();
    await p.close();
  });
  const res = await transport.fetch(`${p.url}/v1/thing`, { method: 'DELETE' });
  t.equal(res.status, 204);
  t.equal(res.body, null);
});

t.test('aborting mid-answer ends the body with an AbortError', async (t) => {
  const p = await provider((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    // …and nothing more until the client goes away.
  });
  const transport = providerFetch();
  t.teardown(async () => {
    transport.close();
    p.server.closeAllConnections();
    await p.close();
  });
  const controller = new AbortController();
  const res = await transport.fetch(`${p.url}/v1/chat`, { method: 'POST', body: '{}', signal: controller.signal });
  const reader = res.body!.getReader();
  const first = await reader.read();
  t.equal(Buffer.from(first.value!).toString(), 'data: first\n\n');
  controller.abort();
  await t.rejects(reader.read(), { name: 'AbortError' });
});

t.test('an already aborted signal rejects before anything is sent', async (t) => {
  let requests = 0;
  const p = await provider((_req, res) => {
    requests++;
    res.end('{}');
  });
  const transport = providerFetch();
  t.teardown(async () => {
    transport.close();
    await p.close();
  });
  await t.rejects(transport.fetch(`${p.url}/v1/chat`, { method: 'POST', body: '{}', signal: AbortSignal.abort() }), { name: 'AbortError' });
  t.equal(requests, 0);
});

t.test('a refused connection rejects (the SDK reports it as a connection error)', async (t) => {
  const p = await provider(() => {});
  const url = p.url;
  await p.close();
  const transport = providerFetch();
  t.teardown(() => transport.close());
  await t.rejects(transport.fetch(`${url}/v1/chat`, { method: 'POST', body: '{}' }), { code: 'ECONNREFUSED' });
});

t.test('a form body (a transcription) goes through the global fetch, multipart intact', async (t) => {
  const p = await provider((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"text":"hi"}');
  });
  const transport = providerFetch();
  t.teardown(async () => {
    transport.close();
    await p.close();
  });
  const form = new FormData();
  form.append('model', 'whisper-1');
  form.append('file', new Blob([Buffer.from('RIFF')]), 'question.wav');
  const res = await transport.fetch(`${p.url}/v1/audio/transcriptions`, { method: 'POST', body: form });
  t.same(await res.json(), { text: 'hi' });
  t.match(p.seen.headers['content-type'], /^multipart\/form-data; boundary=/);
  t.match(p.seen.body, /name="model"\r\n\r\nwhisper-1/);
});

t.test('the SDK streams a chat answer, and reports provider errors, through it', async (t) => {
  const fake = await startFakeOpenAI();
  const transport = providerFetch();
  t.teardown(async () => {
    transport.close();
    await fake.close();
  });
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: fake.baseURL, maxRetries: 0, fetch: transport.fetch });
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }], stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  t.ok(text.length > 0, `streamed "${text}"`);
  fake.chat.fail = { status: 429 };
  const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof OpenAI.RateLimitError, 'a 429 is the SDK’s RateLimitError');
  fake.chat.fail = undefined;
  // Chunks 50 ms apart: the abort lands while the answer is still arriving.
  fake.chat.chunkDelayMs = 50;
  const controller = new AbortController();
  const cut = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }], stream: true }, { signal: controller.signal });
  let chunks = 0;
  for await (const _chunk of cut) {
    chunks++;
    controller.abort();
  }
  t.equal(chunks, 1, 'a stream aborted by its signal ends quietly after the chunk it was reading, as the SDK does with the global fetch');
  t.ok(fake.chat.chunks.length > 1, 'there was more to come');
});

t.test('close() ends the kept-alive connections', async (t) => {
  const p = await provider((_req, res) => res.end('{}'));
  t.teardown(() => p.close());
  const transport = providerFetch();
  await (await transport.fetch(`${p.url}/v1/models`)).text();
  const open = () => new Promise<number>((r) => p.server.getConnections((_e, n) => r(n)));
  t.equal(await open(), 1, 'the connection stays open for the next call');
  transport.close();
  const deadline = Date.now() + 2000;
  while ((await open()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(await open(), 0);
});
