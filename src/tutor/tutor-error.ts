import { DomainError } from '../errors.js';
import { Type, type Static } from 'typebox';

/** Codes a tutor client can act on (`error` frames). */
export const TutorErrorCode = Type.Union([
  Type.Literal('bad_json'),
  Type.Literal('invalid_message'),
  Type.Literal('bad_audio'),
  Type.Literal('no_speech'),
  Type.Literal('busy'),
  Type.Literal('rate_limited'),
  Type.Literal('not_found'),
  Type.Literal('ai_unavailable'),
  Type.Literal('ai_timeout'),
  Type.Literal('ai_rate_limited'),
  Type.Literal('ai_failed'),
  Type.Literal('internal'),
]);
export type TutorErrorCode = Static<typeof TutorErrorCode>;

/** A failure that becomes one `error` frame: a stable code and a sentence. */
export class TutorError extends DomainError<TutorErrorCode> {
  override name = 'TutorError';
  constructor(code: TutorErrorCode, message: string, cause?: unknown) {
    super(code, message, undefined, cause);
  }
}

export const aiUnavailable = () => new TutorError('ai_unavailable', 'The AI tutor is not configured on this server');
