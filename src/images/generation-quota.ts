import type { Clock } from '../clock.js';
import { FallbackWindow, SlidingWindowCounter, type SharedWindow } from '../sliding-window.js';

export type QuotaDecision = { ok: true } | { ok: false; code: 'ai_busy' | 'rate_limited'; retryAfterMs?: number };

/** Who may start an image generation now; callers only see these two calls. */
export interface GenerationQuota {
  /** Takes the user's slot when free and within the per-minute budget; says why not otherwise. */
  tryStart(userId: string): Promise<QuotaDecision>;
  /** Frees the user's in-flight slot (the minute's budget stays spent). */
  finish(userId: string): void;
}

export interface QuotaPolicy {
  perWindow: number;
  windowMs: number;
}

/**
 * One in flight per user on this instance, and `perWindow` starts per rolling window: counted over
 * every instance when a shared window is given (Redis), else (and while it does not answer) here.
 */
export class InMemoryGenerationQuota implements GenerationQuota {
  private readonly inFlight = new Set<string>();
  private readonly starts: FallbackWindow;

  constructor(clock: Clock, policy: QuotaPolicy, shared: SharedWindow | null = null) {
    this.starts = new FallbackWindow(shared, new SlidingWindowCounter(policy.perWindow, policy.windowMs, () => clock.now().getTime()));
  }

  async tryStart(userId: string): Promise<QuotaDecision> {
    if (this.inFlight.has(userId)) return { ok: false, code: 'ai_busy' };
    // Held while the count is asked, so that two requests at once cannot both pass.
    this.inFlight.add(userId);
    const verdict = await this.starts.take(userId);
    if (verdict.ok) return { ok: true };
    this.inFlight.delete(userId);
    return { ok: false, code: 'rate_limited', retryAfterMs: verdict.retryAfterMs };
  }

  finish(userId: string): void {
    this.inFlight.delete(userId);
  }
}
