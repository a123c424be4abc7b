import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

/** OpenAPI document generated from the route schemas; UI at /docs, raw JSON at /docs/json. */
export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Inkwell',
          version: '0.1.0',
          description:
            'Whiteboard, AI tutor and passwordless login. The sockets are described in docs/protocol.md and, as AsyncAPI 3, at [/docs/asyncapi.json](/docs/asyncapi.json).',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'swagger' },
);
