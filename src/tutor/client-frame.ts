import { Compile } from 'typebox/compile';
import type { Validator } from 'typebox/compile';
import type { TSchema } from 'typebox';
import { AudioQuestion, FeedbackCommand, SimpleCommand, TextQuestion, type FeedbackValue } from '../schemas/tutor.js';
import { TutorError } from './tutor-error.js';
import type { Question } from './turn.js';

/** A client frame that passed its schema. */
export type ClientFrame =
  | { kind: 'question'; question: Question }
  | { kind: 'ping' }
  | { kind: 'stop' }
  | { kind: 'feedback'; responseId: string; value: FeedbackValue };

// Compiled once at load, not per message.
const textQuestion = Compile(TextQuestion);
const audioQuestion = Compile(AudioQuestion);
const simpleCommand = Compile(SimpleCommand);
const feedbackCommand = Compile(FeedbackCommand);

const EXPECTED = 'send {"data": "<question>"}, {"audio": "data:audio/<type>;base64,<...>"} or {"command": "ping" | "stop" | "thumb-up" | "thumb-down"}';

function invalid(validator: Validator<any, TSchema>, value: unknown, what: string): TutorError {
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
