// Fake OpenAI-compatible HTTP server for tests and benchmarks (node:http only).
// Use it through the real SDK: new OpenAI({ apiKey: 'test', baseURL: fake.baseURL, maxRetries: 0 }).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { multipartBoundary, parseMultipart } from './multipart.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON; for multipart `{ fields, files }` (see multipart.ts); raw string otherwise; undefined if empty. */
  body: unknown;
  receivedAt: number; // performance.now()
  /** The client closed the connection before the response finished (not set when the fake itself cut it). */
  aborted: boolean;
  finished: boolean;
}
export interface FailSpec {
  status: number;
  message?: string;
  code?: string;
  type?: string;
  headers?: Record<string, string>;
}
export interface ChatBehavior {
  chunks: string[];
  firstByteDelayMs: number;
  chunkDelayMs: number;
  fail?: FailSpec;
  /** Send that many content chunks, wait max(chunkDelayMs, 25ms), then destroy the socket (non-stream: destroy before answering). */
  failAfterChunks?: number;
  hang?: boolean;
}
export interface ImageBehavior {
  format: 'b64_json' | 'url';
  bytes: Buffer;
  contentType: string;
  delayMs: number;
  fail?: FailSpec;
  hang?: boolean;
  /** With format 'url': the /files URL answers 302 to this location instead of the bytes. */
  redirect?: string;
}
export interface TranscriptionBehavior {
  text: string;
  delayMs: number;
  fail?: FailSpec;
  hang?: boolean;
}
export interface SpeechBehavior {
  bytes: (input: string) => Buffer;
  chunkDelayMs: number;
  delayMs: number;
  fail?: FailSpec;
  hang?: boolean;
}

export interface Behaviors {
  chat: ChatBehavior;
  images: ImageBehavior;
  transcription: TranscriptionBehavior;
  speech: SpeechBehavior;
}
export type Endpoint = keyof Behaviors;

export interface FakeOpenAI extends Behaviors {
  baseURL: string; // 'http://127.0.0.1:<port>/v1'
  requests: RecordedRequest[];
  /** Override applies to the next request of that endpoint only (queued, FIFO). */
  once<E extends Endpoint>(endpoint: E, override: Partial<Behaviors[E]>): void;
  requestsTo(pathSuffix: string): RecordedRequest[];
  /** Resolves when the count-th (1-based, default 1) request to that path has arrived (body already parsed). */
  waitForRequest(pathSuffix: string, count?: number, timeoutMs?: number): Promise<RecordedRequest>;
  /** Resolves once the connection for that request closed (finished, aborted by the client or cut by the fake). */
  waitForClose(request: RecordedRequest, timeoutMs?: number): Promise<RecordedRequest>;
  reset(): void;
  close(): Promise<void>;
}

/** A valid 1x1 RGBA PNG. */
export const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

export const defaultBehaviors = (): Behaviors => ({
  chat: { chunks: ['Hello', ' there', '. How', ' can I help?'], firstByteDelayMs: 0, chunkDelayMs: 0 },
  images: { format: 'b64_json', bytes: TINY_PNG, contentType: 'image/png', delayMs: 0 },
  transcription: { text: 'What is the present perfect?', delayMs: 0 },
  speech: { bytes: (input) => Buffer.from(`MP3:${input}`), chunkDelayMs: 0, delayMs: 0 },
});

const AUDIO_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/ogg',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

/** Per-request state shared by the endpoint handlers. */
interface Ctx {
  res: ServerResponse;
  requestId: string;
  closed: boolean;
  /** Destroy the socket from the server side (simulated network failure). */
  kill(): void;
}

function sleep(ctx: Ctx, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (ctx.closed) return resolve(false);
    if (ms <= 0) return resolve(true);
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      ctx.res.off('close', onClose);
      resolve(!ctx.closed);
    }, ms);
    ctx.res.once('close', onClose);
  });
}

function sendJson(ctx: Ctx, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  ctx.res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(payload.length),
    'x-request-id': ctx.requestId,
    ...headers,
  });
  ctx.res.end(payload);
}

function defaultErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function sendError(ctx: Ctx, fail: FailSpec): void {
  const error = {
    message: fail.message ?? `Fake OpenAI error (status ${fail.status})`,
    type: fail.type ?? defaultErrorType(fail.status),
    code: fail.code ?? (fail.status === 429 ? 'rate_limit_exceeded' : null),
    param: null,
  };
  sendJson(ctx, fail.status, { error }, fail.headers);
}

/** Common start of every endpoint: hang / delay / fail. Returns true when the handler should answer normally. */
async function prelude(ctx: Ctx, delayMs: number, b: { fail?: FailSpec; hang?: boolean }): Promise<boolean> {
  if (b.hang) return false; // leave the connection open until the client or close() ends it
  if (!(await sleep(ctx, delayMs))) return false;
  if (b.fail) {
    sendError(ctx, b.fail);
    return false;
  }
  return true;
}

