import { Type, type Static } from 'typebox';
import { INTEGER_COLUMN_MAX } from './common.js';

// The socket's messages are in src/tutor/protocol.ts.

// ---- REST ----

export const GrammarTopic = Type.Object(
  { id: Type.Integer(), title: Type.String(), description: Type.String() },
  { description: 'A grammar topic the tutor can focus a conversation on.' },
);

export const GrammarTopicList = Type.Object({ results: Type.Array(GrammarTopic) });

export const GrammarIdParams = Type.Object({ id: Type.String({ maxLength: 32, description: 'The topic id.' }) });

export const HistoryParams = Type.Object({
  grammarId: Type.String({
    minLength: 1,
    maxLength: 64,
    description: 'A topic id; anything that is not a known topic id means the general-help conversation, as on the socket.',
  }),
});

export const HistoryQuery = Type.Object(
  {
    before: Type.Optional(Type.Integer({ minimum: 1, maximum: INTEGER_COLUMN_MAX, description: "Only messages older than this message id (the previous page's nextCursor)." })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);

export const TutorMessage = Type.Object({
  id: Type.Integer(),
  responseId: Type.String({ description: 'The turn id, as sent in the socket frames; shared by a question and its answer.' }),
  role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
  content: Type.String(),
  status: Type.Union([Type.Literal('completed'), Type.Literal('stopped'), Type.Literal('failed')]),
  feedback: Type.Union([Type.Literal('thumb-up'), Type.Literal('thumb-down'), Type.Null()]),
  grammarId: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
export type TutorMessage = Static<typeof TutorMessage>;

export const HistoryPage = Type.Object({
  results: Type.Array(TutorMessage, { description: 'Newest first.' }),
  nextCursor: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as ?before= for the next (older) page; null on the last page.' }),
});
