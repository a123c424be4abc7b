import type { FeedbackValue } from '../schemas/tutor.js';
import type { TutorErrorCode } from './tutor-error.js';

/** Server → client frames of the tutor socket. `message`, `id` and `audio_text` are what old clients read. */
export type TutorFrame =
  | { type: 'delta'; error: false; message: string; id: string }
  | { type: 'transcription'; error: false; audio_text: string; id: string }
  | { type: 'audio'; error: false; audio: string; format: 'mp3'; index: number; id: string }
  | { type: 'completed'; error: false; message: 'completed.'; id: string }
  | { type: 'pong'; error: false; message: 'pong' }
  | { type: 'feedback'; error: false; responseId: string; value: FeedbackValue }
  | { type: 'error'; error: true; code: TutorErrorCode; message: string; id?: string };

export type SendFrame = (frame: TutorFrame) => void;

/** The narrow logger the domain writes to (pino's shape). */
export interface TutorLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
