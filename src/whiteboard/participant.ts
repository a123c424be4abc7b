import { randomBytes } from 'node:crypto';
import { encode, frame, type ErrorCode, type Member } from './protocol.js';

/** The part of a WebSocket a participant needs (the `ws` socket fits it). */
export interface SocketLike {
  readonly bufferedAmount: number;
  readonly readyState: number;
  /** Always a text frame, whether given a string or its UTF-8 bytes. */
  send(data: string | Buffer, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  /** Hold writes in memory until uncork(), so many frames leave in one system call. */
  cork?(): void;
  uncork?(): void;
}

const OPEN = 1;

export interface SendLimits {
  /** Unsent bytes past which the receiver is closed with 1013. */
  sendBufferLimit: number;
  /** Unsent bytes past which cursor moves are dropped for this receiver. */
  cursorDropAt: number;
}

export interface ErrorDetails {
  ref?: string;
  roomId?: string;
}

/**
 * One authenticated socket on the whiteboard: who it is, and a send that protects the server's
 * memory from a receiver that does not read.
 */
export class Participant {
  /** Unique over every instance; a flat 22-character string (a UUID's text is a rope of 14 pieces, ~450 bytes). */
  readonly connectionId = randomBytes(16).toString('base64url');
  private corked = false;

  constructor(
    readonly user: Member,
    private readonly socket: SocketLike,
    private readonly limits: SendLimits,
  ) {}

  get isOpen(): boolean {
    return this.socket.readyState === OPEN;
  }

  /** True when `extra` bytes held for this socket, on top of its unsent buffer, pass the 1013 limit. */
  overSendLimit(extra: number): boolean {
    return this.socket.bufferedAmount + extra > this.limits.sendBufferLimit;
  }

  send(frame: string | Buffer): void {
    if (!this.isOpen) return;
    if (this.socket.bufferedAmount > this.limits.sendBufferLimit) {
      this.close(1013, 'You are not reading fast enough; reconnect and join again');
      return;
    }
    this.batch();
    this.socket.send(frame);
  }

  /**
   * One commit announces many drawings at once: cork the socket for the rest of this turn of the
   * event loop so they go out in one write instead of one system call each.
   */
  private batch(): void {
    if (this.corked || !this.socket.cork) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork!();
    });
  }

  /** Cursor moves: the first thing dropped when the receiver falls behind. */
  sendVolatile(frame: string | Buffer): void {
    if (!this.isOpen || this.socket.bufferedAmount > this.limits.cursorDropAt) return;
    this.batch();
    this.socket.send(frame);
  }

  /** Sends and resolves once the frame has been handed to the network (back-pressure for snapshots). */
  sendAndWait(frame: string): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.socket.send(frame, () => resolve()));
  }

  sendError(code: ErrorCode, message: string, details: ErrorDetails = {}): void {
    const { ref, roomId } = details;
    this.send(encode(frame('error', { code, message, ...(ref === undefined ? {} : { ref }), ...(roomId === undefined ? {} : { roomId }) })));
  }

  close(code: number, reason: string): void {
    if (this.isOpen) this.socket.close(code, reason);
  }
}
