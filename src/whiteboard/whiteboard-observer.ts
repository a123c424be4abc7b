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

export const unobservedWriter: WriterObserver = { committed() {}, failed() {} };
export const unobservedRoom: RoomObserver = { delivered() {} };

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
