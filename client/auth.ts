import { Emitter } from './emitter.js';

export interface User {
  id: string;
  email: string;
  name: string;
}

export interface Tokens {
  access: string;
  refresh: string;
}

/** Where a login is kept between page loads (localStorage in the app, memory by default). */
export interface SessionStore {
  load(): { tokens: Tokens; user: User } | null;
  save(session: { tokens: Tokens; user: User } | null): void;
}

export function memoryStore(): SessionStore {
  let value: { tokens: Tokens; user: User } | null = null;
  return {
    load: () => value,
    save: (v) => {
      value = v;
    },
  };
}

/** An answer other than 2xx, with the server's `{statusCode, error, message, code?}`. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface AuthOptions {
  /** The server's origin, e.g. http://localhost:9080 ('' = same origin in a browser). */
  baseUrl?: string;
  store?: SessionStore;
  /** Refresh this long before the access token expires (default 60 s). */
  refreshMarginMs?: number;
}

/** Seconds since the epoch at which a JWT expires (its `exp`), or null if unreadable. */
export function tokenExpiry(jwt: string): number | null {
  try {
    const part = jwt.split('.')[1] ?? '';
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : null;
  } catch {
    return null;
  }
}

/**
 * Passwordless login and authenticated REST calls: asks for a code, verifies it, keeps the tokens,
 * refreshes the access token before it expires (and once on a 401), and signs out.
 * Emits `signedOut` when the login ends, here or elsewhere (refresh refused).
 */
export class AuthClient extends Emitter<{ signedIn: User; signedOut: { reason: string } }> {
  readonly baseUrl: string;
  private store: SessionStore;
  private marginMs: number;
  private refreshing: Promise<string> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(opts: AuthOptions = {}) {
    super();
    this.baseUrl = (opts.baseUrl ?? '').replace(/\/$/, '');
    this.store = opts.store ?? memoryStore();
    this.marginMs = opts.refreshMarginMs ?? 60_000;
    if (this.store.load()) this.scheduleRefresh();
  }

  get user(): User | null {
    return this.store.load()?.user ?? null;
  }

  get tokens(): Tokens | null {
    return this.store.load()?.tokens ?? null;
  }

  async requestCode(email: string): Promise<void> {
    await this.call('POST', '/api/v1/auth/generate-otp/', { email }, false);
  }

  async verify(email: string, code: string): Promise<User> {
    const body = await this.call<{ user: User; tokens: Tokens }>('POST', '/api/v1/auth/verify-otp/', { email, otp_code: code }, false);
    this.store.save({ tokens: body.tokens, user: body.user });
    this.scheduleRefresh();
    this.emit('signedIn', body.user);
    return body.user;
  }

  /** A valid access token, refreshed first when it expires within the margin. */
  async accessToken(): Promise<string> {
    const tokens = this.tokens;
    if (!tokens) throw new ApiError(401, 'Not signed in');
    const exp = tokenExpiry(tokens.access);
    if (exp !== null && exp * 1000 - Date.now() < this.marginMs) return this.refresh();
    return tokens.access;
  }

  /** Trades the refresh token for new tokens (one request at a time); a refusal signs out. */
  refresh(): Promise<string> {
    this.refreshing ??= (async () => {
      const session = this.store.load();
      if (!session) throw new ApiError(401, 'Not signed in');
      try {
        const tokens = await this.call<Tokens>('POST', '/api/v1/auth/token/refresh/', { refresh: session.tokens.refresh }, false);
        this.store.save({ tokens, user: session.user });
        this.scheduleRefresh();
        return tokens.access;
      } catch (err) {
        if (err instanceof ApiError && err.status >= 400 && err.status < 500) this.endLocally('Your session has ended; sign in again.');
        throw err;
      }
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** An authenticated JSON request; a 401 refreshes once and retries. */
  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await this.call<T>(method, path, body, await this.accessToken());
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      return this.call<T>(method, path, body, await this.refresh());
    }
  }

  /** Ends the login on the server (its whole token family) and here. */
  async signOut(): Promise<void> {
    const session = this.store.load();
    try {
      if (session) await this.call('POST', '/api/v1/auth/logout/', { refresh: session.tokens.refresh }, false);
    } finally {
      this.endLocally('Signed out.');
    }
  }

  /** Forgets the login without asking the server (it already ended). */
  endLocally(reason: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const had = this.store.load() !== null;
    this.store.save(null);
    if (had) this.emit('signedOut', { reason });
  }

  private scheduleRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    const exp = tokenExpiry(this.tokens?.access ?? '');
    if (exp === null) return;
    // setTimeout overflows past ~24.8 days; a long-lived token is refreshed on use instead.
    const wait = Math.min(exp * 1000 - Date.now() - this.marginMs, 2 ** 31 - 1);
    this.timer = setTimeout(() => void this.refresh().catch(() => undefined), Math.max(wait, 0));
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async call<T>(method: string, path: string, body: unknown, token: string | false): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) throw new ApiError(res.status, String(parsed.message ?? res.statusText), parsed.code as string | undefined);
    return parsed as T;
  }
}
