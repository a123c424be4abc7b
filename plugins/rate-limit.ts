import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.js';

/** The client's address (X-Forwarded-For when TRUST_PROXY is on); never undefined, even under injectWS. */
export function clientIp(req: FastifyRequest): string {
  return req.ip ?? req.socket?.remoteAddress ?? 'unknown';
}

const UNTHROTTLED = new Set(['/health', '/ready']);

/**
 * Per-IP request limits. The API-wide limit (API_RATE_LIMIT_PER_MINUTE) runs as the first
 * onRequest hook, before authentication, so unauthenticated floods are counted too; routes add
 * tighter limits through `config.rateLimit`. Counters live in process memory, or in Redis when it
 * is configured, so that every instance counts the same requests; while Redis does not answer the
 * request passes uncounted (an outage of Redis must not take the API down).
 */
export default fp(
  async (app) => {
    const shared = app.redis ? { redis: app.redis.client, nameSpace: app.redis.key('rate-limit:'), skipOnError: true } : {};
    await app.register(rateLimit, { global: false, keyGenerator: clientIp, ...shared });
    const apiWide = app.createRateLimit({ max: app.settings.http.apiRateLimitPerMinute, timeWindow: 60_000, keyGenerator: clientIp });
    app.addHook('onRequest', async (req, reply) => {
      // Health checks, and routes that count their own way (the whiteboard socket's connections per IP).
      if (UNTHROTTLED.has(req.url) || req.routeOptions.config?.rateLimit === false) return;
      const verdict = await apiWide(req);
      // isAllowed only means "allow-listed"; the count decides.
      if (verdict.isAllowed || !verdict.isExceeded) return;
      reply.header('retry-after', String(verdict.ttlInSeconds));
      throw new AppError(429, 'rate_limited', `Too many requests from this address; retry in ${verdict.ttlInSeconds} s`, verdict.ttlInSeconds);
    });
  },
  { name: 'rate-limit', dependencies: ['env', 'redis'] },
);
