import WebSocket from 'ws';

export interface CloseInfo {
  code: number;
  reason: string;
}

type Match = string | ((msg: any) => boolean);

/**
 * A WebSocket client for tests: keeps every JSON frame, lets a test wait for the next frame that
 * matches (by `type` or predicate), and exposes how the socket closed.
 */
export class TestSocket {
  readonly ws: WebSocket;
  /** Every frame received, in order (parsed JSON; raw text when not JSON). */
  readonly received: any[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseInfo>;
  private unread: any[] = [];
  private waiters: Array<{ match: (m: any) => boolean; resolve: (m: any) => void }> = [];

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.opened.catch(() => {});
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      const text = isBinary ? data : data.toString();
      let msg: any = text;
      try {
        msg = JSON.parse(text as string);
      } catch {
        // keep raw text
      }
      this.received.push(msg);
      const i = this.waiters.findIndex((w) => w.match(msg));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        w!.resolve(msg);
      } else {
        this.unread.push(msg);
      }
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The next unread frame that matches; frames skipped over stay unread for later calls. */
  next(match?: Match, timeoutMs = 5000): Promise<any> {
    const test = toPredicate(match);
    const i = this.unread.findIndex(test);
    if (i >= 0) return Promise.resolve(this.unread.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        match: test,
        resolve: (m: any) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no frame matching ${describe(match)} within ${timeoutMs} ms; unread: ${JSON.stringify(this.unread).slice(0, 500)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Unread frames that match, removed from the unread list. */
  drain(match?: Match): any[] {
    const test = toPredicate(match);
    const out = this.unread.filter(test);
    this.unread = this.unread.filter((m) => !test(m));
    return out;
  }

  close(code?: number): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
    return this.closed;
  }
}

function toPredicate(match?: Match): (m: any) => boolean {
  if (match === undefined) return () => true;
  if (typeof match === 'string') return (m) => m && typeof m === 'object' && m.type === match;
  return match;
}

function describe(match?: Match): string {
  return match === undefined ? 'any' : typeof match === 'string' ? `type "${match}"` : 'predicate';
}

/** Opens a socket and waits until it is open. */
export async function openSocket(url: string, options?: WebSocket.ClientOptions): Promise<TestSocket> {
  const s = new TestSocket(url, options);
  await s.opened;
  return s;
}

/** Both socket kinds (whiteboard and tutor) of one login on one server, each past authentication. */
export async function socketsOf(server: { wsUrl: string }, session: { access: string }): Promise<TestSocket[]> {
  const token = encodeURIComponent(session.access);
  const board = await openSocket(`${server.wsUrl}/ws?token=${token}`);
  board.send({ type: 'ping' });
  await board.next('pong');
  const tutor = await openSocket(`${server.wsUrl}/chat/1/?token=${token}`);
  tutor.send({ command: 'ping' });
  await tutor.next('pong');
  return [board, tutor];
}
