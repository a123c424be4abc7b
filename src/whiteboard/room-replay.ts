import type { OrderedFrame, RoomEventLog } from './event-log.js';
import type { Participant } from './participant.js';
import { encode, frame } from './protocol.js';
import { approximateSize, type Snapshot, splitBySize } from './room-snapshot.js';

/** What a resume replays: the frames after `sinceSeq` up to the snapshot's `seq`. */
export interface Replay extends Omit<Snapshot, 'resync'> {
  sinceSeq: number;
}

/** `unavailable`: the log no longer holds them all (the caller sends the full state instead). */
export type ReplayOutcome = 'sent' | 'stopped' | 'unavailable';

const sizeOf = (f: OrderedFrame) => ('drawing' in f ? approximateSize(f.drawing) : 100);

/**
 * Sends the frames a resuming client missed as room_events, a page of at most `chunk` events at a
 * time, each frame waiting for the network, the last `complete:true`; `stopped` when `stillWanted`
 * says the seat was replaced or closed meanwhile.
 */
export async function sendReplay(p: Participant, log: RoomEventLog, replay: Replay, stillWanted: () => boolean): Promise<ReplayOutcome> {
  const { roomId, seq, members, role, chunk } = replay;
  let after = replay.sinceSeq;
  for (;;) {
    const upto = Math.min(seq, after + chunk);
    // A page can vanish after the first was sent (a clear, pruning): the full state then follows.
    const events = await log.between(roomId, after, upto);
    if (!events) return 'unavailable';
    const complete = upto === seq;
    const frames = splitBySize(events, sizeOf);
    for (let i = 0; i < frames.length; i++) {
      if (!stillWanted()) return 'stopped';
      const last = complete && i === frames.length - 1;
      await p.sendAndWait(encode(frame('room_events', { roomId, seq, members, events: frames[i]!, complete: last, role })));
    }
    if (complete) return 'sent';
    after = upto;
  }
}
