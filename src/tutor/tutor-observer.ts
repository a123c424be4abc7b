import type { TutorErrorCode } from './tutor-error.js';

/** How a turn ended: answered, stopped by the learner, failed, or refused before it ran (busy, rate limited). */
export type TurnOutcome = 'completed' | 'stopped' | 'failed' | 'refused';

/** The provider's failures a learner sees as error codes. */
export type TutorProviderCode = Extract<TutorErrorCode, 'ai_timeout' | 'ai_rate_limited' | 'ai_failed'>;

/** What the tutor reports about its turns, for whoever counts them; the domain needs no metrics library. */
export interface TutorObserver {
  /** `code` is the error a client saw when the turn failed or was refused, else null. */
  turnEnded(outcome: TurnOutcome, code: TutorErrorCode | null): void;
  /** Seconds from the start of the turn to the first piece of the answer sent. */
  firstToken(seconds: number): void;
  /** Seconds from the start of the turn to the first audio of a spoken answer sent. */
  firstAudio(seconds: number): void;
  /** The AI provider failed an answer, a transcription or speech. */
  providerFailed(code: TutorProviderCode): void;
}

export const unobservedTutor: TutorObserver = {
  turnEnded() {},
  firstToken() {},
  firstAudio() {},
  providerFailed() {},
};

const PROVIDER_CODES = new Set<TutorErrorCode>(['ai_timeout', 'ai_rate_limited', 'ai_failed']);

export function isProviderCode(code: TutorErrorCode): code is TutorProviderCode {
  return PROVIDER_CODES.has(code);
}
