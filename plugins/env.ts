import fp from 'fastify-plugin';
import fastifyEnv from '@fastify/env';
import { ConfigSchema, type Config } from '../src/config.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}

/**
 * Validates the already-merged environment (defaults, .env, process env, test overrides) against
 * the one schema of every variable and exposes it as `app.config`.
 */
export default fp<{ data: Record<string, unknown> }>(
  async (app, opts) => {
    await app.register(fastifyEnv, { schema: ConfigSchema, data: opts.data, env: false, dotenv: false });
  },
  { name: 'env', fastify: '5.x' },
);
