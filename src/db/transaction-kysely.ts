import type { PGlite, Transaction } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import type { Database } from './types.js';

/**
 * Kysely inside a PGlite transaction (the database's thread): the dialect's statements go to the
 * transaction that run() holds open, which PGlite commits when the callback resolves and rolls back
 * when it throws. Only ever one run() at a time (PGlite runs one transaction at a time).
 */
export class TransactionKysely {
  private current: Transaction | undefined;
  private readonly db: Kysely<Database>;

  constructor() {
    const client = {
      query: (sql: string, params?: unknown[]) => {
        if (!this.current) return Promise.reject(new Error('a statement outside the batch transaction'));
        return this.current.query(sql, params);
      },
    };
    // The dialect calls only query() on its client (close() on destroy, which this never does).
    this.db = new Kysely<Database>({ dialect: new PGliteDialect(client as unknown as PGlite) });
  }

  async run<T>(tx: Transaction, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    this.current = tx;
    try {
      return await fn(this.db);
    } finally {
      this.current = undefined;
    }
  }
}
