import pg from 'pg';
import { PGliteThread } from '../src/db/pglite-thread.js';

/**
 * Counts database transactions by watching the statements the drivers send, for both PostgreSQL
 * (pg.Client) and the embedded PGlite (its thread's client). Installed by the benchmark before the app is built; the app's code is
 * untouched. An explicit `begin … commit` is one transaction; a statement outside one is its own
 * (autocommit) transaction, as PostgreSQL counts them.
 */
export interface TransactionCounts {
  /** Explicit `begin`/`start transaction` blocks. */
  explicit: number;
  /** Statements that ran on their own, each an implicit transaction. */
  autocommit: number;
  /** Every statement sent, transaction control included. */
  statements: number;
  /**
   * Writer batches the embedded database's thread ran whole, each one transaction (one statement
   * or begin … commit; counted in `explicit` too) whose statements run there, unseen here (not in
   * `statements`).
   */
  threadBatches: number;
  /** Transactions the whiteboard's group-commit writer reports (0 when it reports none). */
  writerTransactions?: number;
}

const counts: TransactionCounts = { explicit: 0, autocommit: 0, statements: 0, threadBatches: 0 };
const inTransaction = new WeakMap<object, boolean>();
let installed = false;

function observe(client: object, text: unknown): void {
  if (typeof text !== 'string') return;
  counts.statements++;
  // The first word or two, without copying the statement (some are kilobytes long).
  const start = text.search(/\S/);
  const head = start < 0 ? '' : text.slice(start, start + 20).toLowerCase();
  if (head.startsWith('begin') || head.startsWith('start transaction')) {
    counts.explicit++;
    inTransaction.set(client, true);
  } else if (head.startsWith('commit') || head.startsWith('rollback') || head.startsWith('end')) {
    inTransaction.set(client, false);
  } else if (!inTransaction.get(client)) {
    counts.autocommit++;
  }
}

export function installTransactionCounter(): void {
  if (installed) return;
  installed = true;
  const pgQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: object, ...args: unknown[]) {
    const first = args[0];
    observe(this, typeof first === 'object' && first !== null && 'text' in first ? (first as { text: unknown }).text : first);
    return pgQuery.apply(this, args);
  } as typeof pg.Client.prototype.query;

  const liteQuery = PGliteThread.prototype.query as (...args: unknown[]) => unknown;
  PGliteThread.prototype.query = function (this: object, ...args: unknown[]) {
    observe(this, args[0]);
    return liteQuery.apply(this, args);
  } as typeof PGliteThread.prototype.query;

  const liteBatch = PGliteThread.prototype.writeBatch as (...args: unknown[]) => unknown;
  PGliteThread.prototype.writeBatch = function (this: object, ...args: unknown[]) {
    counts.explicit++;
    counts.threadBatches++;
    return liteBatch.apply(this, args);
  } as typeof PGliteThread.prototype.writeBatch;
}

export function transactionCounts(): TransactionCounts {
  return { ...counts };
}
