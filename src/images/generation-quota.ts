import type { Clock } from '../clock.js';

export type QuotaDecision = { ok: true } | { ok: false; code: 'ai_busy' | 'rate_limited'; retryAfterMs?: number };

/**
 * Who may start an image generation now. In process memory today; a Redis-backed one can take its
 * place when several instances share rooms (SPEC 7), so callers only see these two calls.
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
  private readonly starts = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(
    private readonly clock: Clock,
    private readonly policy: QuotaPolicy,
  ) {}

  tryStart(userId: string): QuotaDecision {
    const now = this.clock.now().getTime();
    this.sweep(now);
    if (this.inFlight.has(userId)) return { ok: false, code: 'ai_busy' };
    const recent = this.recentStarts(userId, now);
    if (recent.length >= this.policy.perWindow) {
      return { ok: false, code: 'rate_limited', retryAfterMs: recent[0]! + this.policy.windowMs - now };
    }
    recent.push(now);
    this.starts.set(userId, recent);
    this.inFlight.add(userId);
    return { ok: true };
  }

  finish(userId: string): void {
    this.inFlight.delete(userId);
  }

  private recentStarts(userId: string, now: number): number[] {
    return (this.starts.get(userId) ?? []).filter((t) => t > now - this.policy.windowMs);
  }

  // Users who stop generating would otherwise keep their old timestamps forever.
  private sweep(now: number): void {
    if (now - this.lastSweep < this.policy.windowMs) return;
    this.lastSweep = now;
    for (const [userId, times] of this.starts) {
      const recent = times.filter((t) => t > now - this.policy.windowMs);
      if (recent.length) this.starts.set(userId, recent);
      else this.starts.delete(userId);
    }
  }
}
