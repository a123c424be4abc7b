import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { GrammarTopic } from '../db/types.js';
import { describeProviderError } from '../provider-call.js';
import { decodeAudioDataUrl, type DecodedAudio } from './audio-question.js';
import { frames, type Question, type SendFrame, type TutorFrame } from './protocol.js';
import type { TutorLog } from './tutor-log.js';
import type { TurnStatus, TutorHistory } from './history.js';
import { isAbort, providerError, StreamStalledError } from './provider-errors.js';
import { SentenceSplitter } from './sentences.js';
import { SpokenAnswer } from './spoken-answer.js';
import { aiUnavailable, TutorError } from './tutor-error.js';
import { isProviderCode, type TurnOutcome, type TutorObserver } from './tutor-observer.js';
import { systemInstructions } from './instructions.js';
import type { ModelMessage, TutorModel } from './tutor-model.js';

export interface TutorSettings {
  audioMaxBytes: number;
  /** A stream silent this long is abandoned (the SDK's own timeout ends at the first byte). */
  streamIdleMs: number;
}

/** What a turn needs from the outside world. */
export interface TurnServices {
  /** null when no provider is configured: every question gets ai_unavailable. */
  model: TutorModel | null;
  history: TutorHistory;
  settings: TutorSettings;
  clock: Clock;
  log: TutorLog;
  observer: TutorObserver;
}

/** Who is asking, about what. */
export interface ConversationScope {
  userId: string;
  userName: string | null;
  topic: GrammarTopic | null;
}

/**
 * One question and its answer. `run()` never throws and always ends with exactly one `completed.`
 * frame carrying the turn's id; after it nothing of this turn is sent.
 */
export class TutorTurn {
  readonly id = randomUUID();
  private readonly abort = new AbortController();
  private ended = false;
  /** performance.now() when the turn started running: first token and first audio count from here. */
  private startedAt = 0;
  private firstToken = true;
  private firstAudio = true;

  constructor(
    private readonly services: TurnServices,
    private readonly scope: ConversationScope,
    private readonly question: Question,
    private readonly sendFrame: SendFrame,
  ) {}

  /** Ends the turn now: the provider request is aborted and the turn completes as `stopped`. */
  stop(): void {
    this.abort.abort();
  }

  /** A turn refused before it started (busy, rate limited): its error, then its `completed.`. */
  reject(error: TutorError): void {
    // A limit doing its job, not a fault: visible at debug only.
    this.services.log.debug({ turnId: this.id, code: error.code }, 'tutor question refused');
    this.services.observer.turnEnded('refused', error.code);
    this.fail(error);
    this.complete();
  }

  async run(): Promise<void> {
    const { history, clock, log, observer } = this.services;
    const signal = this.abort.signal;
    const askedAt = clock.now();
    this.startedAt = performance.now();
    let question = '';
    let answer = '';
    let status: TurnStatus = 'completed';
    let failure: TutorError | null = null;
    try {
      // The recording is checked first, so a bad one gets bad_audio even where no provider is set up.
      const audio = this.question.kind === 'audio' ? decodeAudioDataUrl(this.question.dataUrl, this.services.settings.audioMaxBytes) : undefined;
      if (this.question.kind === 'text') question = this.question.text;
      const model = this.services.model;
      if (!model) throw aiUnavailable();
      if (audio) question = await this.transcribe(model, audio);
      const context = await history.context(this.scope.userId, this.scope.topic?.id ?? null).catch((err: unknown) => {
        log.error({ err, turnId: this.id }, 'could not load tutor history');
        throw new TutorError('internal', 'Your conversation history could not be loaded; please try again.');
      });
      if (signal.aborted) throw signal.reason;
      await this.answer(model, context, question, (piece) => {
        answer += piece;
      });
    } catch (err) {
      if (signal.aborted && !(signal.reason instanceof StreamStalledError) && isAbort(err, signal)) {
        status = 'stopped';
      } else {
        status = 'failed';
        failure = providerError(signal.reason instanceof StreamStalledError ? signal.reason : err);
        this.providerFault(failure, 'tutor turn failed');
        this.fail(failure);
      }
    }
    // Every turn whose question is known is stored with its status, failed ones included.
    if (question) {
      try {
        await history.save({
          userId: this.scope.userId,
          grammarId: this.scope.topic?.id ?? null,
          turnId: this.id,
          question,
          answer,
          status,
          askedAt,
        });
      } catch (err) {
        log.error({ err, turnId: this.id }, 'could not store a tutor turn');
        failure = new TutorError('internal', 'The answer could not be saved to your history.');
        this.fail(failure);
      }
    }
    const outcome: TurnOutcome = failure ? 'failed' : status;
    observer.turnEnded(outcome, outcome === 'failed' ? (failure?.code ?? null) : null);
    this.complete();
  }

