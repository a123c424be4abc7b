import type { FastifyPluginAsync } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { socketToken } from '../plugins/websocket.js';
import { EarlyFrames } from './early-frames.js';
import type { TutorConversation } from '../src/tutor/conversation.js';
import { frames, parseClientFrame, type TutorFrame } from '../src/tutor/protocol.js';
import { TutorError } from '../src/tutor/tutor-error.js';

interface TutorRoute {
  Params: { grammarId: string };
  Querystring: { token?: string };
}

/** Frames kept while the token is checked; a client has no reason to send more before the first answer. */
const EARLY_FRAMES_LIMIT = 32;


/**
 * The AI tutor socket: authenticate, parse, validate, forward to the learner's
 * TutorConversation. Everything the tutor says comes back through `send`.
 */
const tutorSocket: FastifyPluginAsync = async (app) => {
  const c = app.config;
  const earlyBytesLimit = 2 * app.wsFrameLimits.tutor;

  app.get<TutorRoute>('/chat/:grammarId/', { websocket: true, schema: { hide: true } }, (socket: WebSocket, req) => {
    const log = req.log;
    app.watchHeartbeat(socket);
    let conversation: TutorConversation | null = null;
    let closed = false;

    const send = (frame: TutorFrame) => {
      if (socket.readyState !== socket.OPEN) return;
      // A client that stops reading must not make the server hold its answers (spoken ones are large) in memory.
      if (socket.bufferedAmount > c.WS_SEND_BUFFER_LIMIT) return socket.close(1013, 'You are not reading fast enough; reconnect');
      socket.send(JSON.stringify(frame));
    };
    const sendError = (error: TutorError) => send(frames.error(error));

    const handle = (data: RawData, isBinary: boolean, c: TutorConversation) => {
      if (isBinary) return sendError(new TutorError('invalid_message', 'Binary frames are not supported; send JSON text frames.'));
      const frame = parseClientFrame(data.toString());
      if (frame instanceof TutorError) {
        // Log that it happened, never what the learner wrote.
        if (frame.code === 'bad_json') log.info({ bytes: (data as Buffer).length }, 'tutor socket: frame is not valid JSON');
        return sendError(frame);
      }
      c.receive(frame);
    };

    // Listen before any async work, and replay what arrived while the token and topic were checked.
    // Bounded in bytes as well: each frame may be a whole recording (app.wsFrameLimits.tutor).
    const early = new EarlyFrames(socket, EARLY_FRAMES_LIMIT, earlyBytesLimit);
    socket.on('message', (data, isBinary) => {
      if (conversation) handle(data, isBinary, conversation);
      else early.keep(data, isBinary);
    });
    socket.on('close', () => {
      closed = true;
      early.clear();
      if (conversation) void app.tutor.end(conversation);
    });

    void (async () => {
      // Accept, then close with 4001, so that browsers (which hide handshake failures) see why.
      const user = await app.verifyAccessToken(socketToken(req)).catch(() => null);
      const account = user ? await app.accounts.findById(user.id) : undefined;
      if (!account) return socket.close(4001, 'Unauthorized');
      const scope = { userId: account.id, userName: account.name, topic: await app.tutor.topics.resolve(req.params.grammarId) };
      if (closed) return;
      const c = app.tutor.open(scope, send, log);
      conversation = c;
      early.replay((data, isBinary) => handle(data, isBinary, c));
    })().catch((err: unknown) => {
      log.error({ err }, 'tutor socket could not start');
      if (socket.readyState === socket.OPEN) socket.close(1011, 'Internal error');
    });
  });
};

export default tutorSocket;
