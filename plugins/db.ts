import fp from 'fastify-plugin';
import { sql, type Kysely } from 'kysely';
import { startupError } from '../src/db/startup-error.js';
import { connectDatabase, migrateToLatest } from '../src/db/connect.js';
import type { PGliteThread } from '../src/db/pglite-thread.js';
import type { Database } from '../src/db/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
    dbKind: 'postgres' | 'pglite';
    /** The embedded database's thread (PGlite), null on PostgreSQL. */
    pglite: PGliteThread | null;
    /** True when the database answers a trivial query within the timeout. */
    dbReady(timeoutMs?: number): Promise<boolean>;
  }
}

export interface DbPluginOptions {
  /** A schema of its own (tests); defaults to the connection's search path. */
  schema?: string;
  /** Drop that schema on close (tests on a shared PostgreSQL). */
  dropSchemaOnClose?: boolean;
  /** Start an embedded database from this dump instead of running initdb (tests). */
  pgliteTemplate?: Blob;
}

/** Kysely on PostgreSQL (DATABASE_URL) or embedded PGlite (PGLITE_DIR); migrates on start. */
export default fp<DbPluginOptions>(
  async (app, opts) => {
    const { url: DATABASE_URL, pgliteDir: PGLITE_DIR, timeoutMs } = app.settings.database;
    const handle = await connectDatabase({
      databaseUrl: DATABASE_URL,
      pgliteDir: PGLITE_DIR,
      schema: opts.schema,
      pgliteTemplate: opts.pgliteTemplate,
      timeoutMs,
      log: app.log,
    }).catch((err) => {
      throw startupError(err, DATABASE_URL, PGLITE_DIR);
    });
    if (handle.opening?.warning) app.log.warn(handle.opening.warning);
    if (handle.opening?.created) app.log.info({ created: handle.opening.created }, 'embedded database created');
    try {
      const applied = await migrateToLatest(handle.db, opts.schema);
      if (applied.length) app.log.info({ migrations: applied }, 'database migrated');
    } catch (err) {
      await handle.close();
      throw DATABASE_URL ? startupError(err, DATABASE_URL, PGLITE_DIR) : err;
    }
    if (handle.kind === 'pglite' && app.settings.production) {
      app.log.warn('NODE_ENV=production on the embedded database: one process only, no failover; set DATABASE_URL to a PostgreSQL server');
    }
    app.decorate('db', handle.db);
    app.decorate('dbKind', handle.kind);
    app.decorate('pglite', handle.thread);
    app.decorate('dbReady', async (timeoutMs = 2000) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const probe = sql`select 1`.execute(handle.db).then(
        () => true,
        () => false,
      );
      try {
        return await Promise.race([probe, timeout]);
      } finally {
        clearTimeout(timer);
      }
    });
    app.log.info({ database: handle.kind }, 'database ready');
    app.addHook('onClose', async () => {
      if (opts.dropSchemaOnClose && opts.schema) {
        await sql`drop schema if exists ${sql.id(opts.schema)} cascade`.execute(handle.db).catch(() => {});
      }
      await handle.close();
    });
  },
  { name: 'db', dependencies: ['env'] },
);
