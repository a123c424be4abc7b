import type { DecodedAudio } from './audio-question.js';
import type { ContextMessage } from './history.js';

export type ModelMessage = ContextMessage | { role: 'system'; content: string };

/**
 * The language model behind the tutor (OpenAI in openai-tutor-model.ts), as pictures sit behind
 * ImageStudio. Each call honours `signal`; what it throws is mapped to a TutorError by the turn.
 */
export interface TutorModel {
  /** The words of a recording; a TutorError `bad_audio` when the provider cannot read it. */
  transcribe(audio: DecodedAudio, signal: AbortSignal): Promise<string>;
  /** The answer's text pieces, as the model produces them (empty ones show the stream is alive). */
  answer(messages: ModelMessage[], signal: AbortSignal): Promise<AsyncIterable<string>>;
  /** One sentence spoken as mp3. */
  speak(sentence: string, signal: AbortSignal): Promise<Buffer>;
}
