import OpenAI from 'openai';
import { TutorError } from './tutor-error.js';

/** Thrown by our own idle watchdog: the SDK's timeout stops at the first byte, a stalled stream would hang forever. */
export class StreamStalledError extends Error {
  override name = 'StreamStalledError';
}

/**
 * Maps whatever the OpenAI SDK (or the network under it) threw to an error frame. Mid-stream network
 * failures are not wrapped by the SDK (a bare TypeError "terminated"), so everything unknown is ai_failed.
 */
export function providerError(err: unknown, what = 'answer'): TutorError {
  if (err instanceof TutorError) return err;
  if (err instanceof OpenAI.APIConnectionTimeoutError || err instanceof StreamStalledError) {
    return new TutorError('ai_timeout', `The AI tutor took too long to ${what}; please try again.`, err);
  }
  if (err instanceof OpenAI.APIError && err.status === 429) {
    return new TutorError('ai_rate_limited', 'The AI provider is receiving too many requests; please wait a moment and try again.', err);
  }
  return new TutorError('ai_failed', `The AI tutor could not ${what}; please try again.`, err);
}

/** Our own stop (or socket close) surfaced by the SDK, not a failure. */
export function isAbort(err: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (err instanceof OpenAI.APIUserAbortError || (err instanceof Error && err.name === 'AbortError') || err === signal.reason);
}
