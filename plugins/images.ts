import fp from 'fastify-plugin';
import { durationMs } from '../src/config.js';
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
    const c = app.config;
    const store = new ImageStore(app.db, app.clock);
    const studio = new OpenAIImageStudio({
      openai: app.openai,
      store,
      quota: new InMemoryGenerationQuota(
        app.clock,
        { perWindow: c.AI_IMAGES_PER_MINUTE, windowMs: 60_000 },
        app.redis?.window('ai-pictures', c.AI_IMAGES_PER_MINUTE, 60_000) ?? null,
      ),
      model: c.OPENAI_IMAGE_MODEL,
      deadline: app.providerDeadline,
      publicUrl: c.PUBLIC_URL,
      download: { timeoutMs: durationMs(c.AI_IMAGE_DOWNLOAD_TIMEOUT, 'AI_IMAGE_DOWNLOAD_TIMEOUT'), maxBytes: c.AI_IMAGE_MAX_BYTES },
      log: app.log.child({ component: 'images' }),
    });
    app.decorate('imageStore', store);
    app.decorate('imageStudio', studio);
    // preClose: generations still waiting on the provider stop before the database closes.
    app.addHook('preClose', async () => studio.close());
  },
  { name: 'images', dependencies: ['db', 'openai', 'redis'] },
);
