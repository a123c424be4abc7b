/**
 * A failure the client can act on: a stable code and a sentence, nothing about HTTP. The transport
 * decides how it travels (plugins/errors.ts maps codes to statuses for REST answers).
 */
export class DomainError<Code extends string = string> extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: Code,
    message: string,
    /** Seconds after which trying again can succeed (REST sends it as Retry-After). */
    readonly retryAfter?: number,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}
