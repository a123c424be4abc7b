import fp from 'fastify-plugin';
import OpenAI from 'openai';
import type { ProviderDeadline } from '../src/provider-call.js';
import { providerFetch } from '../src/provider-fetch.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** null when OPENAI_API_KEY is not set: images fall back to placeholders, the tutor says it is unavailable. */
    openai: OpenAI | null;
    /** Bounds every provider call, retries included (src/provider-call.ts). */
    providerDeadline: ProviderDeadline;
  }
}

/** One OpenAI SDK client for the process, with a bounded timeout and its own transport (src/provider-fetch.ts); retries are callProvider's. */
export default fp(
  async (app) => {
    const { apiKey, baseUrl, timeoutMs, maxRetries } = app.settings.ai;
    app.decorate('providerDeadline', { timeoutMs, maxRetries });
    if (!apiKey) {
      app.decorate('openai', null);
      app.log.info('OPENAI_API_KEY is not set: AI images use placeholders and the tutor is unavailable');
      return;
    }
    const transport = providerFetch();
    app.addHook('onClose', async () => transport.close());
    const client = new OpenAI({
      apiKey,
      fetch: transport.fetch,
      ...(baseUrl ? { baseURL: baseUrl } : {}),
      timeout: timeoutMs,
      // Retries happen in callProvider, under one deadline per call.
      maxRetries: 0,
      logLevel: 'off',
    });
    app.decorate('openai', client);
  },
  { name: 'openai', dependencies: ['env'] },
);
