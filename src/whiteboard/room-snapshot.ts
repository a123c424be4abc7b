import type { Drawing } from './drawing.js';
import type { Participant } from './participant.js';
import { encode, frame, type Member, type Role } from './protocol.js';
import type { RoomStore } from './room-store.js';

/** A room_state or room_events frame stays near this size even when 500 drawings carry thousands of points each. */
const FRAME_BYTES = 1024 * 1024;

/** Roughly the JSON size of a drawing, without serializing it twice. */
export function approximateSize(d: Drawing): number {
  return 300 + d.points.length * 24 + (d.text?.length ?? 0) * 2 + (d.imageUrl?.length ?? 0);
}

/** Splits a page into frames of about FRAME_BYTES (always one frame, even if empty). */
export function splitBySize<T>(items: T[], sizeOf: (item: T) => number): T[][] {
  const frames: T[][] = [[]];
  let size = 0;
  for (const item of items) {
    const s = sizeOf(item);
    if (size + s > FRAME_BYTES && frames[frames.length - 1]!.length) {
      frames.push([]);
      size = 0;
    }
    frames[frames.length - 1]!.push(item);
    size += s;
  }
  return frames;
}

export interface Snapshot {
  roomId: string;
  /** Every drawing up to this seq is committed and sent; later events reach the joiner live. */
  seq: number;
  members: Member[];
  role: Role;
  /** Drawings per frame at most. */
  chunk: number;
  /** Answers a resume that could not be replayed: the client replaces its canvas. */
  resync?: boolean;
}

/**
 * Sends the canvas up to `snapshot.seq` as room_state frames, each waiting for the network;
 * false when `stillWanted` says the seat was replaced or closed meanwhile.
 */
export async function sendSnapshot(p: Participant, store: RoomStore, snapshot: Snapshot, stillWanted: () => boolean): Promise<boolean> {
  const { roomId, seq, members, role, chunk, resync } = snapshot;
  let after = 0;
  for (;;) {
    const page = await store.drawings(roomId, after, chunk + 1, seq);
    const complete = page.length <= chunk;
    const drawings = complete ? page : page.slice(0, chunk);
    const frames = splitBySize(drawings, approximateSize);
    for (let i = 0; i < frames.length; i++) {
      if (!stillWanted()) return false;
      const last = complete && i === frames.length - 1;
      await p.sendAndWait(encode(frame('room_state', { roomId, seq, members, drawings: frames[i]!, complete: last, role, ...(resync ? { resync } : {}) })));
    }
    if (complete) return true;
    after = drawings[drawings.length - 1]!.seq;
  }
}
