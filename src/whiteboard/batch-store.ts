import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database, DrawingRow } from '../db/types.js';
import type { Drawing } from './drawing.js';
import { drawingFromRow, drawingToRow } from './drawing-row.js';
import { type DrawOp, drawInOneStatement, drawnFrame, isUniqueViolation, newDrawing, oneStatementRoom } from './draw-statement.js';
import { type EventLogRetention, EventLogWriter } from './event-log.js';
import { frame, type OrderedEvent } from './protocol.js';
import { DELETE_REFUSAL, mayDelete } from './rules.js';
import { type BatchOutcome, type BatchTally, type RefusalCode, refKey, type WriteOp, type WriteResult } from './write-ops.js';

export interface BatchStoreOptions {
  maxRoomDrawings: number;
  /** Defaults: the last 10,000 events or 7 days. */
  retention?: EventLogRetention;
}

/** Where a batch runs: statements of their own, or a transaction. */
export interface BatchDatabase {
  /** Each statement is a transaction of its own. */
  direct: Kysely<Database>;
  transaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
}

const refused = (code: RefusalCode, message: string): WriteResult => ({ kind: 'refused', code, message });

/**
 * The SQL of one batch of the group-commit writer: new drawings for one room in one statement, or
 * else each room's row locked, its events applied, stored and logged. Runs in the server's process (PostgreSQL) or in the embedded database's thread (PGlite),
 * where a batch then costs one message each way instead of a round trip per statement. `now` is the
 * writer's clock: this reads none.
 */
export class BatchStore {
  private readonly log: EventLogWriter;

  constructor(private readonly options: BatchStoreOptions) {
    this.log = new EventLogWriter(options.retention);
  }

  /**
   * Commits the batch. New drawings for one room, the common case under load, go in one statement
   * when nothing needs reading first (see draw-statement.ts); the rest, and a batch that statement
   * leaves alone, in a transaction that locks each room and reads before it writes.
   */
  async commit(db: BatchDatabase, ops: WriteOp[], now: Date): Promise<BatchOutcome> {
    const roomId = oneStatementRoom(ops);
    if (roomId !== undefined) {
      try {
        const outcome = await drawInOneStatement(db.direct, roomId, ops as DrawOp[], now, { maxRoomDrawings: this.options.maxRoomDrawings, log: this.log });
        if (outcome) return outcome;
      } catch (err) {
        // Another process stored one of the refs after this statement's snapshot: nothing was stored.
        if (!isUniqueViolation(err)) throw err;
      }
    }
    return db.transaction((trx) => this.apply(trx, ops, now));
  }

  /** Applies the batch room by room, on `trx`, a transaction the caller holds open; results come back in the batch's order. */
  async apply(trx: Kysely<Database>, ops: WriteOp[], now: Date): Promise<BatchOutcome> {
    const tally: BatchTally = { logged: 0, prunes: 0 };
    const results = new Array<WriteResult>(ops.length);
    const byRoom = new Map<string, number[]>();
    ops.forEach((op, i) => {
      const list = byRoom.get(op.roomId);
      if (list) list.push(i);
      else byRoom.set(op.roomId, [i]);
    });
    for (const [roomId, indexes] of byRoom) {
      const roomResults = await this.applyRoom(
        trx,
        roomId,
        indexes.map((i) => ops[i]!),
        now,
        tally,
      );
      indexes.forEach((opIndex, k) => {
        results[opIndex] = roomResults[k]!;
      });
    }
    return { results, tally };
  }

  /**
   * Locks the room's row (ordering its writers across processes too) and reads, in the
   * same round trip, the earlier drawings of any clientRef in the batch and the authors of the
   * drawings it deletes.
   */
  private async lockRoom(trx: Kysely<Database>, roomId: string, draws: Array<{ userId: string; clientRef: string | null }>, deleteIds: string[]) {
    const none = sql`'[]'::json`;
    // Each (user, clientRef) pair is one probe of the unique index: the cost stays that of the batch,
    // however many drawings the room and its users already have.
    const pairs = new Map(draws.map((d) => [refKey(d.userId, d.clientRef), d]));
    const keys = sql.join([...pairs.values()].map((d) => sql`(${d.userId}, ${d.clientRef})`));
    const refs = draws.length
      ? sql`(select coalesce(json_agg(d), '[]'::json) from (values ${keys}) as k(user_id, client_ref)
            join drawings d on d.room_id = r.id and d.user_id = k.user_id and d.client_ref = k.client_ref)`
      : none;
    const targets = deleteIds.length
      ? sql`(select coalesce(json_agg(json_build_array(d.id, d.user_id)), '[]'::json) from drawings d where d.room_id = r.id and d.id in (${sql.join(deleteIds)}))`
      : none;
    const { rows } = await sql<{ seq: number; drawing_count: number; refs: unknown; targets: unknown }>`
      select r.seq, r.drawing_count, ${refs} as refs, ${targets} as targets from rooms r where r.id = ${roomId} for update of r`.execute(trx);
    const row = rows[0];
    if (!row) return undefined;
    const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as unknown[];
    return {
      seq: row.seq,
      drawing_count: row.drawing_count,
      refs: json(row.refs) as DrawingRow[],
      targets: json(row.targets) as Array<[string, string]>,
    };
  }

