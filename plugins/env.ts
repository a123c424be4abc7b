import fp from 'fastify-plugin';
import type { Settings } from '../src/settings.js';

declare module 'fastify' {
  interface FastifyInstance {
    settings: Settings;
  }
}

/** Exposes the settings buildApp already parsed and checked (once) as `app.settings`. */
export default fp<{ data: Settings }>(
  async (app, opts) => {
    app.decorate('settings', opts.data);
  },
  { name: 'env', fastify: '5.x' },
);
