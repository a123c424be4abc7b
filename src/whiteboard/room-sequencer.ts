import type { RoomEventLog } from './event-log.js';
import { type RoomEvent, roomEvent } from './room-bus.js';
import type { BusObserver } from './whiteboard-observer.js';

export interface SequencerDeps {
  roomId: string;
  log: RoomEventLog;
  /** The room's latest seq in the database: where delivery starts. */
  latestSeq(roomId: string): Promise<number>;
  /** Hands an event to the room's local listeners (called in seq order for ordered events). */
  deliver(event: RoomEvent): void;
  /** How long a gap may wait for its events to arrive by themselves before the log is read (0: read now). */
  gapGraceMs(): number;
  warn(obj: object, msg: string): void;
  /** How long ordered events waited here, and what the log was asked. */
  observer?: Pick<BusObserver, 'ordered' | 'gapRead' | 'skipped'>;
}

/** Events held behind a gap at most; past this the gap is given up (as if the log had lost it). */
const MAX_HELD = 10_000;
/** After a failed read of the log (database away), how long before trying again. */
const RETRY_MS = 500;

/**
 * One room's delivery order on one instance. Events reach it from this instance's writer and from
 * the other instances (through Redis) in any order, repeated or not at all; it hands each ordered
 * event to the room once, in seq order, with no gap: seq ≤ last is dropped, last+1 delivered at
 * once, anything later held while the missing ones arrive or are read from the room's event log.
 * Events without a seq (cursors, presence) are passed straight through.
 */
export class RoomSequencer {
  /** The last seq delivered; null until the starting point is read. */
  private last: number | null = null;
  /**
   * Events waiting for earlier seqs, each with when it reached this sequencer (performance.now())
   * if it came by itself rather than from the log: its wait is reported when it is delivered.
   */
  private readonly held = new Map<number, { event: RoomEvent; arrivedAt?: number }>();
  /** A seq known to exist (the database's head) that has not been delivered yet. */
  private head = 0;
  private init: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private filling = false;
  private disposed = false;

  constructor(private readonly deps: SequencerDeps) {}

  /** The last seq handed to the room (null before ready). */
  get delivered(): number | null {
    return this.last;
  }

  /** Resolves once the starting seq is read: from then on every later event is delivered. */
  ready(): Promise<void> {
    this.init ??= this.deps.latestSeq(this.deps.roomId).then(
      (seq) => {
        if (this.disposed || this.last !== null) return;
        this.last = seq;
        for (const [s, { event }] of this.held) {
          if (s > seq) continue;
          this.held.delete(s);
          this.echoOnly(event);
        }
        this.advance();
      },
      (err: unknown) => {
        this.init = null;
        throw err;
      },
    );
    return this.init;
  }

  offer(event: RoomEvent): void {
    if (this.disposed) return;
    const seq = event.seq;
    if (seq === undefined) {
      this.deps.deliver(event);
      return;
    }
    if (this.last !== null && seq <= this.last) {
      this.echoOnly(event);
      return;
    }
    const earlier = this.held.get(seq);
    // The same seq twice (this instance's own and a copy from the log): keep the one with the sender's echo.
    if (!earlier) this.held.set(seq, { event, arrivedAt: performance.now() });
    else if (!earlier.event.origin && event.origin) earlier.event = event;
    if (this.last === null) return;
    this.advance();
  }

  /** The database says the room has reached `seq`: fetch whatever of it this instance has not seen. */
  catchUp(seq: number): void {
    if (this.disposed || seq <= this.head) return;
    this.head = seq;
    if (this.last !== null) this.advance();
  }

  dispose(): void {
    this.disposed = true;
    this.held.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Delivers what follows `last` without a hole, then waits for (or fetches) what is missing. */
  private advance(): void {
    this.drain();
    if (this.disposed) return;
    if (this.gapEnd() <= this.last!) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      return;
    }
    if (this.held.size > MAX_HELD) {
      this.skipGap('too many events held behind a gap');
      return;
    }
    if (this.filling || this.timer) return;
    const wait = this.deps.gapGraceMs();
    if (wait <= 0) void this.fill();
    else this.timer = setTimeout(() => void this.fill(), wait);
  }

  private drain(): void {
    let last = this.last!;
    for (let next = this.held.get(last + 1); next && !this.disposed; next = this.held.get(last + 1)) {
      this.held.delete(++last);
      this.last = last;
      if (next.arrivedAt !== undefined) this.deps.observer?.ordered((performance.now() - next.arrivedAt) / 1000);
      this.deps.deliver(next.event);
    }
  }

  /** The last seq that must be delivered before what is held can go: the gap is (last, gapEnd]. */
  private gapEnd(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const seq of this.held.keys()) if (seq < lowest) lowest = seq;
    return lowest === Number.POSITIVE_INFINITY ? this.head : lowest - 1;
  }

  private async fill(): Promise<void> {
    this.timer = null;
    if (this.disposed || this.filling || this.last === null) return;
    const after = this.last;
    const upto = this.gapEnd();
    if (upto <= after) return;
    this.filling = true;
    let frames: Awaited<ReturnType<RoomEventLog['between']>>;
    try {
      frames = await this.deps.log.between(this.deps.roomId, after, upto);
    } catch (err) {
      this.filling = false;
      if (this.disposed) return;
      this.deps.observer?.gapRead('failed');
      this.deps.warn({ err, roomId: this.deps.roomId }, 'reading missed room events failed; trying again');
      this.timer ??= setTimeout(() => void this.fill(), RETRY_MS);
      return;
    }
    this.filling = false;
    if (this.disposed) return;
    this.deps.observer?.gapRead(frames === null ? 'gone' : 'filled');
    if (frames === null) {
      this.skipGap('the event log no longer holds them; clients resync when they rejoin');
      return;
    }
    for (const message of frames) {
      // Arrived by itself meanwhile: the held copy (with its sender's echo) wins.
      if (message.seq > this.last && !this.held.has(message.seq)) this.held.set(message.seq, { event: roomEvent({ message, seq: message.seq }) });
    }
    this.drain();
    // The log answered without every missing event: waiting again would only ask it the same.
    if (this.last < upto) this.skipGap('the event log did not return them all');
    else this.advance();
  }

  /** Gives up on the missing events: delivery goes on from the next one held. */
  private skipGap(reason: string): void {
    const from = this.last! + 1;
    const to = this.gapEnd();
    this.deps.warn({ roomId: this.deps.roomId, from, to }, `room events skipped: ${reason}`);
    this.deps.observer?.skipped(to - from + 1);
    this.last = to;
    this.advance();
  }

  /** Delivered already without its sender's echo (read from the log first): the sender still gets its clientRef. */
  private echoOnly(event: RoomEvent): void {
    if (event.origin) this.deps.deliver({ ...event, echoOnly: true });
  }
}