  private async applyRoom(trx: Kysely<Database>, roomId: string, ops: WriteOp[], now: Date, tally: BatchTally): Promise<WriteResult[]> {
    // The row lock orders this room's writers across processes too.
    const draws = ops.filter((op): op is Extract<WriteOp, { kind: 'draw' }> => op.kind === 'draw' && op.clientRef !== null);
    const deleteIds = ops.flatMap((op) => (op.kind === 'delete' ? [op.drawingId] : []));
    const room = await this.lockRoom(trx, roomId, draws, deleteIds);
    if (!room) return ops.map(() => refused('room_not_found', 'This room no longer exists.'));

    const byRef = new Map<string, Drawing>();
    const names = new Map(draws.map((d) => [d.userId, d.userName]));
    for (const row of room.refs) byRef.set(refKey(row.user_id, row.client_ref!), drawingFromRow(row, names.get(row.user_id) ?? ''));
    // Drawings a delete may target, with their authors: what is stored, plus what this batch adds.
    const live = new Map<string, string>(room.targets);

    let seq = room.seq;
    let count = room.drawing_count;
    let cleared = false;
    const inserts = new Map<string, Drawing & { clientRef: string | null }>();
    let deleteStored: string[] = [];
    // The frames to log; a clear drops the batch's earlier ones as it drops the stored ones.
    let logged: OrderedEvent[] = [];
    let clearSeq: number | null = null;
    const results: WriteResult[] = [];

    for (const op of ops) {
      if (op.kind === 'draw') {
        const earlier = op.clientRef === null ? undefined : byRef.get(refKey(op.userId, op.clientRef));
        if (earlier) {
          results.push({ kind: 'duplicate', drawing: earlier, frame: frame('draw', { roomId, seq: earlier.seq, drawing: earlier }) });
          continue;
        }
        if (count >= this.options.maxRoomDrawings) {
          results.push(refused('room_full', `This room holds its maximum of ${this.options.maxRoomDrawings} drawings; delete some or clear the canvas first.`));
          continue;
        }
        seq++;
        count++;
        const drawing = newDrawing(op, seq, now);
        inserts.set(drawing.id, { ...drawing, clientRef: op.clientRef });
        live.set(drawing.id, op.userId);
        if (op.clientRef !== null) byRef.set(refKey(op.userId, op.clientRef), drawing);
        const message = drawnFrame(op, drawing);
        logged.push(message);
        results.push({ kind: 'drawn', seq, drawing, frame: message });
      } else if (op.kind === 'delete') {
        const author = live.get(op.drawingId);
        if (author === undefined) {
          results.push(refused('invalid_message', `Field "drawingId": there is no drawing "${op.drawingId}" in this room.`));
          continue;
        }
        if (!mayDelete(op.role, op.userId, author)) {
          results.push(refused('forbidden', DELETE_REFUSAL));
          continue;
        }
        seq++;
        count--;
        live.delete(op.drawingId);
        // Its clientRef is free again: a redraw later in this batch stores a new drawing, as it
        // would in the next batch, instead of answering `duplicate` with the deleted one.
        for (const [key, d] of byRef) if (d.id === op.drawingId) byRef.delete(key);
        if (inserts.has(op.drawingId)) inserts.delete(op.drawingId);
        else deleteStored.push(op.drawingId);
        const message = frame('delete_drawing', { roomId, seq, drawingId: op.drawingId });
        logged.push(message);
        results.push({ kind: 'deleted', seq, drawingId: op.drawingId, frame: message });
      } else {
        seq++;
        count = 0;
        cleared = true;
        inserts.clear();
        live.clear();
        byRef.clear();
        deleteStored = [];
        clearSeq = seq;
        const message = frame('clear_canvas', { roomId, seq, userId: op.userId });
        logged = [message];
        results.push({ kind: 'cleared', seq, frame: message });
      }
    }

    if (seq === room.seq) return results;
    const rows = [...inserts.values()].map(({ clientRef, ...d }) => drawingToRow(d, clientRef));
    // Deletes go first, in a statement of their own: data-modifying CTEs of one statement run in
    // no fixed order, and a redraw of a deleted clientRef would hit the unique index if its insert
    // ran first. What the batch drew before a clear or delete never reaches the table; what it drew
    // after is inserted after the deletes, so they cannot remove it.
    if (cleared) await trx.deleteFrom('drawings').where('room_id', '=', roomId).execute();
    else if (deleteStored.length) await trx.deleteFrom('drawings').where('room_id', '=', roomId).where('id', 'in', deleteStored).execute();
    // The inserts, the event log and the room's counters share one statement.
    const steps: RawBuilder<unknown>[] = [];
    // 17 parameters a row: stay well under PostgreSQL's 65,535 bind parameters per statement.
    for (let i = 0; i < rows.length; i += 1000) steps.push(sql`${trx.insertInto('drawings').values(rows.slice(i, i + 1000))}`);
    const log = this.log.steps(trx, roomId, { frames: logged, clearSeq, fromSeq: room.seq, now });
    steps.push(...log.steps);
    tally.logged += logged.length;
    if (log.pruned) tally.prunes++;
    const ctes = steps.map((step, i) => sql`${sql.id(`step${i}`)} as (${step})`);
    await sql`${steps.length ? sql`with ${sql.join(ctes)} ` : sql``}update rooms set seq = ${seq}, drawing_count = ${count} where id = ${roomId}`.execute(trx);
    return results;
  }
}
