import { isConnectionError } from '../db/connection-error.js';
import type { Clock } from '../clock.js';
import type { WriterObserver } from './whiteboard-observer.js';
import type { BatchOutcome, BatchRunner, WriteOp, WriteResult } from './write-ops.js';

export interface WriterOptions {
  /** Operations per transaction at most. */
  maxBatch?: number;
  observer?: WriterObserver;
}

export interface WriterStats {
  transactions: number;
  /** Events stored (draws, deletes, clears) — what received a seq. */
  events: number;
  drawings: number;
  /** Frames written to the room event log (in the same statements as the events themselves). */
  logged: number;
  /** Prunings of a room's event log. */
  prunes: number;
}

interface Pending {
  op: WriteOp;
  resolve(result: WriteResult): void;
  reject(err: unknown): void;
}

/**
 * Adaptive group commit for every room of this process: a write arriving at an idle writer commits at
 * once; while one transaction runs, further writes queue up and all go together in the next one,
 * which starts as soon as it ends. Batches grow with the load, and nothing waits on a timer. Each room's seq is bumped in that same transaction, so a
 * seq is never handed out for something that was not stored. Results resolve in queue order after
 * the commit, which keeps broadcasts in seq order.
 *
 * Only ever one transaction at a time: the embedded PGlite has a single serialized connection, and
 * nothing inside the transaction waits on anything but the transaction itself. What a batch does
 * in the database is the BatchStore's; the BatchRunner decides where it runs.
 */
export class DrawingWriter {
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
  private closed = false;
  readonly stats: WriterStats = { transactions: 0, events: 0, drawings: 0, logged: 0, prunes: 0 };
  private readonly maxBatch: number;

  /** `batches` runs each batch's transaction: in this process, or in the embedded database's thread. */
  constructor(
    private readonly batches: BatchRunner,
    private readonly clock: Clock,
    private readonly options: WriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
  }

  write(op: WriteOp): Promise<WriteResult> {
    if (this.closed) return Promise.reject(new Error('The drawing writer is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      this.kick();
    });
  }

  /** Stops taking writes and resolves once everything queued is committed (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain()
      // commit() settles every write it takes; this only guards against a bug taking the process down.
      .catch((err) => {
        for (const p of this.queue.splice(0)) p.reject(err);
      })
      .finally(() => {
        this.running = null;
        if (this.queue.length) this.kick();
      });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      await this.commit(batch);
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    let outcome: BatchOutcome;
    const started = performance.now();
    try {
      outcome = await this.batches.run(
        batch.map((p) => p.op),
        this.clock.now(),
      );
    } catch (err) {
      // With the database unreachable every write fails alike: retrying each alone would only wait longer.
      if (batch.length === 1 || isConnectionError(err)) {
        this.options.observer?.failed(batch.length, err);
        for (const p of batch) p.reject(err);
        return;
      }
      // One bad write must not sink the others: retry each in a transaction of its own.
      for (const p of batch) await this.commit([p]);
      return;
    }
    this.options.observer?.committed(batch.length, (performance.now() - started) / 1000);
    this.stats.transactions++;
    const { results, tally } = outcome;
    this.stats.logged += tally.logged;
    this.stats.prunes += tally.prunes;
    for (const r of results) {
      if (r.kind === 'drawn') this.stats.drawings++;
      if (r.kind === 'drawn' || r.kind === 'deleted' || r.kind === 'cleared') this.stats.events++;
    }
    batch.forEach((p, i) => {
      p.resolve(results[i]!);
    });
  }
}
