import { assertNever } from '../assert-never.js';
import { frames, type ClientFrame, type FeedbackValue, type Question, type SendFrame } from './protocol.js';
import type { QuestionLimiter } from './question-limiter.js';
import { TutorError } from './tutor-error.js';
import { TutorTurn, type ConversationScope, type TurnServices } from './turn.js';

const rateLimited = () => new TutorError('rate_limited', 'Too many questions in the last minute; please wait a little before asking again.');

export interface ConversationLimits {
  /** Turns allowed to wait behind the running one. */
  queueLimit: number;
  limiter: QuestionLimiter;
}

/**
 * One learner's tutor socket: questions become turns that run one at a time, in order. The socket
 * only forwards validated client frames to `receive`; every frame back goes through `send`.
 */
export class TutorConversation {
  private running: TutorTurn | null = null;
  /** Queued turns, each with the question limit's answer (asked at once; counted over every instance with Redis). */
  private readonly waiting: Array<{ turn: TutorTurn; allowed: Promise<boolean> }> = [];
  private closed = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly services: TurnServices,
    readonly scope: ConversationScope,
    private readonly send: SendFrame,
    private readonly limits: ConversationLimits,
  ) {}

  /** Dispatches one client frame; a message type added to the protocol must be handled here to compile. */
  receive(frame: ClientFrame): void {
    switch (frame.kind) {
      case 'question':
        this.ask(frame.question);
        break;
      case 'stop':
        this.stop();
        break;
      case 'ping':
        this.ping();
        break;
      case 'feedback':
        this.feedback(frame.responseId, frame.value).catch((err: unknown) => {
          this.services.log.error({ err }, 'could not store tutor feedback');
          this.send(frames.error(new TutorError('internal', 'The feedback could not be stored; please try again.')));
        });
        break;
      default:
        assertNever(frame, 'tutor client frame');
    }
  }

  ask(question: Question): void {
    if (this.closed) return;
    const turn = new TutorTurn(this.services, this.scope, question, this.send);
    if (this.running && this.waiting.length >= this.limits.queueLimit) {
      turn.reject(new TutorError('busy', `Already ${this.waiting.length} questions are waiting; wait for an answer to complete before asking more.`));
      return;
    }
    const entry = { turn, allowed: this.limits.limiter.take(this.scope.userId) };
    this.waiting.push(entry);
    // Refused at once, not when its place in the queue comes (unless the queue has reached it already).
    void entry.allowed.then((ok) => {
      const i = this.waiting.indexOf(entry);
      if (ok || i < 0) return;
      this.waiting.splice(i, 1);
      turn.reject(rateLimited());
    });
    if (!this.running) this.idle = this.drain();
  }

  /** Ends the answer being produced; waiting questions still get their turn. */
  stop(): void {
    this.running?.stop();
  }

  ping(): void {
    this.send(frames.pong());
  }

  async feedback(responseId: string, value: FeedbackValue): Promise<void> {
    const stored = await this.services.history.setFeedback(this.scope.userId, responseId, value);
    if (stored) {
      this.send(frames.feedback(responseId, value));
    } else {
      this.send(frames.error(new TutorError('not_found', `There is no answer with responseId "${responseId}" in your history.`)));
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
    for (let entry = this.waiting.shift(); entry; entry = this.waiting.shift()) {
      this.running = entry.turn;
      if (await entry.allowed) await entry.turn.run();
      else entry.turn.reject(rateLimited());
      this.running = null;
    }
  }
}
