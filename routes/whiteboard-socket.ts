import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { clientIp } from '../plugins/rate-limit.js';
import type { AuthenticatedSocket } from '../plugins/socket-transport.js';
import { WhiteboardConnection } from '../src/whiteboard/connection.js';
import { Participant, type SocketLike } from '../src/whiteboard/participant.js';
import { MessageRateLimiter } from '../src/whiteboard/rate-limiter.js';

/**
 * The ws socket plus cork/uncork of its TCP socket, so a burst of frames leaves in one write;
 * closes go through the transport, which counts the send-buffer ones (1013).
 */
function corkable(socket: WebSocket, out: AuthenticatedSocket): SocketLike {
  const tcp = (socket as unknown as { _socket?: Duplex })._socket;
  return {
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    get readyState() {
      return socket.readyState;
    },
    send: (data, cb) => socket.send(data, { binary: false }, cb),
    close: (code, reason) => (code === undefined ? socket.close() : out.close(code, reason ?? '')),
    ...(tcp ? { cork: () => tcp.cork(), uncork: () => tcp.uncork() } : {}),
  };
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
          const participant = new Participant({ id: user.id, name: user.name }, corkable(socket, out), limits);
          const connection = new WhiteboardConnection(participant, registry, new MessageRateLimiter(c.rateBurst, c.ratePerSecond), req.log);
          return { receive: (data, isBinary) => connection.receive(data, isBinary), closed: () => void connection.close() };
        },
      });
    },
  );
};

export default whiteboardSocket;
