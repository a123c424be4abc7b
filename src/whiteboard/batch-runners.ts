import type { Kysely } from 'kysely';
import type { PGliteThread } from '../db/pglite-thread.js';
import type { Database } from '../db/types.js';
import { BatchStore, type BatchStoreOptions } from './batch-store.js';
import type { BatchRunner } from './write-ops.js';

/** Each batch on this process's connections (PostgreSQL, or any Kysely). */
export function inProcessBatches(db: Kysely<Database>, options: BatchStoreOptions): BatchRunner {
  const store = new BatchStore(options);
  const database = { direct: db, transaction: <T>(fn: (trx: Kysely<Database>) => Promise<T>) => db.transaction().execute(fn) };
  return { run: (ops, now) => store.commit(database, ops, now) };
}

/**
 * Each batch inside the embedded database's thread: one message there and one
 * back, instead of a round trip per statement through this busy event loop. `db` is the Kysely over
 * that thread: the batch holds its one connection meanwhile, so none of this side's transactions
 * (begin … commit, separate messages) can have the batch land in the middle of it.
 */
export function threadBatches(db: Kysely<Database>, thread: PGliteThread, options: BatchStoreOptions): BatchRunner {
  thread.useBatchStore(options);
  return { run: (ops, now) => db.connection().execute(() => thread.writeBatch(ops, now)) };
}
