import { STATUS_CODES } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';
import type { AuthErrorCode } from '../src/auth/auth-error.js';
import { isConnectionError } from '../src/db/connection-error.js';
import { DomainError } from '../src/errors.js';
import type { MemberErrorCode } from '../src/whiteboard/room-access.js';

/** An error the transport itself raises (auth header, rate limit, not found): already an HTTP status. */
export class AppError extends DomainError {
  override name = 'AppError';
  constructor(
    readonly statusCode: number,
    code: string,
    message: string,
    retryAfter?: number,
    cause?: unknown,
  ) {
    super(code, message, retryAfter, cause);
  }
}

/** The one place a domain error code becomes an HTTP status; a new code without a status fails to compile. */
const STATUS_OF: Record<AuthErrorCode | MemberErrorCode, number> = {
  invalid_email: 400,
  user_not_found: 404,
  otp_cooldown: 429,
  otp_hourly_limit: 429,
  mail_failed: 502,
  otp_invalid: 400,
  otp_used: 400,
  otp_locked: 429,
  otp_expired: 400,
  otp_wrong: 400,
  refresh_token_reused: 401,
  invalid_refresh_token: 401,
  admin_role_fixed: 409,
};

function statusOf(err: DomainError): number {
  if (err instanceof AppError) return err.statusCode;
  return (STATUS_OF as Record<string, number>)[err.code] ?? 500;
}

/** While the database does not answer, every request that needs it fails alike: one line this often, with a count. */
const OUTAGE_LINE_EVERY_MS = 60_000;

/**
 * One error shape for every REST answer: `{statusCode, error, message, code}`. Domain errors keep
 * their sentence; validation errors say which field; anything unexpected is logged and answered
 * with a plain 500 that leaks nothing.
 */
export default fp(
  async (app) => {
    let outageLine = { at: Number.NEGATIVE_INFINITY, failedSince: 0 };
    app.setErrorHandler((err: FastifyError | DomainError, req, reply) => {
      if (err instanceof DomainError) {
        const status = statusOf(err);
        if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
        if (status >= 500) req.log.error({ err }, err.message);
        return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status], message: err.message, code: err.code });
      }
      const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
      if (status >= 500) {
        if (!isConnectionError(err)) req.log.error({ err }, 'request failed');
        else if (performance.now() - outageLine.at < OUTAGE_LINE_EVERY_MS) outageLine.failedSince++;
        else {
          // The driver's code and sentence only (never the connection string); the count covers the minute before.
          req.log.error({ code: err.code, reason: err.message, failedSince: outageLine.failedSince }, 'requests failed: the database does not answer (one line a minute)');
          outageLine = { at: performance.now(), failedSince: 0 };
        }
        return reply.code(500).send({ statusCode: 500, error: STATUS_CODES[500], message: 'Something went wrong on our side; try again', code: 'internal' });
      }
      const code = err.validation ? 'invalid_request' : err.code;
      return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status], message: err.message, code });
    });
    app.setNotFoundHandler((req, reply) => {
      reply.code(404).send({ statusCode: 404, error: STATUS_CODES[404], message: `No route ${req.method} ${req.url.split('?')[0]}`, code: 'not_found' });
    });
  },
  { name: 'errors' },
);
