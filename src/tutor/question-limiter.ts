import type { Clock } from '../clock.js';
import { SlidingWindowCounter } from '../sliding-window.js';

/**
 * Counts questions per user across all of the user's sockets. An interface so that a shared
 * (Redis-backed) counter can replace the in-process one when several instances run.
 */
export interface QuestionLimiter {
  /** Counts one question; false when the user is over the limit (the question is not counted). */
  take(userId: string): boolean;
}

/** Sliding one-minute window per user, kept in process. */
export class InProcessQuestionLimiter implements QuestionLimiter {
  private readonly window: SlidingWindowCounter;

  constructor(perMinute: number, clock: Clock, windowMs = 60_000) {
    this.window = new SlidingWindowCounter(perMinute, windowMs, () => clock.now().getTime());
  }

  take(userId: string): boolean {
    return this.window.take(userId).ok;
  }
}
