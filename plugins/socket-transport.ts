import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
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

/** The sending side a route sees: text frames only, with the send-buffer limit applied. */
export interface AuthenticatedSocket {
  readonly raw: WebSocket;
  readonly isOpen: boolean;
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

  add(user: SocketUser, socket: WebSocket): () => void {
    const entry = { user, socket };
    put(this.byUser, user.id, entry);
    put(this.bySession, user.sid, entry);
    return () => {
      drop(this.byUser, user.id, entry);
      drop(this.bySession, user.sid, entry);
    };
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

/**
 * The one authenticated-socket transport of /ws and /chat. It listens before anything async (frames
 * sent right after the upgrade wait, bounded, instead of vanishing), accepts then closes a bad token
 * with 4001 so browsers, which hide handshake failures, see why, and closes with 1011 when the
 * server itself could not check the token.
 */
export default fp(
  async (app) => {
    const sendBufferLimit = app.settings.sockets.sendBufferLimit;
    const observer = app.observers.sockets;
    const registry = new SocketRegistry();
    app.decorate('openSockets', registry);

    app.decorate('acceptSocket', (socket: WebSocket, req: FastifyRequest, spec: SocketSpec) => {
      const early = new EarlyFrames(socket, spec.earlyFrames.count, spec.earlyFrames.bytes);
      let handler: SocketHandler | null = null;
      let closed = false;
      let unregister = () => {};
      socket.on('message', (data: RawData, isBinary: boolean) => {
        if (frameLength(data) > spec.maxFrameBytes) return socket.close(1009, `Frame larger than ${spec.maxFrameBytes} bytes`);
        if (handler) handler.receive(data, isBinary);
        else early.keep(data, isBinary);
      });
      app.watchHeartbeat(socket);
      socket.on('close', () => {
        closed = true;
        early.clear();
        unregister();
        handler?.closed();
      });

      const close = (code: number, reason: string) => {
        if (code === SEND_BUFFER_FULL && socket.readyState === socket.OPEN) observer.sendBufferClosed(spec.label);
        socket.close(code, reason);
      };
      const out: AuthenticatedSocket = {
        raw: socket,
        get isOpen() {
          return socket.readyState === socket.OPEN;
        },
        send(text) {
          if (socket.readyState !== socket.OPEN) return;
          // A client that stops reading must not make the server hold what it is sent in memory.
          if (socket.bufferedAmount > sendBufferLimit) return close(SEND_BUFFER_FULL, 'You are not reading fast enough; reconnect');
          socket.send(text);
        },
        close,
      };

      void (async () => {
        let user: SocketUser | undefined;
        try {
          const auth = await app.verifyAccessToken(socketToken(req));
          const account = await app.accounts.findById(auth.id);
          if (account) user = { id: account.id, name: account.name, sid: auth.sid };
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode !== 401) throw err;
        }
        if (!user) return socket.close(4001, UNAUTHORIZED_REASON);
        if (closed) return;
        unregister = registry.add(user, socket);
        // The login may have ended while the account was read: its sockets were closed without this one.
        if (app.endedSessions.has(user.sid)) return socket.close(SESSION_ENDED.code, SESSION_ENDED.reason);
        const ready = await spec.open(user, out);
        if (!ready) return;
        handler = ready;
        if (closed) return ready.closed();
        early.replay((data, isBinary) => ready.receive(data, isBinary));
      })().catch((err: unknown) => {
        // Not the client's fault (the database did not answer): say so, not "unauthorized".
        req.log.error({ err }, `${spec.label} socket could not start`);
        if (socket.readyState === socket.OPEN) socket.close(1011, 'The server could not open your connection; try again');
      });
    });
  },
  { name: 'socket-transport', dependencies: ['websocket', 'jwt', 'accounts', 'metrics'] },
);
