import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';

/** Liveness and readiness for load balancers and orchestrators. */
const health: FastifyPluginAsync = async (app) => {
  app.get('/health', { schema: { tags: ['operations'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));

  // Only the database makes an instance unready: without Redis it still serves its own clients.
  const Readiness = Type.Object({
    status: Type.String(),
    database: Type.Union([Type.Literal('up'), Type.Literal('down')]),
    redis: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('off')], { description: 'off: REDIS_URL is not set.' }),
  });
  app.get('/ready', { schema: { tags: ['operations'], response: { 200: Readiness, 503: Readiness } } }, async (_req, reply) => {
    const database = (await app.dbReady()) ? 'up' : 'down';
    const redis = !app.redis ? 'off' : app.redis.isUp() ? 'up' : 'down';
    if (database === 'up') return { status: 'ready', database, redis };
    return reply.code(503).send({ status: 'database unavailable', database, redis });
  });
};

export default health;
