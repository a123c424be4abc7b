/**
 * The ids of logins that ended while their access tokens may still be unexpired. Every access token
 * is checked against it, so it is a plain in-memory set (one lookup per request); an entry is
 * forgotten once every token of that login has expired anyway.
 */
export class EndedSessions {
  private readonly ended = new Map<string, number>();

  constructor(
    /** The access-token lifetime: how long an ended login must be remembered. */
    private readonly rememberMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  has(sid: string): boolean {
    return this.ended.has(sid);
  }

  add(sid: string, endedAt = this.now()): void {
    if (endedAt + this.rememberMs > this.now()) this.ended.set(sid, endedAt);
  }

  /** Drops logins whose tokens can no longer be valid. */
  prune(): void {
    const horizon = this.now() - this.rememberMs;
    for (const [sid, endedAt] of this.ended) if (endedAt <= horizon) this.ended.delete(sid);
  }
}
