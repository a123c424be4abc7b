/**
 * What the whiteboard reports for whoever counts it (the metrics plugin, the outage log); the
 * domain needs no metrics library.
 */

/** The group-commit writer's transactions. */
export interface WriterObserver {
  /** A transaction stored `batch` writes; `seconds` from its start to its commit. */
  committed(batch: number, seconds: number): void;
  /** `refused` writes were answered with `err` (nothing stored). */
  failed(refused: number, err: unknown): void;
}

/** Room events handed to sockets. */
export interface RoomObserver {
  /**
   * One event was handed to `receivers` sockets of this room object. `receivedAt` (ms on the
   * performance.timeOrigin + performance.now() scale) is when the server received the client
   * message that caused it, when there was one.
   */
  delivered(type: string, receivers: number, receivedAt: number | undefined): void;
}

/**
 * The room bus of an instance among several (Redis): the messages it exchanges with the other
 * instances, and what putting their events and its own in one order costs.
 */
export interface BusObserver {
  /** One message left for the other instances, or came from one. */
  message(direction: 'published' | 'received'): void;
  /**
   * An ordered event reached the room's sockets `seconds` after it reached this instance: 0 when
   * it could go at once, more when it waited for earlier seqs (from other instances) to arrive.
   */
  ordered(seconds: number): void;
  /**
   * The room event log was read for events that did not arrive: `filled` (it answered with them),
   * `gone` (it no longer holds them) or `failed` (the database did not answer; tried again).
   */
  gapRead(outcome: 'filled' | 'gone' | 'failed'): void;
  /** `events` missing events were given up: the log no longer held them (clients resync when they rejoin). */
  skipped(events: number): void;
  /** A write of this instance's socket was forwarded to the instance writing its room, and ended so. */
  forwarded(outcome: ForwardOutcome): void;
}

/**
 * How a forwarded write ended: stored, refused or a repeat (as if written here); `not_writer` (that
 * instance no longer wrote the room: asked again), `failed` (its database did not store it),
 * `timeout` (it did not answer: the room was taken over) or `abandoned` (the sender left the room).
 */
export type ForwardOutcome = 'stored' | 'refused' | 'duplicate' | 'not_writer' | 'failed' | 'timeout' | 'abandoned';
export const FORWARD_OUTCOMES: ForwardOutcome[] = ['stored', 'refused', 'duplicate', 'not_writer', 'failed', 'timeout', 'abandoned'];

export const unobservedWriter: WriterObserver = { committed() {}, failed() {} };
export const unobservedRoom: RoomObserver = { delivered() {} };
export const unobservedBus: BusObserver = { message() {}, ordered() {}, gapRead() {}, skipped() {}, forwarded() {} };

/** Now, in ms, on a clock comparable across the processes of one machine. */
export const receivedNow = (): number => performance.timeOrigin + performance.now();

/** Several observers as one. */
export function writerObservers(...all: WriterObserver[]): WriterObserver {
  return {
    committed: (batch, seconds) => {
      for (const o of all) o.committed(batch, seconds);
    },
    failed: (refused, err) => {
      for (const o of all) o.failed(refused, err);
    },
  };
}
