/** The part of the WebSocket API the clients use: the browser's and the `ws` package's both fit. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = new (url: string) => SocketLike;

export const OPEN = 1;

/** The global WebSocket (browsers, Node 22+) unless one is given (the `ws` package on Node 20). */
export function socketFactory(given?: SocketFactory): SocketFactory {
  const ctor = given ?? (globalThis as { WebSocket?: SocketFactory }).WebSocket;
  if (!ctor) throw new Error('No WebSocket implementation: pass one (for example the `ws` package) as the WebSocket option');
  return ctor;
}

/** http(s)://host → ws(s)://host */
export function wsBase(httpBase: string): string {
  return httpBase.replace(/^http/, 'ws').replace(/\/$/, '');
}

export interface BackoffOptions {
  /** First delay (default 500 ms). */
  initialMs?: number;
  /** Longest delay (default 15 s). */
  maxMs?: number;
}

/** Exponential backoff with jitter: the n-th retry waits between half and all of min(max, initial·2ⁿ). */
export function backoffDelay(attempt: number, { initialMs = 500, maxMs = 15_000 }: BackoffOptions = {}, random = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function parseFrame<T>(data: unknown): T | null {
  try {
    return JSON.parse(typeof data === 'string' ? data : String(data)) as T;
  } catch {
    return null;
  }
}
