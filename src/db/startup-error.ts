import { ConfigError } from '../config.js';
import { isConnectionError } from './connection-error.js';

/** host:port/database of a PostgreSQL URL, without user or password. */
function where(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || 5432}${url.pathname}`;
}

/**
 * Turns a failure to open the database at start into a one-line refusal naming the variable to
 * fix; anything else (a failing migration, a bug) is returned unchanged.
 */
export function startupError(err: unknown, databaseUrl: string, pgliteDir: string): unknown {
  const e = err as { code?: string; message?: string };
  if (!databaseUrl) {
    return new ConfigError(`PGLITE_DIR: the embedded database at "${pgliteDir}" could not be opened (${e?.message ?? err})`);
  }
  const at = where(databaseUrl);
  if (e?.code === '3D000') return new ConfigError(`DATABASE_URL: the database ${at} does not exist (create it first)`);
  if (e?.code?.startsWith('28')) return new ConfigError(`DATABASE_URL: PostgreSQL at ${at} refused the login (${e.message})`);
  if (isConnectionError(err)) return new ConfigError(`DATABASE_URL: PostgreSQL at ${at} does not answer (${e?.code ?? e?.message})`);
  return err;
}
