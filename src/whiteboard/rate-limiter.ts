import { SlidingWindowCounter, type FallbackWindow } from '../sliding-window.js';

/** Milliseconds from a monotonic source; injectable for tests. */
export type Now = () => number;
const monotonic: Now = () => performance.now();

export type Admission = 'ok' | 'limited' | 'disconnect';

/**
 * Per-socket message limit: a token bucket (`burst` deep, refilled at `perSecond`). A refused
 * message adds a strike; strikes drain at the same rate, so a client that keeps pushing past the
 * limit for about another burst's worth of messages is disconnected (close 4029).
 */
export class MessageRateLimiter {
  private tokens: number;
  private strikes = 0;
  private last: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly now: Now = monotonic,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  admit(): Admission {
    const t = this.now();
    const refill = ((t - this.last) / 1000) * this.perSecond;
    this.last = t;
    this.tokens = Math.min(this.burst, this.tokens + refill);
    this.strikes = Math.max(0, this.strikes - refill);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    this.strikes += 1;
    return this.strikes > this.burst ? 'disconnect' : 'limited';
  }
}

/** Connections per client address in a sliding minute, in this process or shared by every instance. */
export interface ConnectionCounter {
  /** Records a connection attempt; false when the address is over its limit. */
  tryConnect(address: string): boolean | Promise<boolean>;
}

export class InProcessConnectionCounter implements ConnectionCounter {
  private readonly window: SlidingWindowCounter;

  constructor(perMinute: number, now: Now = monotonic) {
    this.window = new SlidingWindowCounter(perMinute, 60_000, now);
  }

  tryConnect(address: string): boolean {
    return this.window.take(address).ok;
  }
}

/** Connections counted over every instance (Redis); while Redis does not answer, counted in this process. */
export class SharedConnectionCounter implements ConnectionCounter {
  constructor(private readonly window: FallbackWindow) {}

  async tryConnect(address: string): Promise<boolean> {
    return (await this.window.take(address)).ok;
  }
}