function asRecord(body: unknown): Record<string, unknown> {
  return body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
}

async function handleChat(ctx: Ctx, rawBody: unknown, b: ChatBehavior, id: string): Promise<void> {
  if (!(await prelude(ctx, b.firstByteDelayMs, b))) return;
  const body = asRecord(rawBody);
  const created = Math.floor(Date.now() / 1000);
  const model = typeof body.model === 'string' ? body.model : 'gpt-fake';
  const completionTokens = b.chunks.length;
  const usage = { prompt_tokens: 10, completion_tokens: completionTokens, total_tokens: 10 + completionTokens };

  if (body.stream !== true) {
    if (b.failAfterChunks !== undefined) return ctx.kill();
    const message = { role: 'assistant', content: b.chunks.join(''), refusal: null };
    sendJson(ctx, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: 'stop' }],
      usage,
    });
    return;
  }

  const { res } = ctx;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': ctx.requestId,
  });
  res.flushHeaders();
  const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`);
  const choice = (delta: Record<string, unknown>, finishReason: string | null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finishReason,
  });

  // A socket error makes fetch's body stream discard chunks the reader has not pulled yet, so give the
  // client a moment (chunkDelayMs, at least 25ms) to consume what was sent before cutting the connection.
  const cut = async () => {
    if (await sleep(ctx, Math.max(b.chunkDelayMs, 25))) ctx.kill();
  };
  for (let i = 0; i < b.chunks.length; i++) {
    if (i === b.failAfterChunks) return cut();
    if (i > 0 && !(await sleep(ctx, b.chunkDelayMs))) return;
    send([choice({ ...(i === 0 ? { role: 'assistant' } : {}), content: b.chunks[i] }, null)]);
  }
  if (b.failAfterChunks !== undefined) return cut(); // failAfterChunks >= chunks.length: cut before "stop"
  send([choice(b.chunks.length === 0 ? { role: 'assistant' } : {}, 'stop')]);
  const streamOptions = asRecord(body.stream_options);
  if (streamOptions.include_usage === true) send([], { usage });
  res.end('data: [DONE]\n\n');
}

async function handleImages(ctx: Ctx, rawBody: unknown, b: ImageBehavior, store: (bytes: Buffer, type: string) => string) {
  if (!(await prelude(ctx, b.delayMs, b))) return;
  const count = Math.max(1, Number(asRecord(rawBody).n ?? 1) || 1);
  const data = Array.from({ length: count }, () => (b.format === 'b64_json' ? { b64_json: b.bytes.toString('base64') } : { url: store(b.bytes, b.contentType) }));
  sendJson(ctx, 200, { created: Math.floor(Date.now() / 1000), data });
}

async function handleTranscription(ctx: Ctx, rawBody: unknown, b: TranscriptionBehavior) {
  if (!(await prelude(ctx, b.delayMs, b))) return;
  const fields = asRecord(asRecord(rawBody).fields);
  const format = typeof fields.response_format === 'string' ? fields.response_format : 'json';
  if (format === 'text' || format === 'srt' || format === 'vtt') {
    ctx.res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': ctx.requestId });
    return void ctx.res.end(b.text);
  }
  const verbose = format === 'verbose_json' ? { task: 'transcribe', language: 'english', duration: 1, segments: [] } : {};
  sendJson(ctx, 200, { ...verbose, text: b.text });
}

async function handleSpeech(ctx: Ctx, rawBody: unknown, b: SpeechBehavior) {
  if (!(await prelude(ctx, b.delayMs, b))) return;
  const body = asRecord(rawBody);
  const bytes = b.bytes(String(body.input ?? ''));
  const format = typeof body.response_format === 'string' ? body.response_format : 'mp3';
  ctx.res.writeHead(200, {
    'content-type': AUDIO_TYPES[format] ?? 'audio/mpeg',
    'content-length': String(bytes.length),
    'x-request-id': ctx.requestId,
  });
  const half = Math.ceil(bytes.length / 2);
  ctx.res.write(bytes.subarray(0, half));
  if (await sleep(ctx, b.chunkDelayMs)) ctx.res.end(bytes.subarray(half));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  if (raw.length === 0) return undefined;
  const contentType = req.headers['content-type'];
  const boundary = multipartBoundary(contentType);
  if (boundary) return parseMultipart(raw, boundary);
  const text = raw.toString('utf8');
  try {
    return contentType?.includes('json') ? JSON.parse(text) : text;
  } catch {
    return text;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`fake-openai: ${message()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const ROUTES: Record<string, Endpoint> = {
  '/v1/chat/completions': 'chat',
  '/v1/images/generations': 'images',
  '/v1/audio/transcriptions': 'transcription',
  '/v1/audio/speech': 'speech',
};

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const sockets = new Set<Socket>();
  const files = new Map<string, { bytes: Buffer; contentType: string; redirect?: string }>();
  const overrides: { [E in Endpoint]: Partial<Behaviors[E]>[] } = { chat: [], images: [], transcription: [], speech: [] };
  const closedPromises = new WeakMap<RecordedRequest, Promise<void>>();
  const waiters = new Set<() => boolean>();
  let seq = 0;
  let closing = false;

  const server = createServer();
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const defaults = defaultBehaviors();

  const fake: FakeOpenAI = {
    baseURL: `${origin}/v1`,
    requests: [],
    ...defaults,
    once(endpoint, override) {
      (overrides[endpoint] as unknown[]).push(override);
    },
    requestsTo: (suffix) => fake.requests.filter((r) => r.path.endsWith(suffix)),
    waitForRequest(suffix, count = 1, timeoutMs = 2000) {
      let check = () => false;
      const arrived = new Promise<RecordedRequest>((resolve) => {
        check = () => {
          const found = fake.requestsTo(suffix)[count - 1];
          if (found) resolve(found);
          return found !== undefined;
        };
      });
      if (!check()) waiters.add(check);
      const got = () => fake.requestsTo(suffix).length;
      return withTimeout(arrived, timeoutMs, () => `timed out after ${timeoutMs}ms waiting for request #${count} to ${suffix} (got ${got()})`).finally(() => waiters.delete(check));
    },
    async waitForClose(request, timeoutMs = 2000) {
      const closed = closedPromises.get(request);
      if (!closed) throw new Error('fake-openai: unknown request');
      await withTimeout(closed, timeoutMs, () => `connection for ${request.path} still open after ${timeoutMs}ms`);
      return request;
    },
    reset() {
      const fresh = defaultBehaviors();
      for (const key of Object.keys(fresh) as Endpoint[]) {
        const target = fake[key] as unknown as Record<string, unknown>;
        for (const k of Object.keys(target)) delete target[k];
        Object.assign(target, fresh[key]);
        overrides[key].length = 0;
      }
      fake.requests.length = 0;
      files.clear();
    },
    async close() {
      closing = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  // Snapshot the behaviour at arrival time so concurrent requests consume `once` overrides in arrival order.
  function behavior<E extends Endpoint>(endpoint: E): Behaviors[E] {
    return { ...fake[endpoint], ...overrides[endpoint].shift() } as Behaviors[E];
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', origin).pathname;
    const record: RecordedRequest = {
      method,
      path,
      headers: req.headers,
      body: undefined,
      receivedAt: performance.now(),
      aborted: false,
      finished: false,
    };
    const n = ++seq;
    let cutByServer = false;
    const ctx: Ctx = {
      res,
      requestId: `req_fake${n}`,
      closed: false,
      kill() {
        cutByServer = true;
        res.destroy();
      },
    };
    closedPromises.set(
      record,
      new Promise<void>((resolve) => {
        res.on('close', () => {
          ctx.closed = true;
          record.finished = res.writableFinished;
          if (!record.finished && !cutByServer && !closing) record.aborted = true;
          resolve();
        });
      }),
    );
    const endpoint = method === 'POST' ? ROUTES[path] : undefined;
    const b = endpoint ? behavior(endpoint) : undefined;

    try {
      record.body = await readBody(req);
    } catch {
      // client went away mid-upload; still record it (the close handler sets `aborted`)
    }
    fake.requests.push(record);
    for (const check of [...waiters]) check();
    if (ctx.closed) return;

    switch (endpoint) {
      case 'chat':
        return handleChat(ctx, record.body, b as ChatBehavior, `chatcmpl-fake${n}`);
      case 'images': {
        let i = 0;
        const { redirect } = b as ImageBehavior;
        return handleImages(ctx, record.body, b as ImageBehavior, (bytes, contentType) => {
          const name = `img_${n}_${i++}.${contentType.split('/')[1]?.replace('jpeg', 'jpg') ?? 'bin'}`;
          files.set(name, { bytes, contentType, ...(redirect ? { redirect } : {}) });
          return `${origin}/files/${name}`;
        });
      }
      case 'transcription':
        return handleTranscription(ctx, record.body, b as TranscriptionBehavior);
      case 'speech':
        return handleSpeech(ctx, record.body, b as SpeechBehavior);
    }
    const file = method === 'GET' && path.startsWith('/files/') ? files.get(path.slice('/files/'.length)) : undefined;
    if (file?.redirect) {
      res.writeHead(302, { location: file.redirect, 'content-length': '0' });
      return void res.end();
    }
    if (file) {
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.bytes.length) });
      return void res.end(file.bytes);
    }
    sendError(ctx, { status: 404, message: `Unknown request URL: ${method} ${path}.`, code: 'unknown_url' });
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake-openai crashed: ${String(err)}`, type: 'server_error', code: null, param: null } }));
    });
  });

  return fake;
}
