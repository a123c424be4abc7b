import { backoffDelay, OPEN, parseFrame, socketFactory, type BackoffOptions, type SocketFactory, type SocketLike } from './socket.js';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionOptions {
  /** An access token; `fresh` asks for a refreshed one (after a 4001). */
  token(fresh: boolean): Promise<string>;
  WebSocket?: SocketFactory;
  backoff?: BackoffOptions;
}

/** What a client does at each point of its socket's life. */
export interface ConnectionHooks<Frame> {
  /** The socket URL carrying this token. */
  url(token: string): string;
  state(state: ConnectionState, attempt: number): void;
  opened(): void;
  frame(frame: Frame): void;
  /** The socket is gone (a reconnect may follow): what was tied to it ends. */
  dropped(): void;
  /** The login is over: the connection is closed for good. */
  sessionEnded(reason: string): void;
}

const SIGN_IN_AGAIN = 'Your session has ended; sign in again.';

/**
 * One authenticated socket that comes back by itself: a token for each attempt, a refreshed one
 * at once after a 4001, exponential backoff with jitter after anything else, and the end of the
 * session when the login is gone. Both the whiteboard and the tutor client sit on it.
 */
export class Connection<Frame> {
  state: ConnectionState = 'closed';
  private socket: SocketLike | null = null;
  private readonly Socket: SocketFactory;
  private attempt = 0;
  private stopped = true;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly hooks: ConnectionHooks<Frame>,
  ) {
    this.Socket = socketFactory(opts.WebSocket);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.open(false);
  }

  /** Closes for good (no reconnect). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.socket?.close(1000, 'client closed');
    this.socket = null;
    this.setState('closed');
  }

  get isOpen(): boolean {
    return this.socket?.readyState === OPEN;
  }

  /** Sends when open; false when there is no open socket. */
  send(frame: unknown): boolean {
    if (!this.socket || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** The connection proved itself (the client decides when): the next drop starts the backoff over. */
  settled(): void {
    this.attempt = 0;
  }

  /** Treats the socket as dead now (no answer to a ping), even if it has not noticed. */
  drop(): void {
    const dead = this.socket;
    dead?.onclose?.({ code: 1006, reason: 'no pong' });
    dead?.close();
  }

  private async open(fresh: boolean): Promise<void> {
    this.setState(this.attempt === 0 && !fresh ? 'connecting' : 'reconnecting');
    let token: string;
    try {
      token = await this.opts.token(fresh);
    } catch {
      return this.endSession(SIGN_IN_AGAIN);
    }
    if (this.stopped) return;
    const socket = new this.Socket(this.hooks.url(token));
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.setState('open');
      this.hooks.opened();
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      const frame = parseFrame<Frame>(ev.data);
      if (frame) this.hooks.frame(frame);
    };
    socket.onerror = () => undefined;
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.hooks.dropped();
      if (this.stopped) return;
      if (ev.code === 4001 && ev.reason === 'session ended') return this.endSession('Your session was ended.');
      // A refused token is refreshed once; a second refusal in a row means the login is gone.
      if (ev.code === 4001 && fresh) return this.endSession(SIGN_IN_AGAIN);
      this.setState('reconnecting');
      const delay = ev.code === 4001 ? 0 : backoffDelay(this.attempt++, this.opts.backoff);
      this.retryTimer = setTimeout(() => void this.open(ev.code === 4001), delay);
    };
  }

  private endSession(reason: string): void {
    this.stop();
    this.hooks.sessionEnded(reason);
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.hooks.state(state, this.attempt);
  }
}
