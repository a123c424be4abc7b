import fp from 'fastify-plugin';
import type { Config } from '../src/config.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}

/** Exposes the configuration buildApp already parsed and checked (once) as `app.config`. */
export default fp<{ data: Config }>(
  async (app, opts) => {
    app.decorate('config', opts.data);
  },
  { name: 'env', fastify: '5.x' },
);
