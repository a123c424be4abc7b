import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import type { Drawing } from './drawing.js';
import { drawingToRow } from './drawing-row.js';
import type { EventLogWriter } from './event-log.js';
import { frame, type AiPictureMessage, type OrderedEvent } from './protocol.js';
import { type BatchOutcome, refKey, type WriteOp, type WriteResult } from './write-ops.js';

export type DrawOp = Extract<WriteOp, { kind: 'draw' }>;

/** A new drawing of `op` with the given seq, as the room stores and broadcasts it. */
export function newDrawing(op: DrawOp, seq: number, now: Date): Drawing {
  return { id: randomUUID(), roomId: op.roomId, seq, ...op.shape, userId: op.userId, userName: op.userName, createdAt: now.toISOString() };
}

/** The frame a stored drawing is broadcast and logged as: `ai_message` for an AI picture, else `draw`. */
export function drawnFrame(op: DrawOp, drawing: Drawing): OrderedEvent {
  const { roomId, seq } = drawing;
  return op.picture ? (frame('ai_message', { roomId, ...op.picture, drawing, seq }) as AiPictureMessage) : frame('draw', { roomId, seq, drawing });
}

/**
 * Whether a batch can be stored by `drawInOneStatement`: draws only, all into one room, no
 * (user, clientRef) twice. Anything else (deletes, clears, several rooms, a retried ref within the
 * batch) goes the locked way, which reads before it decides.
 */
export function oneStatementRoom(ops: WriteOp[]): string | undefined {
  const roomId = ops[0]?.roomId;
  if (roomId === undefined) return undefined;
  const refs = new Set<string>();
  for (const op of ops) {
    if (op.kind !== 'draw' || op.roomId !== roomId) return undefined;
    if (op.clientRef === null) continue;
    const key = refKey(op.userId, op.clientRef);
    if (refs.has(key)) return undefined;
    refs.add(key);
  }
  return roomId;
}

/** PostgreSQL's unique_violation: a concurrent writer stored one of the batch's clientRefs first. */
export const isUniqueViolation = (err: unknown) => (err as { code?: unknown } | null)?.code === '23505';

/**
 * A batch of new drawings for one room in a single statement, which is its own transaction: the
 * room's counters move by the batch's size, under the room's row lock, only if the room exists, has
 * room for them all and holds none of their clientRefs yet; the drawings and their logged frames
 * take their seqs from the counter the statement read. The lock is held for the statement alone
 * (no round trip of ours in between), and the database parses one statement instead of four
 * (begin, lock and reads, write, commit).
 *
 * Resolves to undefined when the condition does not hold and nothing was stored: the caller then
 * takes the locked way, which answers `duplicate`, `room_full` or `room_not_found`. A logged frame
 * is the exact text the room broadcasts: it is encoded here with a marker where the seq goes, and
 * the database puts the seq in its place.
 */
export async function drawInOneStatement(
  db: Kysely<Database>,
  roomId: string,
  ops: DrawOp[],
  now: Date,
  limits: { maxRoomDrawings: number; log: EventLogWriter },
): Promise<BatchOutcome | undefined> {
  const n = ops.length;
  const marker = `"${randomUUID()}"`;
  const drawings = ops.map((op) => newDrawing(op, 0, now));
  const rows = drawings.map((d, i) => ({ ...drawingToRow(d, ops[i]!.clientRef), seq: i + 1, points: d.points }));
  const frames = drawings.map((d, i) => ({
    ord: i + 1,
    parts: JSON.stringify(drawnFrame(ops[i]!, { ...d, seq: marker as unknown as number })).split(JSON.stringify(marker)),
  }));
  const refs = ops.filter((op) => op.clientRef !== null);
  const users = [...new Set(refs.map((op) => op.userId))];
  const clientRefs = refs.map((op) => op.clientRef!);
  const { retention, pruneEvery } = limits.log;
  // The ref check probes the unique index with every user × every ref of the batch: a match that
  // is not a real pair only sends the batch the locked way, which looks pair by pair.
  const refFree = refs.length
    ? sql`and not exists (select 1 from drawings d where d.room_id = ${roomId} and d.user_id = any(${users}::text[]) and d.client_ref = any(${clientRefs}::text[]))`
    : sql``;
  const { rows: claimed } = await sql<{ base: number }>`
    with claim as (
      update rooms r set seq = r.seq + ${n}, drawing_count = r.drawing_count + ${n}
      where r.id = ${roomId} and r.drawing_count + ${n} <= ${limits.maxRoomDrawings} ${refFree}
      returning r.seq - ${n} as base
    ), stored as (
      insert into drawings
      select d.* from claim, json_populate_recordset(null::drawings, ${JSON.stringify(rows)}::json) as v,
        lateral json_populate_record(v, json_build_object('seq', claim.base + v.seq)) as d
    ), logged as (
      insert into room_events (room_id, seq, frame, created_at)
      select ${roomId}, claim.base + f.ord, array_to_string(f.parts, (claim.base + f.ord)::text)::json, ${now}
      from claim, json_to_recordset(${JSON.stringify(frames)}::json) as f(ord int, parts text[])
    ), pruned as (
      delete from room_events e using claim
      where claim.base + ${n} > ${retention.events} and (claim.base + ${n}) / ${pruneEvery} <> claim.base / ${pruneEvery}
        and ${limits.log.prunable(roomId, sql<number>`claim.base + ${n} - ${retention.events}`, now)}
    )
    select base from claim`.execute(db);
  const base = claimed[0]?.base;
  if (base === undefined) return undefined;
  const results: WriteResult[] = drawings.map((d, i) => {
    const drawing = { ...d, seq: base + i + 1 };
    return { kind: 'drawn', seq: drawing.seq, drawing, frame: drawnFrame(ops[i]!, drawing) };
  });
  return { results, tally: { logged: n, prunes: limits.log.prunes(base, base + n) ? 1 : 0 } };
}
