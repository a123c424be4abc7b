import { type Kysely, type RawBuilder, sql } from 'kysely';
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

/** How much of each room's log to keep: at least its last `events` events or those of the last `ageMs`. */
export interface EventLogRetention {
  events: number;
  ageMs: number;
}

/** What one transaction of the writer logs for one room. */
export interface LoggedBatch {
  /** The frames the batch broadcasts, in seq order (after a clear, only the clear and what follows). */
  frames: OrderedFrame[];
  /** The batch's last clear: the log drops what came before it. */
  clearSeq: number | null;
  /** The room's seq before the batch. */
  fromSeq: number;
  now: Date;
}

/**
 * The writer's side of the log: statements that run as steps of the writer's one write statement
 * (in its transaction), so logging costs neither a transaction nor a round trip. Their deletes see
 * only rows from before that statement, so they never remove what it logs.
 */
export class EventLogWriter {
  readonly retention: EventLogRetention;
  /** A room's log is pruned each time its seq passes a multiple of this: never a query per event. */
  readonly pruneEvery: number;

  constructor(retention: EventLogRetention = { events: 10_000, ageMs: 7 * 86_400_000 }) {
    this.retention = retention;
    this.pruneEvery = Math.min(1000, Math.max(1, Math.floor(retention.events / 10)));
  }

  /** Whether a batch that moves a room's seq from `fromSeq` to `toSeq` prunes its log. */
  prunes(fromSeq: number, toSeq: number): boolean {
    return toSeq > this.retention.events && Math.floor(toSeq / this.pruneEvery) !== Math.floor(fromSeq / this.pruneEvery);
  }

  steps(trx: Kysely<Database>, roomId: string, batch: LoggedBatch): { steps: RawBuilder<unknown>[]; pruned: boolean } {
    const { frames, clearSeq, fromSeq, now } = batch;
    const steps: RawBuilder<unknown>[] = [];
    const rows = frames.map((f) => ({ room_id: roomId, seq: f.seq, frame: JSON.stringify(f), created_at: now }));
    // 4 parameters a row, well under PostgreSQL's 65,535 per statement.
    for (let i = 0; i < rows.length; i += 1000) steps.push(sql`${trx.insertInto('room_events').values(rows.slice(i, i + 1000))}`);
    if (clearSeq !== null) {
      steps.push(sql`${trx.deleteFrom('room_events').where('room_id', '=', roomId).where('seq', '<', clearSeq)}`);
      return { steps, pruned: false };
    }
    const seq = frames.length ? frames[frames.length - 1]!.seq : fromSeq;
    if (!this.prunes(fromSeq, seq)) return { steps, pruned: false };
    steps.push(sql`delete from room_events e where ${this.prunable(roomId, sql<number>`${seq - this.retention.events}::int`, now)}`);
    return { steps, pruned: true };
  }

  /**
   * The rows of a room's log (`room_events e`) a prune removes: those at or below `upto` (the
   * room's seq less the events it keeps) that come before the room's first event younger than the
   * age. What is older than both limits goes, always from the oldest end: an event that is young
   * (another instance's clock ahead of ours) stops the prune there instead of leaving a hole
   * behind it. The first young event is found once per statement, walking the log from its oldest
   * row: a prune reads the rows it deletes and one more, not every event the room still keeps.
   * `upto` is an SQL expression: the one-statement write knows the room's seq only in the database.
   */
  prunable(roomId: string, upto: RawBuilder<number>, now: Date): RawBuilder<boolean> {
    const before = new Date(now.getTime() - this.retention.ageMs);
    const firstYoung = sql`(select y.seq from room_events y where y.room_id = ${roomId} and y.created_at >= ${before} order by y.seq limit 1)`;
    return sql<boolean>`e.room_id = ${roomId} and e.seq <= ${upto} and e.seq < coalesce(${firstYoung}, ${upto} + 1)`;
  }
}
