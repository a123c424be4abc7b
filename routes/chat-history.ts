import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authErrors, bearer } from '../src/schemas/common.js';
import { HistoryPage, HistoryParams, HistoryQuery } from '../src/schemas/tutor.js';

/** The caller's own tutor conversation per topic. Mounted at /api/v1/chat/history. */
const chatHistory: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['tutor'];

  app.get(
    '/:grammarId/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "The caller's messages on a topic, newest first",
        security: bearer,
        params: HistoryParams,
        querystring: HistoryQuery,
        response: { 200: HistoryPage, ...authErrors },
      },
    },
    async (req) => {
      const topic = await app.tutor.topics.resolve(req.params.grammarId);
      const page = await app.tutor.history.page(req.user.id, topic?.id ?? null, req.query.before, req.query.limit ?? 20);
      return {
        results: page.messages.map((m) => ({
          id: m.id,
          responseId: m.turn_id,
          role: m.role,
          content: m.content,
          status: m.status,
          feedback: m.feedback,
          grammarId: m.grammar_id,
          createdAt: new Date(m.created_at).toISOString(),
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.delete(
    '/:grammarId/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: "Delete the caller's messages on a topic", security: bearer, params: HistoryParams, response: { 204: { type: 'null' }, ...authErrors } },
    },
    async (req, reply) => {
      const topic = await app.tutor.topics.resolve(req.params.grammarId);
      await app.tutor.history.clear(req.user.id, topic?.id ?? null);
      return reply.code(204).send(null);
    },
  );
};

export default chatHistory;
