import OpenAI from 'openai';

/** How long one provider call may take, retries included. */
export interface ProviderDeadline {
  /** Per attempt (the SDK's own timeout, OPENAI_TIMEOUT). */
  timeoutMs: number;
  maxRetries: number;
}

function retryable(err: unknown): boolean {
  if (err instanceof OpenAI.APIUserAbortError) return false;
  if (err instanceof OpenAI.APIConnectionError) return true;
  return err instanceof OpenAI.APIError && err.status !== undefined && (err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500);
}

/** The provider's Retry-After (seconds or a date; retry-after-ms first), in ms, or undefined. */
function retryAfterMs(err: unknown): number | undefined {
  const headers = err instanceof OpenAI.APIError ? err.headers : undefined;
  const ms = Number(headers?.get('retry-after-ms'));
  if (headers?.get('retry-after-ms') && Number.isFinite(ms)) return Math.max(0, ms);
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/**
 * One provider call under one deadline, retries included: `timeoutMs × (maxRetries + 1)`. The SDK
 * client retries nothing itself (its own retry loop would honour any Retry-After up to a minute);
 * a wait that would end past the deadline ends the call now with the provider's own error.
 */
export async function callProvider<T>(deadline: ProviderDeadline, signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
  const endsAt = Date.now() + deadline.timeoutMs * (deadline.maxRetries + 1);
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (err) {
      if (retry >= deadline.maxRetries || signal?.aborted || !retryable(err)) throw err;
      // The SDK's own backoff when the provider names no wait: 0.5 s doubling, at most 8 s.
      const wait = retryAfterMs(err) ?? Math.min(500 * 2 ** retry, 8000);
      if (Date.now() + wait >= endsAt) throw err;
      await sleep(wait, signal);
    }
  }
}

/** API keys the provider echoes back (OpenAI's 401 names the key's first and last characters). */
const KEY_LIKE = /\bsk-[A-Za-z0-9_*.-]+/g;

/**
 * Fields safe to log about a provider failure: status, code, request id and message (keys masked),
 * never headers or the request body (which holds the prompt). Our own wrappers show their cause.
 */
export function describeProviderError(err: unknown, depth = 0): Record<string, unknown> {
  const text = (s: string) => s.replace(KEY_LIKE, 'sk-[redacted]');
  if (err instanceof OpenAI.APIError) {
    return { name: err.name, status: err.status, code: err.code, type: err.type, requestId: err.requestID, message: text(err.message) };
  }
  if (err instanceof Error) {
    const cause = err.cause !== undefined && depth < 2 ? describeProviderError(err.cause, depth + 1) : undefined;
    return { name: err.name, message: text(err.message), ...(cause ? { cause } : {}) };
  }
  return { message: text(String(err)) };
}
