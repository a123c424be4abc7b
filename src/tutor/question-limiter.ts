import type { Clock } from '../clock.js';

/**
 * Counts questions per user across all of the user's sockets. An interface so that a shared
 * (Redis-backed) counter can replace the in-process one when several instances run (SPEC 7).
 */
export interface QuestionLimiter {
  /** Counts one question; false when the user is over the limit (the question is not counted). */
  take(userId: string): boolean;
}

/** Sliding one-minute window per user, kept in process. */
export class InProcessQuestionLimiter implements QuestionLimiter {
  private readonly asked = new Map<string, number[]>();
  private sweeps = 0;

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
    private readonly windowMs = 60_000,
  ) {}

  take(userId: string): boolean {
    const now = this.clock.now().getTime();
    const since = now - this.windowMs;
    const times = (this.asked.get(userId) ?? []).filter((t) => t > since);
    const allowed = times.length < this.perMinute;
    if (allowed) times.push(now);
    this.asked.set(userId, times);
    if (++this.sweeps % 1000 === 0) this.sweep(since);
    return allowed;
  }

  /** Forget users with no question in the window, so the map does not grow with every user ever seen. */
  private sweep(since: number): void {
    for (const [user, times] of this.asked) if (!times.some((t) => t > since)) this.asked.delete(user);
  }
}
