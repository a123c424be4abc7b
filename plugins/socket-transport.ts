import fp from 'fastify-plugin';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';

/** Who an authenticated socket belongs to; `sid` is the login (session) its token came from. */
export interface SocketUser {
  id: string;
  name: string;
  sid: string;
}

/** What a socket route does once its socket is authenticated. */
export interface SocketHandler {
  /** Every frame after authentication (early ones replayed in order), text or binary: the route answers binary frames. */
  receive(data: RawData, isBinary: boolean): void;
  closed(): void;
}

export interface SocketSpec {
  /** Names the socket in logs. */
  label: string;
  /** A larger frame closes the socket with 1009 (the shared ws server allows the largest of all sockets). */
  maxFrameBytes: number;
  /** Frames kept while the token is checked; past either bound the socket is closed with 4029. */
  earlyFrames: { count: number; bytes: number };
  /** Builds the route's handler for an authenticated user; null when the socket was closed meanwhile. */
  open(user: SocketUser, socket: AuthenticatedSocket): Promise<SocketHandler | null> | SocketHandler | null;
}

/** The pino methods a socket's route and domain objects log with. */
export interface SocketLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The sending side a route sees: text frames only, with the send-buffer limit applied. */
export interface AuthenticatedSocket {
  readonly raw: WebSocket;
  readonly isOpen: boolean;
  /** Logs with the id of the socket's upgrade request (routes must not keep the request itself). */
  readonly log: SocketLogger;
  /** Sends one text frame; a client that stopped reading past WS_SEND_BUFFER_LIMIT is closed with 1013 instead. */
  send(text: string): void;
  /** Closes the socket; a 1013 (the send-buffer limit, whoever applies it) is counted. */
  close(code: number, reason: string): void;
}

/** What a socket is closed with when it stopped reading and its unsent buffer passed WS_SEND_BUFFER_LIMIT. */
export const SEND_BUFFER_FULL = 1013;

declare module 'fastify' {
  interface FastifyInstance {
    /** Authenticates a just-upgraded socket and runs it: heartbeat, early frames, frame size, 4001, 1011. */
    acceptSocket(socket: WebSocket, req: FastifyRequest, spec: SocketSpec): void;
    /** The open authenticated sockets of this process, by user and by login. */
    openSockets: SocketRegistry;
  }
}

/** What a socket is closed with when its login ends (logout, log out everywhere, a reused refresh token). */
export const SESSION_ENDED = { code: 4001, reason: 'session ended' } as const;

export const UNAUTHORIZED_REASON = 'Unauthorized: connect with a valid access token (?token= or Authorization: Bearer)';

