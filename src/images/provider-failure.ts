import { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ImageGenerationError, type ImageFailureCode } from './image-studio.js';

/** What members of the room read; never the provider's own text, which may name accounts or keys. */
export const FAILURE_SENTENCES: Record<ImageFailureCode, string> = {
  moderation_blocked: 'The image service refused this prompt under its content rules; try describing something else.',
  ai_timeout: 'The image service took too long to answer; please try again.',
  ai_rate_limited: 'The image service is receiving too many requests right now; please try again in a minute.',
  ai_failed: 'The image could not be generated because the image service failed; please try again later.',
};

export function generationError(code: ImageFailureCode, cause?: unknown): ImageGenerationError {
  return new ImageGenerationError(code, FAILURE_SENTENCES[code], cause);
}

function isModerationRefusal(err: APIError): boolean {
  const code = typeof err.code === 'string' ? err.code : '';
  if (code === 'moderation_blocked' || code === 'content_policy_violation') return true;
  return err.status === 400 && /safety system/i.test(err.message);
}

/** Maps whatever the SDK threw to the four failure codes a client sees on `ai_message`. */
export function classifyProviderError(err: unknown): ImageFailureCode {
  if (err instanceof ImageGenerationError) return err.code;
  if (err instanceof APIConnectionTimeoutError) return 'ai_timeout';
  if (err instanceof APIUserAbortError) return 'ai_failed';
  if (err instanceof APIError) {
    if (isModerationRefusal(err)) return 'moderation_blocked';
    if (err.status === 429) return 'ai_rate_limited';
    if (err.status === 408 || err.status === 504) return 'ai_timeout';
  }
  if (err instanceof Error && err.name === 'TimeoutError') return 'ai_timeout';
  return 'ai_failed';
}
