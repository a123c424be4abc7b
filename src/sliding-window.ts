export type Verdict = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * At most `limit` events per key in any rolling window of `windowMs`, counted in process memory.
 * Refused events are not recorded, so a client that backs off gets back in once the window moves.
 * The per-user and per-address limits (tutor questions, AI pictures, socket connections) all use
 * it; with several instances a SharedWindow counts the same way in Redis.
 */
export class SlidingWindowCounter {
  private readonly events = new Map<string, number[]>();
  private lastSweep = -Infinity;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    /** Milliseconds: the injectable clock, or a monotonic source. */
    private readonly now: () => number,
  ) {}

  take(key: string): Verdict {
    const now = this.now();
    this.sweep(now);
    const since = now - this.windowMs;
    const recent = (this.events.get(key) ?? []).filter((t) => t > since);
    if (recent.length >= this.limit) {
      this.events.set(key, recent);
      return { ok: false, retryAfterMs: recent[recent.length - this.limit]! + this.windowMs - now };
    }
    recent.push(now);
    this.events.set(key, recent);
    return { ok: true };
  }

  // Keys that went quiet would otherwise keep their old timestamps forever.
  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    const since = now - this.windowMs;
    for (const [key, times] of this.events) {
      if (!times.some((t) => t > since)) this.events.delete(key);
    }
  }
}

/**
 * The same rolling window counted in a store every instance shares (Redis). `take` rejects when the
 * store does not answer; callers then count in process memory until it is back.
 */
export interface SharedWindow {
  take(key: string): Promise<Verdict>;
}

/** A SharedWindow when there is one, falling back to this process's own count whenever it does not answer. */
export class FallbackWindow {
  constructor(
    private readonly shared: SharedWindow | null,
    private readonly local: SlidingWindowCounter,
  ) {}

  async take(key: string): Promise<Verdict> {
    if (!this.shared) return this.local.take(key);
    try {
      return await this.shared.take(key);
    } catch {
      return this.local.take(key);
    }
  }
}
