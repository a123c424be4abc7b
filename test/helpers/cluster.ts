import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { proxyInFront, type FaultProxy } from './fault-proxy.js';
import { persistentDatabase, startServer, type TestServer, type TestServerOptions } from './server.js';

/** Why several-instances tests cannot run here, or null when they can (PostgreSQL and Redis both given). */
export function clusterUnavailable(): string | null {
  if (!process.env.TEST_REDIS_URL) return 'TEST_REDIS_URL is not set: several instances need Redis';
  if (!process.env.TEST_DATABASE_URL) return 'TEST_DATABASE_URL is not set: several instances need PostgreSQL (the embedded database belongs to one process)';
  return null;
}

export interface Instance extends TestServer {
  /** Between this instance and Redis: cut() it to take Redis away from this instance alone. */
  redisProxy: FaultProxy;
  /** With `proxyDatabase`: between this instance and PostgreSQL. */
  databaseProxy?: FaultProxy;
}

/**
 * `count` app instances on one PostgreSQL schema and one Redis under a key prefix of this test's
 * own, each reaching Redis through a fault proxy of its own.
 */
export async function startCluster(t: Test, count: number, opts: TestServerOptions = {}, { proxyDatabase = false } = {}): Promise<Instance[]> {
  const database = persistentDatabase(t);
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  const instances: Instance[] = [];
  // One after the other: the first one runs the migrations.
  for (let i = 0; i < count; i++) {
    const redis = await proxyInFront(process.env.TEST_REDIS_URL!, 6379);
    t.teardown(() => redis.proxy.close());
    const env: Record<string, string> = { REDIS_URL: redis.url.href, REDIS_KEY_PREFIX: prefix };
    let databaseProxy: FaultProxy | undefined;
    if (proxyDatabase) {
      const db = await proxyInFront(database.env.DATABASE_URL!, 5432);
      databaseProxy = db.proxy;
      // Registered before the server's own teardown, so it runs first: the server closes with its database back.
      t.teardown(() => db.proxy.restore());
      Object.assign(env, { DATABASE_URL: db.url.href, DATABASE_TIMEOUT: '1s' });
    }
    const server = await startServer(t, { ...opts, database, env: { ...env, ...opts.env } });
    if (databaseProxy) t.teardown(() => databaseProxy?.close());
    instances.push(Object.assign(server, { redisProxy: redis.proxy, ...(databaseProxy ? { databaseProxy } : {}) }));
  }
  return instances;
}
