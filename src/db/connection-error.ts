const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// node-postgres reports a dropped or hung connection with these messages and no code.
const DROPPED = /connection terminated|query read timeout|timeout exceeded when trying to connect|connection error|not queryable/i;

/**
 * True when an error says the database connection failed rather than the statement: a network
 * error, a dropped or timed-out connection, a connection exception (SQLSTATE class 08) or the
 * server ending the session (57P01-57P03). Retrying such a write elsewhere in a batch is pointless.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.severity === 'string' && typeof e.code === 'string') return /^(08|57P0[123])/.test(e.code);
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  return typeof e.message === 'string' && DROPPED.test(e.message);
}
