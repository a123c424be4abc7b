/** Codes a tutor client can act on (`error` frames). */
export type TutorErrorCode =
  | 'bad_json'
  | 'invalid_message'
  | 'bad_audio'
  | 'no_speech'
  | 'busy'
  | 'rate_limited'
  | 'not_found'
  | 'ai_unavailable'
  | 'ai_timeout'
  | 'ai_rate_limited'
  | 'ai_failed'
  | 'internal';

/** A failure that becomes one `error` frame: a stable code and a sentence. */
export class TutorError extends Error {
  override name = 'TutorError';
  constructor(
    readonly code: TutorErrorCode,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

export const aiUnavailable = () => new TutorError('ai_unavailable', 'The AI tutor is not configured on this server');
