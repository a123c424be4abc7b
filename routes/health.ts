import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';

/** Liveness and readiness for load balancers and orchestrators. */
const health: FastifyPluginAsync = async (app) => {
  app.get('/health', { schema: { tags: ['operations'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));

  app.get(
    '/ready',
    { schema: { tags: ['operations'], response: { 200: Type.Object({ status: Type.String() }), 503: Type.Object({ status: Type.String() }) } } },
    async (_req, reply) => {
      if (await app.dbReady()) return { status: 'ready' };
      return reply.code(503).send({ status: 'database unavailable' });
    },
  );
};

export default health;
