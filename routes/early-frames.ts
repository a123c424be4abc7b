import type { RawData, WebSocket } from 'ws';

/** The size of a received frame, whatever shape ws hands it over in. */
export function frameLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

/**
 * Frames that arrive while a socket is still being authenticated: kept in order and replayed once
 * it is, bounded in count and in bytes (past either bound the socket is closed with 4029).
 */
export class EarlyFrames {
  private frames: Array<[RawData, boolean]> = [];
  private bytes = 0;

  constructor(
    private readonly socket: WebSocket,
    private readonly maxFrames: number,
    private readonly maxBytes: number,
  ) {}

  keep(data: RawData, isBinary: boolean): void {
    if (this.socket.readyState !== this.socket.OPEN) return; // closing: nothing more to keep
    this.bytes += frameLength(data);
    if (this.frames.push([data, isBinary]) > this.maxFrames) this.refuse('Too many messages before authentication finished');
    else if (this.bytes > this.maxBytes) this.refuse(`More than ${this.maxBytes} bytes before authentication finished`);
  }

  /** Hands every kept frame, in arrival order, to the now-authenticated handler. */
  replay(handle: (data: RawData, isBinary: boolean) => void): void {
    for (const [data, isBinary] of this.frames.splice(0)) handle(data, isBinary);
  }

  clear(): void {
    this.frames.length = 0;
  }

  private refuse(reason: string): void {
    this.clear();
    this.socket.close(4029, reason);
  }
}
