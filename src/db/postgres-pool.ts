import pg from 'pg';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { isConnectionError } from './connection-error.js';

/** The two log levels connection loss and recovery are reported at (pino's signature). */
export interface DbLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface PoolOptions {
  connectionString: string;
  max: number;
  /** How long connecting or one query may take before it counts as failed (a hung network). */
  timeoutMs: number;
  /** Shown in pg_stat_activity, so an operator (or a test) can find this server's connections. */
  applicationName: string;
  schema?: string;
  log?: DbLog;
}

const INT8_OID = 20;

/** What a log line may say about a failure: its code and message, never the connection string. */
function reason(err: unknown, connectionString: string): { code?: string; reason: string } {
  const e = err as { code?: string; message?: string };
  let message = String(e?.message ?? err);
  const password = safeUrl(connectionString)?.password;
  if (password) message = message.split(decodeURIComponent(password)).join('[redacted]');
  return { ...(e?.code ? { code: e.code } : {}), reason: message };
}

function safeUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

/**
 * A pg.Pool that survives the database going away: every connection has an error listener (an
 * unhandled one would end the process), a connection whose query failed at the connection level is
 * discarded instead of reused, and loss and recovery are logged once each.
 */
export function resilientPool(opts: PoolOptions): PostgresPool {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max,
    connectionTimeoutMillis: opts.timeoutMs,
    query_timeout: opts.timeoutMs,
    fallback_application_name: opts.applicationName,
    // Counts come back as int8; they are small enough for a JS number.
    // biome-ignore lint/suspicious/noExplicitAny: pg's own getTypeParser overloads take an untyped format
    types: { getTypeParser: (oid: number, format?: any) => (oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) },
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });

  let lostAt: number | null = null;
  const lost = (err: unknown) => {
    if (lostAt !== null) return;
    lostAt = Date.now();
    opts.log?.warn(reason(err, opts.connectionString), 'database connection lost');
  };
  const answered = () => {
    if (lostAt === null) return;
    opts.log?.info({ downMs: Date.now() - lostAt }, 'database connection restored');
    lostAt = null;
  };

  // An idle connection dropped by the server (restart, failover, pg_terminate_backend).
  pool.on('error', lost);
  // A checked-out connection that dies between two queries emits 'error' on the client itself.
  pool.on('connect', (client) => client.on('error', lost));

  return {
    async connect(): Promise<PostgresPoolClient> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        lost(err);
        throw err;
      }
      let broken = false;
      return {
        query: ((sql: string, parameters?: unknown[]) => {
          const result = client.query(sql, parameters);
          return result.then(
            (r) => {
              answered();
              return r;
            },
            (err: unknown) => {
              if (isConnectionError(err)) {
                broken = true;
                lost(err);
              }
              throw err;
            },
          );
        }) as unknown as PostgresPoolClient['query'],
        // A connection that failed mid-query may still deliver that query's answer later: never reuse it.
        release: () => client.release(broken || undefined),
      };
    },
    end: () => pool.end(),
  };
}
