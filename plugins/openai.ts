import fp from 'fastify-plugin';
import OpenAI from 'openai';
import { durationMs } from '../src/config.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** null when OPENAI_API_KEY is not set: images fall back to placeholders, the tutor says it is unavailable. */
    openai: OpenAI | null;
  }
}

/** One OpenAI SDK client for the process, with bounded timeout and retries. */
export default fp(
  async (app) => {
    const { OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_TIMEOUT, OPENAI_MAX_RETRIES } = app.config;
    if (!OPENAI_API_KEY) {
      app.decorate('openai', null);
      app.log.info('OPENAI_API_KEY is not set: AI images use placeholders and the tutor is unavailable');
      return;
    }
    const client = new OpenAI({
      apiKey: OPENAI_API_KEY,
      ...(OPENAI_BASE_URL ? { baseURL: OPENAI_BASE_URL } : {}),
      timeout: durationMs(OPENAI_TIMEOUT, 'OPENAI_TIMEOUT'),
      maxRetries: OPENAI_MAX_RETRIES,
      logLevel: 'off',
    });
    app.decorate('openai', client);
  },
  { name: 'openai', dependencies: ['env'] },
);
