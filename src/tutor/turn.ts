import { randomUUID } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Clock } from '../clock.js';
import { callProvider, type ProviderDeadline } from '../provider-call.js';
import type { GrammarTopic } from '../db/types.js';
import { decodeAudioDataUrl, type DecodedAudio } from './audio-question.js';
import { frames, type Question, type SendFrame, type TutorFrame } from './protocol.js';
import type { TutorLog } from './tutor-log.js';
import type { TurnStatus, TutorHistory } from './history.js';
import { isAbort, providerError, StreamStalledError } from './provider-errors.js';
import { SentenceSplitter } from './sentences.js';
import { SpokenAnswer } from './spoken-answer.js';
import { aiUnavailable, TutorError } from './tutor-error.js';
import { systemInstructions } from './instructions.js';

export interface TutorSettings {
  chatModel: string;
  transcribeModel: string;
  ttsModel: string;
  ttsVoice: string;
  audioMaxBytes: number;
  /** A stream silent this long is abandoned (the SDK's own timeout ends at the first byte). */
  streamIdleMs: number;
  /** One bound per provider request, retries included. */
  deadline: ProviderDeadline;
}

/** What a turn needs from the outside world. */
export interface TurnServices {
  openai: OpenAI | null;
  history: TutorHistory;
  settings: TutorSettings;
  clock: Clock;
  log: TutorLog;
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
    this.fail(error);
    this.complete();
  }

  async run(): Promise<void> {
    const { history, clock, log } = this.services;
    const signal = this.abort.signal;
    const askedAt = clock.now();
    let question = '';
    let answer = '';
    let status: TurnStatus = 'completed';
    try {
      // The recording is checked first, so a bad one gets bad_audio even where no provider is set up.
      const audio = this.question.kind === 'audio' ? decodeAudioDataUrl(this.question.dataUrl, this.services.settings.audioMaxBytes) : undefined;
      if (this.question.kind === 'text') question = this.question.text;
      const openai = this.services.openai;
      if (!openai) throw aiUnavailable();
      if (audio) question = await this.transcribe(openai, audio);
      const context = await history.context(this.scope.userId, this.scope.topic?.id ?? null).catch((err: unknown) => {
        log.error({ err, turnId: this.id }, 'could not load tutor history');
        throw new TutorError('internal', 'Your conversation history could not be loaded; please try again.');
      });
      if (signal.aborted) throw signal.reason;
      await this.answer(openai, context, question, (piece) => {
        answer += piece;
      });
    } catch (err) {
      if (signal.aborted && !(signal.reason instanceof StreamStalledError) && isAbort(err, signal)) {
        status = 'stopped';
      } else {
        status = 'failed';
        const error = providerError(signal.reason instanceof StreamStalledError ? signal.reason : err);
        if (!(err instanceof TutorError)) log.warn({ err, turnId: this.id, code: error.code }, 'tutor turn failed');
        this.fail(error);
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
        this.fail(new TutorError('internal', 'The answer could not be saved to your history.'));
      }
    }
    this.complete();
  }

  /** Transcribes the checked recording and shows the learner what was heard. */
  private async transcribe(openai: OpenAI, audio: DecodedAudio): Promise<string> {
    let text: string;
    try {
      const { transcribeModel, deadline } = this.services.settings;
      const result = await callProvider(deadline, this.abort.signal, async () =>
        openai.audio.transcriptions.create(
          { file: await toFile(audio.bytes, `question.${audio.ext}`, { type: audio.mime }), model: transcribeModel },
          { signal: this.abort.signal },
        ),
      );
      text = result.text.trim();
    } catch (err) {
      if (isAbort(err, this.abort.signal)) throw err;
      if (err instanceof OpenAI.BadRequestError) throw new TutorError('bad_audio', 'The audio could not be understood as a recording; send wav, webm, mp3, m4a, ogg or flac.', err);
      throw providerError(err, 'understand the audio');
    }
    if (!text) throw new TutorError('no_speech', 'No speech was heard in the recording; please try again.');
    this.send(frames.transcription(this.id, text));
    return text;
  }

  /** Streams the model's answer, relaying every piece as it arrives and speaking finished sentences. */
  private async answer(openai: OpenAI, context: ChatCompletionMessageParam[], question: string, onPiece: (piece: string) => void): Promise<void> {
    const { settings } = this.services;
    const signal = this.abort.signal;
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: systemInstructions(this.scope.topic, this.scope.userName) },
      ...context,
      { role: 'user', content: question },
    ];
    const spoken = this.question.speak
      ? new SpokenAnswer(
          (sentence, s) => this.speak(openai, sentence, s),
          (index, bytes) => this.send(frames.audio(this.id, index, bytes)),
          signal,
        )
      : null;
    const splitter = spoken ? new SentenceSplitter() : null;

    try {
      const stream = await callProvider(settings.deadline, signal, () => openai.chat.completions.create({ model: settings.chatModel, messages, stream: true }, { signal }));
      let idle = setTimeout(() => this.abort.abort(new StreamStalledError()), settings.streamIdleMs);
      try {
        for await (const chunk of stream) {
          clearTimeout(idle);
          idle = setTimeout(() => this.abort.abort(new StreamStalledError()), settings.streamIdleMs);
          const piece = chunk.choices[0]?.delta?.content;
          if (!piece || signal.aborted) continue;
          onPiece(piece);
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
          this.services.log.warn({ err, turnId: this.id }, 'tutor speech failed');
          this.fail(providerError(err, 'speak the answer'));
        }
      }
    } catch (err) {
      // A failed turn (not only a stopped one) must not leave speech requests running or queued.
      spoken?.cancel();
      throw err;
    }
  }

  private async speak(openai: OpenAI, sentence: string, signal: AbortSignal): Promise<Buffer> {
    const { ttsModel, ttsVoice, deadline } = this.services.settings;
    const res = await callProvider(deadline, signal, () => openai.audio.speech.create({ model: ttsModel, voice: ttsVoice, input: sentence, response_format: 'mp3' }, { signal }));
    return Buffer.from(await res.arrayBuffer());
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
