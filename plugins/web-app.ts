import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fp from 'fastify-plugin';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';

/** Where `npm run build:web` puts the app: dist/web beside the compiled server, or under the repo. */
export function webRoot(): string {
  const parent = fileURLToPath(new URL('..', import.meta.url));
  return basename(parent.replace(/\/$/, '')) === 'dist' ? join(parent, 'web') : join(parent, 'dist', 'web');
}

/**
 * The browser app: hashed assets under /assets/ with a long immutable cache, and the page itself
 * (never cached, so a deploy is picked up at once) at /, /rooms/<idOrSlug> and /tutor/<grammarId>.
 * Only these paths: /api, /docs, /ws, /chat, /health, /ready, /metrics stay the server's.
 */
export default fp(
  async (app) => {
    const root = webRoot();
    const built = existsSync(join(root, 'index.html'));
    // Page loads are not API traffic: they do not count against the per-IP API limit.
    app.addHook('onRoute', (route) => {
      if (route.url.startsWith('/assets/')) route.config = { ...(route.config as object), rateLimit: false } as typeof route.config;
    });
    if (built) {
      await app.register(fastifyStatic, { root: join(root, 'assets'), prefix: '/assets/', immutable: true, maxAge: '365d', schemaHide: true });
    }
    const page = async (_req: unknown, reply: FastifyReply) => {
      if (!built) return reply.code(503).type('text/plain').send('The web app is not built: run `npm run build:web` (npm install does it).\n');
      reply.header('cache-control', 'no-cache');
      return reply.sendFile('index.html', root, { cacheControl: false });
    };
    const options = { schema: { hide: true }, config: { rateLimit: false as const } };
    app.get('/', options, page);
    app.get('/rooms/:idOrSlug', options, page);
    app.get('/tutor/:grammarId', options, page);
  },
  { name: 'web-app' },
);
