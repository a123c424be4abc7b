import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

/** Statuses whose response has no body (a Response with one would throw). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** The signal's reason when it is an AbortError (the SDK's own timeout gives none), else a new one. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name === 'AbortError' ? reason : new DOMException('This operation was aborted', 'AbortError');
}

/** The `fetch` the OpenAI SDK is given, and what it holds open. */
export interface ProviderFetch {
  fetch: typeof fetch;
  /** Closes the kept-alive connections (on shutdown). */
  close(): void;
}

/**
 * The AI provider's transport: requests whose body is text (every JSON call, the chat stream and
 * speech among them) go through node:http(s) on kept-alive connections, and the answer comes back
 * as a standard Response the SDK reads as usual. The global fetch builds a Request, a stream of the
 * body and a copy of it for every call; measured with the SDK streaming from the fake provider,
 * this transport cut the CPU per turn by a quarter and the garbage collector's time by half. Other
 * bodies (a transcription's multipart form) go through the global fetch. Redirects are not
 * followed: the provider's API does not send them.
 */
export function providerFetch(): ProviderFetch {
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const send = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    if ((body !== undefined && body !== null && typeof body !== 'string') || input instanceof Request) return fetch(input, init);
    const url = new URL(input);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(input, init);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    if (typeof body === 'string' && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const secure = url.protocol === 'https:';
    const request = secure ? https.request : http.request;
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      // The abort is ours to handle, not node:http's: like the global fetch (and as the SDK expects
      // to stop a stream quietly), a stream cut by its signal ends with an AbortError, not a reset.
      let res: http.IncomingMessage | undefined;
      const onAbort = () => {
        const err = abortError(signal!);
        if (res) res.destroy(err);
        else {
          req.destroy(err);
          reject(err);
        }
      };
      const req = request(url, { method: init.method ?? 'GET', headers, agent: secure ? agents.https : agents.http }, (answer) => {
        res = answer;
        answer.once('close', () => signal?.removeEventListener('abort', onAbort));
        const responseHeaders = new Headers();
        for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) responseHeaders.append(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
        const status = answer.statusCode ?? 502;
        let stream: ReadableStream | null = null;
        if (NULL_BODY.has(status)) answer.resume();
        else stream = Readable.toWeb(answer) as ReadableStream;
        resolve(new Response(stream, { status, statusText: answer.statusMessage ?? '', headers: responseHeaders }));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      // on, not once: an error after the answer began (a reset mid-stream) reaches the body's stream, and must not go unhandled here.
      req.on('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      req.end(typeof body === 'string' ? body : undefined);
    });
  };
  return {
    fetch: send as typeof fetch,
    close: () => {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
