import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { buildApp, type App } from '../../app.js';
import type { Clock } from '../../src/clock.js';
import { LogCapture } from './log-capture.js';
import { pgliteTemplate } from './pglite-template.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';

/** Which database the suite runs on: PGlite in memory, or PostgreSQL when TEST_DATABASE_URL is set. */
export const testDatabase = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';

export interface TestServerOptions {
  env?: Record<string, string | number | undefined>;
  clock?: Clock;
  /** Listen on a loopback port (default true); false for app.inject-only tests. */
  listen?: boolean;
  /** Keep the database between two servers (restart tests): same PGlite dir or PostgreSQL schema. */
  database?: TestDatabase;
}

/** A database that outlives one server, for restart tests. Dropped in the test's teardown. */
export interface TestDatabase {
  env: Record<string, string>;
  schema?: string;
}

export interface TestServer {
  app: App;
  /** http://127.0.0.1:<port> */
  url: string;
  /** ws://127.0.0.1:<port> */
  wsUrl: string;
  port: number;
  logs: LogCapture;
  close(): Promise<void>;
}

function schemaName(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/** A database that two servers in one test can share (PGlite directory or PostgreSQL schema). */
export function persistentDatabase(t: Test): TestDatabase {
  if (process.env.TEST_DATABASE_URL) {
    const schema = schemaName();
    t.teardown(async () => {
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    });
    return { env: { DATABASE_URL: process.env.TEST_DATABASE_URL }, schema };
  }
  const dir = t.testdir({});
  return { env: { PGLITE_DIR: `${dir}/pglite`, DATABASE_URL: '' } };
}

/**
 * Builds the real app with a captured log and (by default) listens on 127.0.0.1:0. Throttles are
 * raised so ordinary tests do not trip them; tests of a throttle set it back explicitly.
 */
export async function startServer(t: Test, opts: TestServerOptions = {}): Promise<TestServer> {
  const logs = new LogCapture();
  const shared = opts.database;
  const schema = shared ? shared.schema : process.env.TEST_DATABASE_URL ? schemaName() : undefined;
  const dbEnv = shared?.env ?? (process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : { PGLITE_DIR: 'memory://', DATABASE_URL: '' });
  const inMemory = !shared && !process.env.TEST_DATABASE_URL;
  const app = await buildApp({
    processEnv: false,
    pgliteTemplate: inMemory ? await pgliteTemplate() : undefined,
    clock: opts.clock,
    logStream: logs,
    dbSchema: schema,
    dropSchemaOnClose: !shared && schema !== undefined,
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      JWT_SECRET: TEST_JWT_SECRET,
      MAIL_TRANSPORT: 'log',
      OTP_COOLDOWN: '1ms',
      OTP_PER_ADDRESS_HOURLY: 10_000,
      OTP_GENERATE_PER_IP_HOURLY: 10_000,
      OTP_VERIFY_PER_IP: 10_000,
      API_RATE_LIMIT_PER_MINUTE: 100_000,
      WS_CONNECTIONS_PER_IP_PER_MINUTE: 10_000,
      ...dbEnv,
      ...opts.env,
    },
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  t.teardown(close);
  let port = 0;
  if (opts.listen !== false) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  } else {
    await app.ready();
  }
  return { app, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, port, logs, close };
}
