import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
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
  const redisUrl = new URL(process.env.TEST_REDIS_URL!);
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  const instances: Instance[] = [];
  // One after the other: the first one runs the migrations.
  for (let i = 0; i < count; i++) {
    const redisProxy = await startFaultProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    t.teardown(() => redisProxy.close());
    const viaProxy = new URL(redisUrl);
    viaProxy.hostname = redisProxy.host;
    viaProxy.port = String(redisProxy.port);
    const databaseEnv: Record<string, string> = {};
    let databaseProxy: FaultProxy | undefined;
    if (proxyDatabase) {
      const target = new URL(database.env.DATABASE_URL!);
      databaseProxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
      // Registered before the server's own teardown, so it runs first: the server closes with its database back.
      t.teardown(() => databaseProxy?.restore());
      target.host = `${databaseProxy.host}:${databaseProxy.port}`;
      Object.assign(databaseEnv, { DATABASE_URL: target.href, DATABASE_TIMEOUT: '1s' });
    }
    const server = await startServer(t, { ...opts, database, env: { REDIS_URL: viaProxy.toString(), REDIS_KEY_PREFIX: prefix, ...databaseEnv, ...opts.env } });
    if (databaseProxy) {
      const proxy = databaseProxy;
      t.teardown(() => proxy.close());
    }
    instances.push(Object.assign(server, { redisProxy, ...(databaseProxy ? { databaseProxy } : {}) }));
  }
  return instances;
}
