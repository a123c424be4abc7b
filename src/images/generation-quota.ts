import type { Clock } from '../clock.js';
import { SlidingWindowCounter } from '../sliding-window.js';

export type QuotaDecision = { ok: true } | { ok: false; code: 'ai_busy' | 'rate_limited'; retryAfterMs?: number };

/**
 * Who may start an image generation now. In process memory today; a Redis-backed one can take its
 * place when several instances share rooms, so callers only see these two calls.
 */
export interface GenerationQuota {
  /** Takes the user's slot when free and within the per-minute budget; says why not otherwise. */
  tryStart(userId: string): QuotaDecision;
  /** Frees the user's in-flight slot (the minute's budget stays spent). */
  finish(userId: string): void;
}

export interface QuotaPolicy {
  perWindow: number;
  windowMs: number;
}

/** One in flight per user and `perWindow` starts per rolling window, counted in this process. */
export class InMemoryGenerationQuota implements GenerationQuota {
  private readonly inFlight = new Set<string>();
  private readonly starts: SlidingWindowCounter;

  constructor(clock: Clock, policy: QuotaPolicy) {
    this.starts = new SlidingWindowCounter(policy.perWindow, policy.windowMs, () => clock.now().getTime());
  }

  tryStart(userId: string): QuotaDecision {
    if (this.inFlight.has(userId)) return { ok: false, code: 'ai_busy' };
    const verdict = this.starts.take(userId);
    if (!verdict.ok) return { ok: false, code: 'rate_limited', retryAfterMs: verdict.retryAfterMs };
    this.inFlight.add(userId);
    return { ok: true };
  }

  finish(userId: string): void {
    this.inFlight.delete(userId);
  }
}
