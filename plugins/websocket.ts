import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';

declare module 'fastify' {
  interface FastifyInstance {
    /** Largest frame each socket accepts; a larger one closes that socket with 1009. */
    wsFrameLimits: { whiteboard: number; tutor: number };
    /** Pings the socket every WS_HEARTBEAT_INTERVAL and terminates it when a ping goes unanswered. */
    watchHeartbeat(socket: WebSocket): void;
    /**
     * Lets go of the upgrade's request and reply, which @fastify/websocket otherwise keeps for the
     * socket's whole life (its error listener closes over them, the TCP socket still points at the
     * reply): several KB an idle socket. Socket errors then go to `log` and terminate the socket.
     */
    releaseUpgrade(socket: WebSocket, log: { error(obj: object, msg: string): void }): void;
  }
}

/** How long shutdown waits for peers to answer the 1001 close frame before dropping them. */
const CLOSE_HANDSHAKE_GRACE_MS = 2000;

/** A spoken question travels as a base64 data URL inside JSON: 4/3 of the audio plus room for the rest. */
export function tutorFrameLimit(audioMaxBytes: number): number {
  return Math.ceil((audioMaxBytes * 4) / 3) + 1024 * 1024;
}

/**
 * WebSocket support, shared by /ws and /chat. The ws server enforces the larger of the two frame
 * limits (so an 8 MiB recording reaches the tutor, which answers bad_audio for one a little too
 * big); /ws enforces its own smaller WS_MAX_PAYLOAD. Shutdown closes every socket with 1001.
 */
export default fp(
  async (app) => {
    const limits = { whiteboard: app.settings.sockets.maxPayload, tutor: tutorFrameLimit(app.settings.tutor.audioMaxBytes) };
    app.decorate('wsFrameLimits', limits);

    // One timer for every socket of both routes: dead peers (a phone that lost its network) go away.
    const alive = new Map<WebSocket, boolean>();
    const heartbeat = setInterval(() => {
      for (const [socket, answered] of alive) {
        if (!answered) {
          socket.terminate();
          continue;
        }
        alive.set(socket, false);
        socket.ping();
      }
    }, app.settings.sockets.heartbeatMs);
    heartbeat.unref();
    app.addHook('onClose', async () => clearInterval(heartbeat));
    // Listeners shared by every socket (ws calls them with the socket as `this`): none allocated per socket.
    function answered(this: WebSocket): void {
      alive.set(this, true);
    }
    function gone(this: WebSocket): void {
      alive.delete(this);
    }
    app.decorate('watchHeartbeat', (socket: WebSocket) => {
      alive.set(socket, true);
      socket.on('pong', answered);
      socket.on('close', gone);
    });
    app.decorate('releaseUpgrade', (socket, log) => {
      // The plugin's listener is the only one so far: it does what this one does (log, terminate).
      // Added before the plugin's is removed, so the listener table is never emptied (a delete would
      // turn it into a dictionary, ~260 bytes more a socket).
      const theirs = socket.listeners('error') as Array<(err: Error) => void>;
      socket.on('error', (err) => {
        log.error({ err }, 'socket error');
        socket.terminate();
      });
      for (const listener of theirs) socket.off('error', listener);
      const tcp = (socket as unknown as { _socket?: { _httpMessage?: { detachSocket?(s: unknown): void } | null } })._socket;
      tcp?._httpMessage?.detachSocket?.(tcp);
    });
    await app.register(websocket, {
      options: { maxPayload: Math.max(limits.whiteboard, limits.tutor), perMessageDeflate: false },
      preClose(done) {
        const server = app.websocketServer;
        for (const socket of server.clients) socket.close(1001, 'Server is shutting down');
        // A peer that never answers the close frame (a phone gone offline) must not hold up the
        // shutdown past close-with-grace's limit, or pending writes would never be flushed.
        const force = setTimeout(() => {
          for (const socket of server.clients) socket.terminate();
        }, CLOSE_HANDSHAKE_GRACE_MS);
        server.close(() => {
          clearTimeout(force);
          done();
        });
      },
    });
  },
  { name: 'websocket', dependencies: ['env'] },
);
