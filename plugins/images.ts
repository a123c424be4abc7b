import fp from 'fastify-plugin';
import { InMemoryGenerationQuota } from '../src/images/generation-quota.js';
import type { ImageStudio } from '../src/images/image-studio.js';
import { ImageStore } from '../src/images/image-store.js';
import { OpenAIImageStudio } from '../src/images/openai-image-studio.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** AI pictures for the whiteboard (`ai_generate`, stored as `image` drawings). */
    imageStudio: ImageStudio;
    /** Stored picture bytes, served by GET /api/v1/images/:imageId. */
    imageStore: ImageStore;
  }
}

/** The image studio and its store, built from the database, the OpenAI client and the clock. */
export default fp(
  async (app) => {
    const c = app.settings.images;
    const store = new ImageStore(app.db, app.clock);
    const studio = new OpenAIImageStudio({
      openai: app.openai,
      store,
      quota: new InMemoryGenerationQuota(app.clock, { perWindow: c.perMinute, windowMs: 60_000 }, app.redis?.window('ai-pictures', c.perMinute, 60_000) ?? null),
      model: c.model,
      deadline: app.providerDeadline,
      publicUrl: app.settings.http.publicUrl,
      download: { timeoutMs: c.downloadTimeoutMs, maxBytes: c.maxBytes },
      log: app.log.child({ component: 'images' }),
      observer: app.observers.pictures,
    });
    app.decorate('imageStore', store);
    app.decorate('imageStudio', studio);
    // preClose: generations still waiting on the provider stop before the database closes.
    app.addHook('preClose', async () => studio.close());
  },
  { name: 'images', dependencies: ['db', 'openai', 'redis', 'metrics'] },
);
