import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';

/** The client's address (X-Forwarded-For when TRUST_PROXY is on); never undefined, even under injectWS. */
export function clientIp(req: FastifyRequest): string {
  return req.ip ?? req.socket?.remoteAddress ?? 'unknown';
}

/**
 * Per-IP request limits: API_RATE_LIMIT_PER_MINUTE across the API; routes tighten it through
 * `config.rateLimit`. Counters live in process memory today; @fastify/rate-limit takes a Redis
 * store for several instances (SPEC 7).
 */
export default fp(
  async (app) => {
    await app.register(rateLimit, {
      global: true,
      max: app.config.API_RATE_LIMIT_PER_MINUTE,
      timeWindow: 60_000,
      keyGenerator: clientIp,
      allowList: (req) => req.url === '/health' || req.url === '/ready',
    });
  },
  { name: 'rate-limit', dependencies: ['env'] },
);
