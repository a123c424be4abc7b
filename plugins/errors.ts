import { STATUS_CODES } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';
import { AppError } from '../src/errors.js';

/**
 * One error shape for every REST answer: `{statusCode, error, message, code}`. Domain errors keep
 * their sentence; validation errors say which field; anything unexpected is logged and answered
 * with a plain 500 that leaks nothing.
 */
export default fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
      if (err instanceof AppError) {
        if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
        if (err.statusCode >= 500) req.log.error({ err }, err.message);
        return reply.code(err.statusCode).send({ statusCode: err.statusCode, error: STATUS_CODES[err.statusCode], message: err.message, code: err.code });
      }
      const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
      if (status >= 500) {
        req.log.error({ err }, 'request failed');
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
