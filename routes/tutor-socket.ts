import type { FastifyPluginAsync } from 'fastify';
import { frames, parseClientFrame, type TutorFrame } from '../src/tutor/protocol.js';
import { TutorError } from '../src/tutor/tutor-error.js';

interface TutorRoute {
  Params: { grammarId: string };
  Querystring: { token?: string };
}

/** Frames kept while the token is checked; a client has no reason to send more before the first answer. */
const EARLY_FRAMES_LIMIT = 32;

/**
 * The AI tutor socket: the shared transport authenticates it; each text frame is parsed and
 * validated here and handed to the learner's TutorConversation, which answers through `send`.
 */
const tutorSocket: FastifyPluginAsync = async (app) => {
  // Bounded in bytes as well: each early frame may be a whole recording.
  const spec = {
    label: 'tutor',
    maxFrameBytes: app.wsFrameLimits.tutor,
    earlyFrames: { count: EARLY_FRAMES_LIMIT, bytes: 2 * app.wsFrameLimits.tutor },
  };

  app.get<TutorRoute>('/chat/:grammarId/', { websocket: true, schema: { hide: true } }, (socket, req) => {
    // Only what the socket needs is kept: its closures must not hold the request.
    const { grammarId } = req.params;
    app.acceptSocket(socket, req, {
      ...spec,
      open: async (user, out) => {
        const log = out.log;
        const topic = await app.tutor.topics.resolve(grammarId);
        if (!out.isOpen) return null;
        const send = (frame: TutorFrame) => out.send(JSON.stringify(frame));
        const conversation = app.tutor.open({ userId: user.id, userName: user.name, topic }, send, log);
        const sendError = (error: TutorError) => send(frames.error(error));
        return {
          receive(data, isBinary) {
            if (isBinary) return sendError(new TutorError('invalid_message', 'Binary frames are not supported; send JSON text frames.'));
            const frame = parseClientFrame(data.toString());
            if (!(frame instanceof TutorError)) return conversation.receive(frame);
            // Log that it happened, never what the learner wrote.
            if (frame.code === 'bad_json') log.info({ bytes: (data as Buffer).length }, 'tutor socket: frame is not valid JSON');
            sendError(frame);
          },
          closed: () => void app.tutor.end(conversation),
        };
      },
    });
  });
};

export default tutorSocket;
