import type { Drawing, DrawingShape } from './drawing.js';
import type { OrderedEvent, Role } from './protocol.js';

/** What an AI picture's `ai_message` says besides its drawing and seq. */
export interface PictureNote {
  requestId: string;
  content: string;
  imageUrl: string;
  placeholder: boolean;
}

/** One ordered room event to store; the writer gives it the room's next seq. */
export type WriteOp =
  /** `picture`: an AI picture, broadcast as `ai_message` instead of `draw`. */
  | { kind: 'draw'; roomId: string; userId: string; userName: string; shape: DrawingShape; clientRef: string | null; picture?: PictureNote }
  | { kind: 'delete'; roomId: string; userId: string; role: Role; drawingId: string }
  | { kind: 'clear'; roomId: string; userId: string };

/** One sender's clientRef, as a map key: a clientRef is unique per user and room, not across users. */
export const refKey = (userId: string, clientRef: string | null) => `${userId}\u0000${clientRef}`;

/** Socket error codes; there is no `drawing_not_found`: an unknown drawing id is an `invalid_message`. */
export type RefusalCode = 'room_full' | 'forbidden' | 'invalid_message' | 'room_not_found';

/** Each stored event comes back with the frame that was logged with it, which is what the room broadcasts. */
export type WriteResult =
  | { kind: 'drawn'; seq: number; drawing: Drawing; frame: OrderedEvent }
  /** A repeated clientRef: nothing stored, the earlier drawing returned (its frame goes to the sender alone). */
  | { kind: 'duplicate'; drawing: Drawing; frame: OrderedEvent }
  | { kind: 'deleted'; seq: number; drawingId: string; frame: OrderedEvent }
  | { kind: 'cleared'; seq: number; frame: OrderedEvent }
  | { kind: 'refused'; code: RefusalCode; message: string };

/** What one committed batch did besides its results. */
export interface BatchTally {
  /** Frames written to the room event log. */
  logged: number;
  /** Prunings of a room's event log. */
  prunes: number;
}

/** One committed batch: a result per op, in the batch's order. Plain data (it crosses threads). */
export interface BatchOutcome {
  results: WriteResult[];
  tally: BatchTally;
}

/** Runs one batch in one transaction and resolves once it is committed; rejects when nothing was stored. */
export interface BatchRunner {
  run(ops: WriteOp[], now: Date): Promise<BatchOutcome>;
}
