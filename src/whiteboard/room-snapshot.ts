import type { Drawing } from './drawing.js';
import type { Participant } from './participant.js';
import { encode, frame, type Member, type Role } from './protocol.js';
import type { RoomStore } from './room-store.js';

/** A room_state frame stays near this size even when 500 drawings carry thousands of points each. */
const SNAPSHOT_FRAME_BYTES = 1024 * 1024;

/** Roughly the JSON size of a drawing, without serializing it twice. */
function approximateSize(d: Drawing): number {
  return 300 + d.points.length * 24 + (d.text?.length ?? 0) * 2 + (d.imageUrl?.length ?? 0);
}

/** Splits a page of drawings into frames of about SNAPSHOT_FRAME_BYTES (always one frame, even if empty). */
function splitBySize(drawings: Drawing[]): Drawing[][] {
  const frames: Drawing[][] = [[]];
  let size = 0;
  for (const d of drawings) {
    const s = approximateSize(d);
    if (size + s > SNAPSHOT_FRAME_BYTES && frames[frames.length - 1]!.length) {
      frames.push([]);
      size = 0;
    }
    frames[frames.length - 1]!.push(d);
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
}

/**
 * Sends the canvas up to `snapshot.seq` as room_state frames, each waiting for the network;
 * false when `stillWanted` says the seat was replaced or closed meanwhile.
 */
export async function sendSnapshot(p: Participant, store: RoomStore, snapshot: Snapshot, stillWanted: () => boolean): Promise<boolean> {
  const { roomId, seq, members, role, chunk } = snapshot;
  let after = 0;
  for (;;) {
    const page = await store.drawings(roomId, after, chunk + 1, seq);
    const complete = page.length <= chunk;
    const drawings = complete ? page : page.slice(0, chunk);
    const frames = splitBySize(drawings);
    for (let i = 0; i < frames.length; i++) {
      if (!stillWanted()) return false;
      const last = complete && i === frames.length - 1;
      await p.sendAndWait(encode(frame('room_state', { roomId, seq, members, drawings: frames[i]!, complete: last, role })));
    }
    if (complete) return true;
    after = drawings[drawings.length - 1]!.seq;
  }
}
