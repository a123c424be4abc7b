import type { Clock } from '../clock.js';
import { FallbackWindow, SlidingWindowCounter, type SharedWindow } from '../sliding-window.js';

/** Counts questions per user across all of the user's sockets (and instances, with Redis). */
export interface QuestionLimiter {
  /** Counts one question; false when the user is over the limit (the question is not counted). */
  take(userId: string): Promise<boolean>;
}

/** Sliding one-minute window per user: shared when a shared window is given, else (and while it does not answer) in process. */
export class SlidingQuestionLimiter implements QuestionLimiter {
  private readonly window: FallbackWindow;

  constructor(perMinute: number, clock: Clock, shared: SharedWindow | null = null, windowMs = 60_000) {
    this.window = new FallbackWindow(shared, new SlidingWindowCounter(perMinute, windowMs, () => clock.now().getTime()));
  }

  async take(userId: string): Promise<boolean> {
    return (await this.window.take(userId)).ok;
  }
}
