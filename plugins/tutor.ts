import fp from 'fastify-plugin';
import { OpenAITutorModel } from '../src/tutor/openai-tutor-model.js';
import { SlidingQuestionLimiter } from '../src/tutor/question-limiter.js';
import { Tutor } from '../src/tutor/tutor.js';

declare module 'fastify' {
  interface FastifyInstance {
    tutor: Tutor;
  }
}

/** The AI tutor, built from the database, the OpenAI client (or null) and the tutor settings. */
export default fp(
  async (app) => {
    const c = app.settings.tutor;
    const tutor = new Tutor({
      db: app.db,
      model: app.openai
        ? new OpenAITutorModel(app.openai, {
            chatModel: c.chatModel,
            transcribeModel: c.transcribeModel,
            ttsModel: c.ttsModel,
            ttsVoice: c.ttsVoice,
            deadline: app.providerDeadline,
          })
        : null,
      clock: app.clock,
      log: app.log,
      settings: {
        audioMaxBytes: c.audioMaxBytes,
        streamIdleMs: app.settings.ai.timeoutMs,
      },
      limiter: new SlidingQuestionLimiter(c.questionsPerMinute, app.clock, app.redis?.window('tutor-questions', c.questionsPerMinute, 60_000) ?? null),
      queueLimit: c.queueLimit,
      historyMessages: c.historyMessages,
      // Another instance may store or delete a conversation's messages: with Redis, each question reads them from the database.
      contextCacheEntries: app.redis ? 0 : 500,
      observer: app.observers.tutor,
    });
    app.decorate('tutor', tutor);
    // Runs before the database plugin closes (hooks close in reverse order), so stopped answers are stored.
    app.addHook('onClose', async () => {
      await tutor.shutdown();
    });
  },
  { name: 'tutor', dependencies: ['env', 'db', 'openai', 'redis', 'metrics'] },
);
