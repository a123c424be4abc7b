import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../plugins/errors.js';
import { ErrorResponse } from '../src/schemas/common.js';
import { GrammarIdParams, GrammarTopic, GrammarTopicList } from '../src/schemas/tutor.js';

/** Grammar topics of the AI tutor, public. Mounted at /api/v1/grammar. */
const grammar: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['tutor'];

  app.get('/', { schema: { tags, summary: 'List the grammar topics', response: { 200: GrammarTopicList } } }, async () => ({
    results: await app.tutor.topics.list(),
  }));

  app.get('/:id/', { schema: { tags, summary: 'One grammar topic', params: GrammarIdParams, response: { 200: GrammarTopic, 404: ErrorResponse } } }, async (req) => {
    const topic = await app.tutor.topics.resolve(req.params.id);
    if (!topic) throw new AppError(404, 'topic_not_found', `There is no grammar topic with id "${req.params.id}"`);
    return topic;
  });
};

export default grammar;
