import type { FeedbackValue } from '../schemas/tutor.js';
import type { SendFrame } from './frames.js';
import type { QuestionLimiter } from './question-limiter.js';
import { TutorError } from './tutor-error.js';
import { TutorTurn, type ConversationScope, type Question, type TurnServices } from './turn.js';

export interface ConversationLimits {
  /** Turns allowed to wait behind the running one. */
  queueLimit: number;
  limiter: QuestionLimiter;
}

/**
 * One learner's tutor socket: questions become turns that run one at a time, in order. The socket
 * handler only forwards validated client frames here; every frame back goes through `send`.
 */
export class TutorConversation {
  private running: TutorTurn | null = null;
  private readonly waiting: TutorTurn[] = [];
  private closed = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly services: TurnServices,
    readonly scope: ConversationScope,
    private readonly send: SendFrame,
    private readonly limits: ConversationLimits,
  ) {}

  ask(question: Question): void {
    if (this.closed) return;
    const turn = new TutorTurn(this.services, this.scope, question, this.send);
    if (this.running && this.waiting.length >= this.limits.queueLimit) {
      return turn.reject(new TutorError('busy', `Already ${this.waiting.length} questions are waiting; wait for an answer to complete before asking more.`));
    }
    if (!this.limits.limiter.take(this.scope.userId)) {
      return turn.reject(new TutorError('rate_limited', 'Too many questions in the last minute; please wait a little before asking again.'));
    }
    this.waiting.push(turn);
    if (!this.running) this.idle = this.drain();
  }

  /** Ends the answer being produced; waiting questions still get their turn. */
  stop(): void {
    this.running?.stop();
  }

  ping(): void {
    this.send({ type: 'pong', error: false, message: 'pong' });
  }

  async feedback(responseId: string, value: FeedbackValue): Promise<void> {
    const stored = await this.services.history.setFeedback(this.scope.userId, responseId, value);
    if (stored) {
      this.send({ type: 'feedback', error: false, responseId, value });
    } else {
      this.send({ type: 'error', error: true, code: 'not_found', message: `There is no answer with responseId "${responseId}" in your history.` });
    }
  }

  /** The socket is gone: drop waiting turns, stop the running one; resolves once its result is stored. */
  close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    this.running?.stop();
    return this.idle;
  }

  private async drain(): Promise<void> {
    for (let turn = this.waiting.shift(); turn; turn = this.waiting.shift()) {
      this.running = turn;
      await turn.run();
      this.running = null;
    }
  }
}
