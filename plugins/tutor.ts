import fp from 'fastify-plugin';
import { durationMs } from '../src/config.js';
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
    const c = app.config;
    const tutor = new Tutor({
      db: app.db,
      model: app.openai
        ? new OpenAITutorModel(app.openai, {
            chatModel: c.OPENAI_CHAT_MODEL,
            transcribeModel: c.OPENAI_TRANSCRIBE_MODEL,
            ttsModel: c.OPENAI_TTS_MODEL,
            ttsVoice: c.OPENAI_TTS_VOICE,
            deadline: app.providerDeadline,
          })
        : null,
      clock: app.clock,
      log: app.log,
      settings: {
        audioMaxBytes: c.TUTOR_AUDIO_MAX_BYTES,
        streamIdleMs: durationMs(c.OPENAI_TIMEOUT, 'OPENAI_TIMEOUT'),
      },
      limiter: new SlidingQuestionLimiter(c.TUTOR_QUESTIONS_PER_MINUTE, app.clock, app.redis?.window('tutor-questions', c.TUTOR_QUESTIONS_PER_MINUTE, 60_000) ?? null),
      queueLimit: c.TUTOR_QUEUE_LIMIT,
      historyMessages: c.TUTOR_HISTORY_MESSAGES,
    });
    app.decorate('tutor', tutor);
    // Runs before the database plugin closes (hooks close in reverse order), so stopped answers are stored.
    app.addHook('onClose', async () => {
      await tutor.shutdown();
    });
  },
  { name: 'tutor', dependencies: ['env', 'db', 'openai', 'redis'] },
);
