import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { clientIp } from '../plugins/rate-limit.js';
import { socketToken } from '../plugins/websocket.js';
import { EarlyFrames, frameLength } from './early-frames.js';
import { WhiteboardConnection } from '../src/whiteboard/connection.js';
import { Participant, type SocketLike } from '../src/whiteboard/participant.js';
import { MessageRateLimiter } from '../src/whiteboard/rate-limiter.js';

/** The ws socket plus cork/uncork of its TCP socket, so a burst of frames leaves in one write. */
function corkable(socket: WebSocket): SocketLike {
  const tcp = (socket as unknown as { _socket?: Duplex })._socket;
  return {
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    get readyState() {
      return socket.readyState;
    },
    send: (data, cb) => socket.send(data, { binary: false }, cb),
    close: (code, reason) => socket.close(code, reason),
    ...(tcp ? { cork: () => tcp.cork(), uncork: () => tcp.uncork() } : {}),
  };
}

/** Bytes of early frames kept while the token is checked (their count is bounded by WS_RATE_BURST too). */
const EARLY_BYTES_LIMIT = 1024 * 1024;

/**
 * GET /ws — the whiteboard socket. Authenticates, then hands every frame to a
 * WhiteboardConnection; pings every WS_HEARTBEAT_INTERVAL and drops sockets that stay silent.
 */
const whiteboardSocket: FastifyPluginAsyncTypebox = async (app) => {
  const c = app.config;
  const { registry, connections } = app.whiteboard;
  const maxPayload = app.wsFrameLimits.whiteboard;
  const limits = { sendBufferLimit: c.WS_SEND_BUFFER_LIMIT, cursorDropAt: Math.min(64 * 1024, c.WS_SEND_BUFFER_LIMIT / 4) };

  app.get(
    '/ws',
    // Connections are counted per address below (and closed with a code browsers can see).
    { websocket: true, config: { rateLimit: false }, schema: { hide: true } },
    (socket, req) => {
      // Listen before anything async: frames sent right after the upgrade wait here, not vanish.
      const early = new EarlyFrames(socket, c.WS_RATE_BURST, EARLY_BYTES_LIMIT);
      let connection: WhiteboardConnection | undefined;
      socket.on('message', (data: RawData, isBinary: boolean) => {
        // The shared ws server allows the tutor's larger frames; the whiteboard keeps its own limit.
        if (frameLength(data) > maxPayload) return socket.close(1009, `Frame larger than ${maxPayload} bytes`);
        if (connection) connection.receive(data, isBinary);
        else early.keep(data, isBinary);
      });
      app.watchHeartbeat(socket);
      socket.on('close', () => {
        void connection?.close();
      });

      if (!connections.tryConnect(clientIp(req))) {
        socket.close(4029, 'Too many connections from your address; wait a minute');
        return;
      }

      void (async () => {
        let user;
        try {
          const auth = await app.verifyAccessToken(socketToken(req));
          user = await app.accounts.findById(auth.id);
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode !== 401) {
            // Not the client's fault (the database did not answer): say so, not "unauthorized".
            req.log.error({ err }, 'whiteboard authentication failed');
            socket.close(1011, 'The server could not check your token; try again');
            return;
          }
        }
        if (!user) {
          socket.close(4001, 'Unauthorized: connect with a valid access token (?token= or Authorization: Bearer)');
          return;
        }
        if (socket.readyState !== socket.OPEN) return;
        const participant = new Participant({ id: user.id, name: user.name }, corkable(socket), limits);
        connection = new WhiteboardConnection(participant, registry, new MessageRateLimiter(c.WS_RATE_BURST, c.WS_RATE_PER_SECOND), req.log);
        const ready = connection;
        early.replay((data, isBinary) => ready.receive(data, isBinary));
      })();
    },
  );
};

export default whiteboardSocket;
