import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';

/** WebSocket support. Frames above WS_MAX_PAYLOAD close the socket with 1009; shutdown closes with 1001. */
export default fp(
  async (app) => {
    await app.register(websocket, {
      options: { maxPayload: app.config.WS_MAX_PAYLOAD, perMessageDeflate: false },
      preClose(done) {
        const server = app.websocketServer;
        for (const socket of server.clients) socket.close(1001, 'Server is shutting down');
        server.close(() => done());
      },
    });
  },
  { name: 'websocket', dependencies: ['env'] },
);
