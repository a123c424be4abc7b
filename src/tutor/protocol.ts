import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { TutorError, TutorErrorCode } from './tutor-error.js';
import { inputProblem } from '../input-value.js';

// ---- Client → server. Extra fields are ignored, as the old server did. ----

const Speak = Type.Optional(Type.Boolean({ description: 'Also speak the answer (mp3 audio frames).' }));

export const TextQuestion = Type.Object({
  data: Type.String({ minLength: 1, maxLength: 4000, description: 'The question, 1–4000 characters.' }),
  speak: Speak,
});

export const AudioQuestion = Type.Object({
  // The decoded size limit (TUTOR_AUDIO_MAX_BYTES) is checked by the audio decoder, which answers bad_audio.
  audio: Type.String({ minLength: 1, description: 'data:audio/<type>;base64,<bytes> (wav, webm, mp3, m4a/mp4, ogg, flac).' }),
  speak: Speak,
});

export const SimpleCommand = Type.Object({ command: Type.Union([Type.Literal('ping'), Type.Literal('stop')]) });

export const FeedbackValue = Type.Union([Type.Literal('thumb-up'), Type.Literal('thumb-down')]);
export type FeedbackValue = Static<typeof FeedbackValue>;

export const FeedbackCommand = Type.Object({
  command: FeedbackValue,
  responseId: Type.String({ minLength: 1, maxLength: 64, description: 'The id of the answer being rated.' }),
});

export const ClientMessage = Type.Union([TextQuestion, AudioQuestion, SimpleCommand, FeedbackCommand]);
export type ClientMessage = Static<typeof ClientMessage>;

export type Question = { kind: 'text'; text: string; speak: boolean } | { kind: 'audio'; dataUrl: string; speak: boolean };

/** A client message that passed its schema, in the form the conversation dispatches on. */
export type ClientFrame = { kind: 'question'; question: Question } | { kind: 'ping' } | { kind: 'stop' } | { kind: 'feedback'; responseId: string; value: FeedbackValue };

// ---- Server → client. `message`, `id` and `audio_text` are what old clients read. ----

const TurnId = Type.String({ description: 'The turn id (the responseId of history and feedback).' });

export const DeltaFrame = Type.Object({ type: Type.Literal('delta'), error: Type.Literal(false), message: Type.String(), id: TurnId });
export const TranscriptionFrame = Type.Object({ type: Type.Literal('transcription'), error: Type.Literal(false), audio_text: Type.String(), id: TurnId });
export const AudioFrame = Type.Object({
  type: Type.Literal('audio'),
  error: Type.Literal(false),
  audio: Type.String({ description: 'base64 mp3 of one sentence of the answer.' }),
  format: Type.Literal('mp3'),
  index: Type.Integer({ minimum: 0, description: 'Sentence order within the turn.' }),
  id: TurnId,
});
export const CompletedFrame = Type.Object({ type: Type.Literal('completed'), error: Type.Literal(false), message: Type.Literal('completed.'), id: TurnId });
export const PongFrame = Type.Object({ type: Type.Literal('pong'), error: Type.Literal(false), message: Type.Literal('pong') });
export const FeedbackFrame = Type.Object({ type: Type.Literal('feedback'), error: Type.Literal(false), responseId: Type.String(), value: FeedbackValue });
export const ErrorFrame = Type.Object({
  type: Type.Literal('error'),
  error: Type.Literal(true),
  code: TutorErrorCode,
  message: Type.String(),
  id: Type.Optional(TurnId),
});

export const TutorFrame = Type.Union([DeltaFrame, TranscriptionFrame, AudioFrame, CompletedFrame, PongFrame, FeedbackFrame, ErrorFrame]);
export type TutorFrame = Static<typeof TutorFrame>;
export type SendFrame = (frame: TutorFrame) => void;

/** Every frame the server sends is built here, so its shape is checked against the schema above. */
export const frames = {
  delta: (id: string, message: string): TutorFrame => ({ type: 'delta', error: false, message, id }),
  transcription: (id: string, text: string): TutorFrame => ({ type: 'transcription', error: false, audio_text: text, id }),
  audio: (id: string, index: number, mp3: Buffer): TutorFrame => ({ type: 'audio', error: false, audio: mp3.toString('base64'), format: 'mp3', index, id }),
  completed: (id: string): TutorFrame => ({ type: 'completed', error: false, message: 'completed.', id }),
  pong: (): TutorFrame => ({ type: 'pong', error: false, message: 'pong' }),
  feedback: (responseId: string, value: FeedbackValue): TutorFrame => ({ type: 'feedback', error: false, responseId, value }),
  error: (error: TutorError, id?: string): TutorFrame => ({ type: 'error', error: true, code: error.code, message: error.message, ...(id === undefined ? {} : { id }) }),
} satisfies Record<TutorFrame['type'], (...args: never[]) => TutorFrame>;

// Compiled once at load, not per message.
const textQuestion = Compile(TextQuestion);
const audioQuestion = Compile(AudioQuestion);
const simpleCommand = Compile(SimpleCommand);
const feedbackCommand = Compile(FeedbackCommand);
/** For clients and tests: checks a frame the server sent. */
export const tutorFrame = Compile(TutorFrame);

const EXPECTED = 'send {"data": "<question>"}, {"audio": "data:audio/<type>;base64,<...>"} or {"command": "ping" | "stop" | "thumb-up" | "thumb-down"}';

function invalid(validator: { Errors(value: unknown): Array<{ instancePath: string; message: string }> }, value: unknown, what: string): TutorError {
  const first = validator.Errors(value)[0];
  const where = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : what;
  return new TutorError('invalid_message', `${where}: ${first?.message ?? 'does not match the message schema'}`);
}

/** Parses and validates one text frame; returns the TutorError (bad_json / invalid_message) to send otherwise. */
export function parseClientFrame(text: string): ClientFrame | TutorError {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return new TutorError('bad_json', 'The frame is not valid JSON; send one JSON object per frame.');
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return new TutorError('invalid_message', `The frame must be a JSON object: ${EXPECTED}.`);
  }
  const problem = inputProblem(msg);
  if (problem) return new TutorError('invalid_message', problem);
  if ('command' in msg) {
    const command = (msg as { command: unknown }).command;
    if (command === 'thumb-up' || command === 'thumb-down') {
      if (!feedbackCommand.Check(msg)) return invalid(feedbackCommand, msg, 'feedback');
      return { kind: 'feedback', responseId: msg.responseId, value: msg.command };
    }
    if (!simpleCommand.Check(msg)) {
      return new TutorError('invalid_message', `command must be "ping", "stop", "thumb-up" or "thumb-down" (got ${JSON.stringify(command)?.slice(0, 40)}).`);
    }
    return { kind: msg.command };
  }
  if ('audio' in msg) {
    if (!audioQuestion.Check(msg)) return invalid(audioQuestion, msg, 'audio');
    return { kind: 'question', question: { kind: 'audio', dataUrl: msg.audio, speak: msg.speak === true } };
  }
  if ('data' in msg) {
    if (!textQuestion.Check(msg)) return invalid(textQuestion, msg, 'data');
    if (msg.data.trim() === '') return new TutorError('invalid_message', 'data: the question is empty.');
    return { kind: 'question', question: { kind: 'text', text: msg.data, speak: msg.speak === true } };
  }
  return new TutorError('invalid_message', `Unknown message: ${EXPECTED}.`);
}
