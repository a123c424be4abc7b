import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/types.js';
import { TutorConversation } from './conversation.js';
import type { SendFrame } from './protocol.js';
import type { TutorLog } from './tutor-log.js';
import { unobservedTutor, type TutorObserver } from './tutor-observer.js';
import { TutorHistory } from './history.js';
import type { QuestionLimiter } from './question-limiter.js';
import { GrammarTopics } from './topics.js';
import type { ConversationScope, TutorSettings } from './turn.js';
import type { TutorModel } from './tutor-model.js';

export interface TutorOptions {
  db: Kysely<Database>;
  model: TutorModel | null;
  clock: Clock;
  log: TutorLog;
  settings: TutorSettings;
  limiter: QuestionLimiter;
  queueLimit: number;
  historyMessages: number;
  /** Conversations whose recent context this process keeps; 0 when other instances write them too. */
  contextCacheEntries: number;
  observer?: TutorObserver;
}

/** The AI English tutor: topics, remembered conversations, and the live conversations of this process. */
export class Tutor {
  readonly topics: GrammarTopics;
  readonly history: TutorHistory;
  private readonly live = new Set<TutorConversation>();

  constructor(private readonly options: TutorOptions) {
    this.topics = new GrammarTopics(options.db);
    this.history = new TutorHistory(options.db, options.clock, options.historyMessages, options.contextCacheEntries);
  }

  /** A conversation for one socket; `end()` it when the socket closes. */
  open(scope: ConversationScope, send: SendFrame, log: TutorLog = this.options.log): TutorConversation {
    const { model, clock, settings, limiter, queueLimit, observer = unobservedTutor } = this.options;
    const conversation = new TutorConversation({ model, history: this.history, settings, clock, log, observer }, scope, send, { queueLimit, limiter });
    this.live.add(conversation);
    return conversation;
  }

  /** The socket closed: stop its work and wait until what it produced is stored. */
  async end(conversation: TutorConversation): Promise<void> {
    try {
      await conversation.close();
    } finally {
      this.live.delete(conversation);
    }
  }

  /** Shutdown: stop every answer and finish storing them. */
  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.live].map((c) => this.end(c)));
  }
}
