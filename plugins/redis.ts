import { createHash, randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import type { SharedWindow, Verdict } from '../src/sliding-window.js';

/** The Redis every instance shares, when REDIS_URL is set. */
export interface SharedRedis {
  /** Commands. No offline queue: while Redis is unreachable a command fails at once, so callers fall back instead of waiting. */
  readonly client: Redis;
  /** A key or channel name under REDIS_KEY_PREFIX. */
  key(name: string): string;
  /** True while the command connection is up. */
  isUp(): boolean;
  /**
   * Listens on a channel (its own connection, as Redis requires; made or remade whenever Redis
   * answers). `subscribed` settles when Redis confirmed it, at once while Redis is away.
   */
  subscribe(channel: string, listener: (message: string) => void): { subscribed: Promise<void>; unsubscribe(): void };
  /** Called each time Redis answers again after an outage (messages published meanwhile are lost). */
  onReconnect(listener: () => void): void;
  /** Runs a Lua script (by its SHA once Redis knows it) on keys named without the prefix. */
  run(script: string, keys: string[], args: Array<string | number>): Promise<unknown>;
  /** Best effort: a message published while Redis is down is lost, so receivers must have another way to catch up. */
  publish(channel: string, message: string): void;
  /** At most `limit` events per key in any rolling `windowMs`, counted for every instance under `name`. */
  window(name: string, limit: number, windowMs: number): SharedWindow;
  /** Commands sent through run, publish and window since start (what the cluster benchmark counts). */
  readonly sent: { commands: number };
}

// One sorted set per key, scored by Redis's own clock (instances' clocks may differ): drop what left
// the window, refuse when full (saying when the oldest counted event leaves), else record.
const SLIDING_WINDOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return -1`;

declare module 'fastify' {
  interface FastifyInstance {
    /** null without REDIS_URL: one process, everything in memory. */
    redis: SharedRedis | null;
  }
}

/** How long start-up waits for Redis before starting without it (it keeps reconnecting). */
const CONNECT_WAIT_MS = 3000;

/** Reconnects quickly at first, then every 2 s, for ever: an outage must end by itself. */
const retryStrategy = (attempt: number) => Math.min(100 * attempt, 2000);

/**
 * ioredis connections to REDIS_URL: one for commands, one for subscriptions. Losing Redis never
 * crashes the server: errors are logged once per outage, and everything that uses Redis degrades to
 * what this process can do alone until it is back.
 */
export default fp(
  async (app) => {
    const { url, keyPrefix: prefix } = app.settings.redis;
    if (!url) return void app.decorate('redis', null);
    const options = { retryStrategy, maxRetriesPerRequest: 1, lazyConnect: true };
    const client = new Redis(url, { ...options, enableOfflineQueue: false, connectionName: 'inkwell' });
    // Subscriptions wait in the offline queue, however long, so that they are made as soon as Redis answers.
    const subscriber = new Redis(url, { ...options, maxRetriesPerRequest: null, connectionName: 'inkwell-subscriber' });
    const listeners = new Map<string, Set<(message: string) => void>>();
    const reconnectListeners: Array<() => void> = [];
    const reconnected = () => {
      for (const listener of reconnectListeners) listener();
    };
    const shas = new Map<string, string>();

    let down = false;
    client.on('error', (err: Error) => {
      if (down) return;
      down = true;
      // The message only: the URL (with its password) is never logged.
      app.log.warn({ reason: err.message }, 'Redis is unreachable: limits are counted and rooms delivered by this instance alone until it is back');
    });
    client.on('ready', () => {
      if (!down) return;
      down = false;
      app.log.info('Redis is back: shared limits and delivery across instances resume');
      reconnected();
    });
    subscriber.on('error', () => {}); // reported once by the command connection
    let subscriberWasReady = false;
    subscriber.on('ready', () => {
      if (subscriberWasReady) reconnected();
      subscriberWasReady = true;
    });
    subscriber.on('message', (channel: string, message: string) => {
      for (const listener of listeners.get(channel) ?? []) listener(message);
    });

    const shared: SharedRedis = {
      client,
      key: (name) => prefix + name,
      isUp: () => client.status === 'ready',
      subscribe(channel, listener) {
        const name = prefix + channel;
        const set = listeners.get(name) ?? new Set();
        listeners.set(name, set.add(listener));
        let subscribed = Promise.resolve();
        if (set.size === 1) {
          const request = subscriber.subscribe(name).then(() => {});
          request.catch(() => {});
          if (subscriber.status === 'ready') subscribed = request;
        }
        return {
          subscribed,
          unsubscribe() {
            if (!set.delete(listener) || set.size > 0 || listeners.get(name) !== set) return;
            listeners.delete(name);
            subscriber.unsubscribe(name).catch(() => {});
          },
        };
      },
      onReconnect(listener) {
        reconnectListeners.push(listener);
      },
      sent: { commands: 0 },
      async run(script, keys, args) {
        shared.sent.commands++;
        let sha = shas.get(script);
        if (!sha) {
          sha = createHash('sha1').update(script).digest('hex');
          shas.set(script, sha);
        }
        const named = keys.map((k) => prefix + k);
        try {
          return await client.evalsha(sha, named.length, ...named, ...args);
        } catch (err) {
          // First use since Redis started: send the script itself once.
          if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
          return client.eval(script, named.length, ...named, ...args);
        }
      },
      publish(channel, message) {
        shared.sent.commands++;
        client.publish(prefix + channel, message).catch(() => {});
      },
      window(name, limit, windowMs) {
        return {
          async take(key): Promise<Verdict> {
            shared.sent.commands++;
            const retryAfterMs = Number(await client.eval(SLIDING_WINDOW, 1, `${prefix}window:${name}:${key}`, windowMs, limit, randomUUID()));
            return retryAfterMs < 0 ? { ok: true } : { ok: false, retryAfterMs };
          },
        };
      },
    };
    app.decorate('redis', shared);

    await Promise.all([client, subscriber].map((c) => Promise.race([c.connect().catch(() => {}), new Promise((r) => setTimeout(r, CONNECT_WAIT_MS).unref())])));
    app.addHook('onClose', async () => {
      client.disconnect();
      subscriber.disconnect();
    });
  },
  { name: 'redis', dependencies: ['env'] },
);
