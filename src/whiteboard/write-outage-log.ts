import { isConnectionError } from '../db/connection-error.js';
import type { WriterObserver } from './whiteboard-observer.js';

export interface OutageLogTarget {
  error(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * Room writes refused because the database does not answer, logged once per outage: the first at
 * error, the rest counted, and the first commit after it says how many were refused over how long.
 * Each client still gets its own `error` frame. Other failures (a bad statement) the room logs one by one.
 */
export class WriteOutageLog implements WriterObserver {
  private outage: { since: number; refused: number } | null = null;

  constructor(private readonly log: OutageLogTarget) {}

  committed(): void {
    if (!this.outage) return;
    const { since, refused } = this.outage;
    this.outage = null;
    this.log.info({ refusedWrites: refused, downMs: Math.round(performance.now() - since) }, 'room writes are stored again');
  }

  failed(refused: number, err: unknown): void {
    if (!isConnectionError(err)) return;
    if (this.outage) {
      this.outage.refused += refused;
      return;
    }
    this.outage = { since: performance.now(), refused };
    const e = err as { code?: unknown; message?: unknown };
    // The code and the driver's sentence only: never the connection string.
    this.log.error(
      { code: typeof e.code === 'string' ? e.code : undefined, reason: String(e.message ?? err) },
      'room writes refused: the database does not answer (once per outage; the count follows when it is back)',
    );
  }
}
