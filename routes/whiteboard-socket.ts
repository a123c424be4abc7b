import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { clientIp } from '../plugins/rate-limit.js';
import type { AuthenticatedSocket, SocketHandler } from '../plugins/socket-transport.js';
import { WhiteboardConnection } from '../src/whiteboard/connection.js';
import { Participant, type SocketLike } from '../src/whiteboard/participant.js';
import { MessageRateLimiter } from '../src/whiteboard/rate-limiter.js';

/**
 * The ws socket plus cork/uncork of its TCP socket, so a burst of frames leaves in one write;
 * closes go through the transport, which counts the send-buffer ones (1013). A class: no closures per socket.
 */
class CorkableSocket implements SocketLike {
  private readonly tcp: Duplex | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly out: AuthenticatedSocket,
  ) {
    this.tcp = (socket as unknown as { _socket?: Duplex })._socket;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  send(data: string | Buffer, cb?: (err?: Error) => void): void {
    this.socket.send(data, { binary: false }, cb);
  }

  close(code?: number, reason?: string): void {
    if (code === undefined) this.socket.close();
    else this.out.close(code, reason ?? '');
  }

  cork(): void {
    this.tcp?.cork();
  }

  uncork(): void {
    this.tcp?.uncork();
  }
}

/** What the transport hands frames and the close to: the connection itself, without a closure per socket. */
class WhiteboardHandler implements SocketHandler {
  constructor(private readonly connection: WhiteboardConnection) {}

  receive(data: RawData, isBinary: boolean): void {
    this.connection.receive(data, isBinary);
  }

  closed(): void {
    void this.connection.close();
  }
}

const TOO_MANY_CONNECTIONS = 'Too many connections from your address; wait a minute';

/** Bytes of early frames kept while the token is checked (their count is bounded by WS_RATE_BURST too). */
const EARLY_BYTES_LIMIT = 1024 * 1024;

/**
 * GET /ws — the whiteboard socket. The shared transport authenticates it; every frame then goes to
 * a WhiteboardConnection, which sends through a Participant (its own 1013 limit drops cursors first).
 */
const whiteboardSocket: FastifyPluginAsyncTypebox = async (app) => {
  const c = app.settings.whiteboard;
  const { sendBufferLimit } = app.settings.sockets;
  const { registry, connections } = app.whiteboard;
  const limits = { sendBufferLimit, cursorDropAt: Math.min(64 * 1024, sendBufferLimit / 4) };
  const spec = {
    label: 'whiteboard',
    maxFrameBytes: app.wsFrameLimits.whiteboard,
    earlyFrames: { count: c.rateBurst, bytes: EARLY_BYTES_LIMIT },
  };

  app.get(
    '/ws',
    // Connections are counted per address below (and closed with a code browsers can see).
    { websocket: true, config: { rateLimit: false }, schema: { hide: true } },
    (socket, req) => {
      // Counted over every instance when Redis is shared: that answer comes later, while the token is checked.
      const allowed = connections.tryConnect(clientIp(req));
      if (allowed === false) return socket.close(4029, TOO_MANY_CONNECTIONS);
      app.acceptSocket(socket, req, {
        ...spec,
        open: async (user, out) => {
          if (!(await allowed)) {
            socket.close(4029, TOO_MANY_CONNECTIONS);
            return null;
          }
          const participant = new Participant({ id: user.id, name: user.name }, new CorkableSocket(socket, out), limits);
          const connection = new WhiteboardConnection(participant, registry, new MessageRateLimiter(c.rateBurst, c.ratePerSecond), out.log);
          return new WhiteboardHandler(connection);
        },
      });
    },
  );
};

export default whiteboardSocket;
