import fp from 'fastify-plugin';
import { SESSION_ENDED } from './socket-transport.js';

/** How often ended logins whose tokens have all expired are forgotten. */
const PRUNE_EVERY_MS = 10 * 60_000;

/** With several instances, how often each also reads newly ended logins from the database (a Redis message can be lost). */
const SYNC_EVERY_MS = 1000;

const CHANNEL = 'sessions:ended';

/**
 * Makes an ended login stop at once: its id joins the revocation set every access token is checked
 * against, and its open sockets are closed with 4001. The set is loaded from the database on start,
 * so a restart forgets nothing. With Redis, other instances hear of it by a message at once, and by
 * reading the database every second when a message is lost (Redis down).
 */
export default fp(
  async (app) => {
    const ended = app.endedSessions;
    const endHere = (sid: string, endedAt?: number) => {
      if (ended.has(sid)) return;
      ended.add(sid, endedAt);
      for (const socket of app.openSockets.ofSession(sid)) socket.close(SESSION_ENDED.code, SESSION_ENDED.reason);
    };

    const redis = app.redis;
    app.sessions.onEnded = (sids) => {
      for (const sid of sids) endHere(sid);
      redis?.publish(CHANNEL, JSON.stringify(sids));
    };
    redis?.subscribe(CHANNEL, (message) => {
      let sids: unknown;
      try {
        sids = JSON.parse(message);
      } catch {
        return; // not ours to crash on; the database read catches up anyway
      }
      if (Array.isArray(sids)) for (const sid of sids) if (typeof sid === 'string') endHere(sid);
    });

    const rememberMs = app.settings.auth.accessTtlMs;
    let readUpTo = 0;
    const readEnded = async (since: number) => {
      const now = app.clock.now().getTime();
      for (const { sid, endedAt } of await app.sessions.endedSince(new Date(since))) endHere(sid, endedAt.getTime());
      readUpTo = now;
    };
    app.addHook('onReady', async () => readEnded(app.clock.now().getTime() - rememberMs));

    const timers = [setInterval(() => ended.prune(), PRUNE_EVERY_MS)];
    if (redis) {
      // Overlap by a few seconds: an end committed while the previous read ran is not missed.
      const sync = () => readEnded(readUpTo - 5000).catch((err: unknown) => app.log.debug({ err }, 'could not read ended logins'));
      timers.push(setInterval(() => void sync(), SYNC_EVERY_MS));
    }
    for (const timer of timers) timer.unref();
    app.addHook('onClose', async () => timers.forEach(clearInterval));
  },
  { name: 'sessions', dependencies: ['jwt', 'accounts', 'socket-transport', 'redis'] },
);