  /** A provider fault is counted and logged at warn with its code; never the question, the answer or the key. */
  private providerFault(error: TutorError, msg: string): void {
    if (!isProviderCode(error.code)) return;
    this.services.observer.providerFailed(error.code);
    this.services.log.warn({ turnId: this.id, code: error.code, err: describeProviderError(error.cause ?? error) }, msg);
  }

  /** Transcribes the checked recording and shows the learner what was heard. */
  private async transcribe(model: TutorModel, audio: DecodedAudio): Promise<string> {
    let text: string;
    try {
      text = (await model.transcribe(audio, this.abort.signal)).trim();
    } catch (err) {
      if (isAbort(err, this.abort.signal)) throw err;
      throw providerError(err, 'understand the audio');
    }
    if (!text) throw new TutorError('no_speech', 'No speech was heard in the recording; please try again.');
    this.send(frames.transcription(this.id, text));
    return text;
  }

  /** Streams the model's answer, relaying every piece as it arrives and speaking finished sentences. */
  private async answer(model: TutorModel, context: ModelMessage[], question: string, onPiece: (piece: string) => void): Promise<void> {
    const { settings } = this.services;
    const signal = this.abort.signal;
    const messages: ModelMessage[] = [{ role: 'system', content: systemInstructions(this.scope.topic, this.scope.userName) }, ...context, { role: 'user', content: question }];
    const spoken = this.question.speak
      ? new SpokenAnswer(
          (sentence, s) => model.speak(sentence, s),
          (index, bytes) => {
            if (this.firstAudio) this.services.observer.firstAudio(this.since());
            this.firstAudio = false;
            this.send(frames.audio(this.id, index, bytes));
          },
          signal,
        )
      : null;
    const splitter = spoken ? new SentenceSplitter() : null;

    try {
      const stream = await model.answer(messages, signal);
      let idle = setTimeout(() => this.abort.abort(new StreamStalledError()), settings.streamIdleMs);
      try {
        for await (const piece of stream) {
          clearTimeout(idle);
          idle = setTimeout(() => this.abort.abort(new StreamStalledError()), settings.streamIdleMs);
          if (!piece || signal.aborted) continue;
          onPiece(piece);
          if (this.firstToken) this.services.observer.firstToken(this.since());
          this.firstToken = false;
          this.send(frames.delta(this.id, piece));
          if (splitter) for (const sentence of splitter.push(piece)) spoken!.say(sentence);
        }
      } finally {
        clearTimeout(idle);
      }
      // An abort during the stream ends the loop silently; it is a stop (or a stall), not a finished answer.
      if (signal.aborted) throw signal.reason;
      if (spoken && splitter) {
        for (const sentence of splitter.flush()) spoken.say(sentence);
        try {
          await spoken.finished();
        } catch (err) {
          if (signal.aborted) throw signal.reason;
          // The text answer is complete; only the voice failed, so say so and keep the turn completed.
          const error = providerError(err, 'speak the answer');
          this.providerFault(error, 'tutor speech failed');
          this.fail(error);
        }
      }
    } catch (err) {
      // A failed turn (not only a stopped one) must not leave speech requests running or queued.
      spoken?.cancel();
      throw err;
    }
  }

  private since(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  private fail(error: TutorError): void {
    this.send(frames.error(error, this.id));
  }

  private complete(): void {
    this.send(frames.completed(this.id));
    this.ended = true;
  }

  private send(frame: TutorFrame): void {
    if (!this.ended) this.sendFrame(frame);
  }
}