/** The access token of a socket request: `?token=` (browsers cannot set headers) or `Authorization: Bearer`. */
export function socketToken(req: FastifyRequest): string | undefined {
  const query = req.query as Record<string, unknown> | undefined;
  if (typeof query?.token === 'string' && query.token) return query.token;
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

/** The size of a received frame, whatever shape ws hands it over in. */
export function frameLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

/**
 * Frames that arrive while a socket is still being authenticated: kept in order and replayed once
 * it is, bounded in count and in bytes (past either bound the socket is closed with 4029).
 */
class EarlyFrames {
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

interface Entry {
  user: SocketUser;
  socket: WebSocket;
}

/** Open authenticated sockets indexed by user id and by login, so a logout can reach them. */
export class SocketRegistry {
  private readonly byUser = new Map<string, Set<Entry>>();
  private readonly bySession = new Map<string, Set<Entry>>();

  add(user: SocketUser, socket: WebSocket): Entry {
    const entry = { user, socket };
    put(this.byUser, user.id, entry);
    put(this.bySession, user.sid, entry);
    return entry;
  }

  remove(entry: Entry): void {
    drop(this.byUser, entry.user.id, entry);
    drop(this.bySession, entry.user.sid, entry);
  }

  ofUser(userId: string): WebSocket[] {
    return [...(this.byUser.get(userId) ?? [])].map((e) => e.socket);
  }

  ofSession(sid: string): WebSocket[] {
    return [...(this.bySession.get(sid) ?? [])].map((e) => e.socket);
  }
}

function put(map: Map<string, Set<Entry>>, key: string, entry: Entry): void {
  const set = map.get(key) ?? new Set<Entry>();
  map.set(key, set.add(entry));
}

function drop(map: Map<string, Set<Entry>>, key: string, entry: Entry): void {
  const set = map.get(key);
  if (set?.delete(entry) && set.size === 0) map.delete(key);
}

/** What every accepted socket shares. */
interface Transport {
  app: FastifyInstance;
  registry: SocketRegistry;
  sendBufferLimit: number;
  observer: FastifyInstance['observers']['sockets'];
}

/** Logs with the upgrade's request id; a request's own child logger costs about 2 KB a socket. */
class SocketLog implements SocketLogger {
  constructor(
    private readonly base: FastifyBaseLogger,
    private readonly reqId: string,
  ) {}

  debug(obj: object, msg: string): void {
    this.base.debug({ reqId: this.reqId, ...obj }, msg);
  }

  info(obj: object, msg: string): void {
    this.base.info({ reqId: this.reqId, ...obj }, msg);
  }

  warn(obj: object, msg: string): void {
    this.base.warn({ reqId: this.reqId, ...obj }, msg);
  }

  error(obj: object, msg: string): void {
    this.base.error({ reqId: this.reqId, ...obj }, msg);
  }
}

/**
 * One socket from its upgrade to its close. Holds what it needs and nothing of the upgrade request,
 * so an idle socket costs what its state costs (kept per socket for as long as it stays open).
 */
class AcceptedSocket implements AuthenticatedSocket {
  private early: EarlyFrames | null;
  private handler: SocketHandler | null = null;
  private closed = false;
  private entry: Entry | null = null;
  /** Not the route's spec, whose `open` closure is built per socket and needed only once. */
  private readonly maxFrameBytes: number;
  private readonly label: string;

  constructor(
    readonly raw: WebSocket,
    readonly log: SocketLogger,
    spec: SocketSpec,
    private readonly transport: Transport,
  ) {
    this.maxFrameBytes = spec.maxFrameBytes;
    this.label = spec.label;
    this.early = new EarlyFrames(raw, spec.earlyFrames.count, spec.earlyFrames.bytes);
    raw.on('message', (data: RawData, isBinary: boolean) => this.received(data, isBinary));
    raw.on('close', () => this.ended());
  }

  get isOpen(): boolean {
    return this.raw.readyState === this.raw.OPEN;
  }

  send(text: string): void {
    const socket = this.raw;
    if (socket.readyState !== socket.OPEN) return;
    // A client that stops reading must not make the server hold what it is sent in memory.
    if (socket.bufferedAmount > this.transport.sendBufferLimit) this.close(SEND_BUFFER_FULL, 'You are not reading fast enough; reconnect');
    else socket.send(text);
  }

  close(code: number, reason: string): void {
    if (code === SEND_BUFFER_FULL && this.isOpen) this.transport.observer.sendBufferClosed(this.label);
    this.raw.close(code, reason);
  }

  private received(data: RawData, isBinary: boolean): void {
    const max = this.maxFrameBytes;
    if (frameLength(data) > max) this.raw.close(1009, `Frame larger than ${max} bytes`);
    else if (this.handler) this.handler.receive(data, isBinary);
    else this.early?.keep(data, isBinary);
  }

  private ended(): void {
    this.closed = true;
    this.early = null;
    if (this.entry) this.transport.registry.remove(this.entry);
    this.handler?.closed();
  }

  /** Checks the token, then hands the socket to the route; 4001 for a bad token, 1011 when the server could not check it. */
  async start(token: string | undefined, spec: SocketSpec): Promise<void> {
    const { app, registry } = this.transport;
    const socket = this.raw;
    try {
      let user: SocketUser | undefined;
      try {
        const auth = await app.verifyAccessToken(token);
        const account = await app.accounts.findById(auth.id);
        if (account) user = { id: account.id, name: account.name, sid: auth.sid };
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 401) throw err;
      }
      if (!user) return socket.close(4001, UNAUTHORIZED_REASON);
      if (this.closed) return;
      this.entry = registry.add(user, socket);
      // The login may have ended while the account was read: its sockets were closed without this one.
      if (app.endedSessions.has(user.sid)) return socket.close(SESSION_ENDED.code, SESSION_ENDED.reason);
      const ready = await spec.open(user, this);
      if (!ready) return;
      this.handler = ready;
      if (this.closed) return ready.closed();
      const early = this.early;
      this.early = null;
      early?.replay((data, isBinary) => ready.receive(data, isBinary));
    } catch (err) {
      // Not the client's fault (the database did not answer): say so, not "unauthorized".
      this.log.error({ err }, `${spec.label} socket could not start`);
      if (socket.readyState === socket.OPEN) socket.close(1011, 'The server could not open your connection; try again');
    }
  }
}

/**
 * The one authenticated-socket transport of /ws and /chat. It listens before anything async (frames
 * sent right after the upgrade wait, bounded, instead of vanishing), accepts then closes a bad token
 * with 4001 so browsers, which hide handshake failures, see why, and closes with 1011 when the
 * server itself could not check the token.
 */
export default fp(
  async (app) => {
    const transport: Transport = {
      app,
      registry: new SocketRegistry(),
      sendBufferLimit: app.settings.sockets.sendBufferLimit,
      observer: app.observers.sockets,
    };
    app.decorate('openSockets', transport.registry);

    app.decorate('acceptSocket', (socket: WebSocket, req: FastifyRequest, spec: SocketSpec) => {
      const log = new SocketLog(app.log, req.id);
      app.releaseUpgrade(socket, log);
      const accepted = new AcceptedSocket(socket, log, spec, transport);
      app.watchHeartbeat(socket);
      void accepted.start(socketToken(req), spec);
    });
  },
  { name: 'socket-transport', dependencies: ['websocket', 'jwt', 'accounts', 'metrics'] },
);
