import fp from 'fastify-plugin';
import { durationMs } from '../src/config.js';
import { SESSION_ENDED } from './socket-transport.js';

/** How often ended logins whose tokens have all expired are forgotten. */
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Makes an ended login stop at once: its id joins the revocation set every access token is checked
 * against, and its open sockets are closed with 4001. The set is loaded from the database on start,
 * so a restart forgets nothing.
 */
export default fp(
  async (app) => {
    const ended = app.endedSessions;
    const closeSockets = (sid: string) => {
      for (const socket of app.openSockets.ofSession(sid)) socket.close(SESSION_ENDED.code, SESSION_ENDED.reason);
    };

    app.sessions.onEnded = (sids) => {
      for (const sid of sids) {
        ended.add(sid);
        closeSockets(sid);
      }
    };

    const rememberMs = durationMs(app.config.ACCESS_TOKEN_TTL);
    app.addHook('onReady', async () => {
      for (const { sid, endedAt } of await app.sessions.endedSince(new Date(app.clock.now().getTime() - rememberMs))) {
        ended.add(sid, endedAt.getTime());
      }
    });
    const prune = setInterval(() => ended.prune(), PRUNE_EVERY_MS);
    prune.unref();
    app.addHook('onClose', async () => clearInterval(prune));
  },
  { name: 'sessions', dependencies: ['jwt', 'accounts', 'socket-transport'] },
);
