import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import type { OrderedEvent } from './protocol.js';

/** A frame that moves a room's seq (draw, delete_drawing, clear_canvas, successful ai_message), as broadcast. */
export type OrderedFrame = OrderedEvent;

/** Broadcast frames of one room with afterSeq < seq <= uptoSeq, in seq order; null when the log no longer holds every one of them. */
export interface RoomEventLog {
  between(roomId: string, afterSeq: number, uptoSeq: number): Promise<OrderedFrame[] | null>;
}

/**
 * Reads the `room_events` table the DrawingWriter fills in the transaction that assigns each seq.
 * Every seq of a room is one logged frame, so the range is whole exactly when it holds
 * `uptoSeq - afterSeq` rows; pruning and clears remove the oldest, never one in the middle.
 */
export class DatabaseRoomEventLog implements RoomEventLog {
  constructor(private readonly db: Kysely<Database>) {}

  async between(roomId: string, afterSeq: number, uptoSeq: number): Promise<OrderedFrame[] | null> {
    if (uptoSeq <= afterSeq) return [];
    const rows = await this.db
      .selectFrom('room_events')
      .select(['seq', 'frame'])
      .where('room_id', '=', roomId)
      .where('seq', '>', afterSeq)
      .where('seq', '<=', uptoSeq)
      .orderBy('seq')
      .execute();
    if (rows.length !== uptoSeq - afterSeq) return null;
    // The driver parses json; a text column or an older driver would hand back the string.
    return rows.map((r) => (typeof r.frame === 'string' ? JSON.parse(r.frame) : r.frame) as OrderedFrame);
  }
}
