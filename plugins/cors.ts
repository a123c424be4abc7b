import fp from 'fastify-plugin';
import cors from '@fastify/cors';

/** Cross-origin REST calls from the origins in CORS_ORIGINS; without it, no CORS headers at all. */
export default fp(
  async (app) => {
    const origins = app.settings.http.corsOrigins;
    if (origins.length === 0) return;
    await app.register(cors, {
      origin: origins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type'],
      exposedHeaders: ['retry-after'],
      maxAge: 600,
    });
  },
  { name: 'cors', dependencies: ['env'] },
);
