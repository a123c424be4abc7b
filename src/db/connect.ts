import { Kysely, Migrator, PostgresDialect, sql, type Dialect } from 'kysely';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { type PGliteOpening, PGliteThread } from './pglite-thread.js';
import { migrationProvider } from '../../migrations/index.js';
import { withOwnSchemaIntrospection } from './own-schema-introspector.js';
import { resilientPool, type DbLog } from './postgres-pool.js';
import type { Database } from './types.js';

export interface DbOptions {
  /** postgres://… ; empty means embedded PGlite. */
  databaseUrl: string;
  /** Directory for PGlite, or `memory://`. */
  pgliteDir: string;
  /** A schema to use instead of `public` (tests give each app its own). Created when missing. */
  schema?: string;
  poolSize?: number;
  /** A PGlite data directory dump to start from (tests start from an already-migrated one). */
  pgliteTemplate?: Blob;
  /** How long connecting or one query may take before it counts as failed (PostgreSQL). */
  timeoutMs?: number;
  /** Where connection loss and recovery are reported. */
  log?: DbLog;
}

export interface DbHandle {
  db: Kysely<Database>;
  kind: 'postgres' | 'pglite';
  /** PGlite only: whether the database was created on this start, and how. */
  opening?: PGliteOpening;
  /** The embedded database's thread (PGlite), which the drawing writer runs its batches in. */
  thread: PGliteThread | null;
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** pg_stat_activity's application_name: the schema too when a test gives the app one of its own. */
function applicationName(schema?: string): string {
  return schema ? `inkwell ${schema}` : 'inkwell';
}

function postgresDialect(opts: DbOptions): Dialect {
  const pool = resilientPool({
    connectionString: opts.databaseUrl,
    max: opts.poolSize ?? 10,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    applicationName: applicationName(opts.schema),
    schema: opts.schema,
    log: opts.log,
  });
  return new PostgresDialect({ pool });
}

async function pgliteThread(opts: DbOptions): Promise<PGliteThread> {
  return PGliteThread.start({
    dataDir: opts.pgliteDir,
    schema: opts.schema,
    template: opts.pgliteTemplate ? await opts.pgliteTemplate.arrayBuffer() : undefined,
  });
}

function pgliteDialect(thread: PGliteThread): Dialect {
  // The dialect calls only query() and close(), which the thread offers with PGlite's signatures.
  return new PGliteDialect(thread as unknown as PGlite);
}

export async function connectDatabase(opts: DbOptions): Promise<DbHandle> {
  if (opts.schema && !/^[a-z_][a-z0-9_]*$/.test(opts.schema)) throw new Error(`bad schema name ${opts.schema}`);
  const kind = opts.databaseUrl ? 'postgres' : 'pglite';
  if (kind === 'postgres' && opts.schema) {
    const admin = new pg.Client({
      connectionString: opts.databaseUrl,
      connectionTimeoutMillis: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      query_timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      fallback_application_name: applicationName(opts.schema),
    });
    // A connection dropped while this one-off client is open fails its query; without a listener it would end the process.
    admin.on('error', () => {});
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${opts.schema}"`);
    } finally {
      await admin.end();
    }
  }
  const thread = kind === 'pglite' ? await pgliteThread(opts) : null;
  const db = new Kysely<Database>({ dialect: withOwnSchemaIntrospection(thread ? pgliteDialect(thread) : postgresDialect(opts)) });
  return { db, kind, thread, ...(thread ? { opening: thread.opening } : {}), close: () => db.destroy() };
}

export async function migrateToLatest(db: Kysely<Database>, schema?: string): Promise<string[]> {
  // The migrator looks its tables up by schema: name the one the connection's search_path uses
  // (a DATABASE_URL with ?options=-c search_path=… would otherwise be checked against public).
  const migrationTableSchema = schema ?? (await sql<{ name: string }>`select current_schema() as name`.execute(db)).rows[0]!.name;
  const migrator = new Migrator({ db, provider: migrationProvider, migrationTableSchema });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
