/**
 * An error a client can act on: an HTTP status, a stable code and a sentence. Routes turn it into
 * Fastify's `{statusCode, error, message, code}` shape (plugins/errors.ts).
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Seconds, sent as Retry-After with 429 and 503 answers. */
    readonly retryAfter?: number,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}
