import { createServer } from 'node:net';
import t from 'tap';
import { buildApp } from '../app.js';
import { freePort, runEntry } from './helpers/process.js';
import { startServer, testDatabase, TEST_JWT_SECRET } from './helpers/server.js';

const dev = { PGLITE_DIR: 'memory://', NODE_ENV: 'development' };

/** The refusal buildApp throws for this environment (it must throw a ConfigError). */
async function refusal(env: Record<string, string>): Promise<string> {
  try {
    const app = await buildApp({ processEnv: false, env });
    await app.close();
  } catch (err) {
    if ((err as Error).name !== 'ConfigError') throw err;
    return (err as Error).message;
  }
  throw new Error(`started with ${JSON.stringify(env)}`);
}

t.test('each bad setting is refused in one line naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ LOG_LEVEL: 'verbose' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "verbose"\)$/],
    [{ WS_HEARTBEAT_INTERVAL: '5' }, /^WS_HEARTBEAT_INTERVAL must be a duration with a unit/],
    [{ SMTP_URL: 'notaurl' }, /^SMTP_URL must be a URL/],
    [{ SMTP_URL: 'http://mail.example.com' }, /^SMTP_URL must start with smtp: or smtps:/],
    [{ NODE_ENV: 'staging' }, /^NODE_ENV must be one of development, production, test/],
    [{ DATABASE_URL: 'mysql://root@localhost/db' }, /^DATABASE_URL must start with postgres: or postgresql:/],
    [{ REDIS_URL: 'redis://127.0.0.1:6379' }, /^REDIS_URL is set but DATABASE_URL is not: several instances need PostgreSQL/],
    [{ METRICS: 'yes please' }, /^METRICS /],
    [{ PORT: 'not-a-port' }, /^PORT /],
  ];
  for (const [env, expected] of cases) {
    const message = await refusal({ ...dev, ...env });
    t.match(message, expected, JSON.stringify(env));
    t.notMatch(message, /\n/, 'one line');
  }
});

t.test('production lists every refusal at once', async (t) => {
  const message = await refusal({ PGLITE_DIR: 'memory://', NODE_ENV: 'production', JWT_SECRET: 'short', LOG_LEVEL: 'info', WS_HEARTBEAT_INTERVAL: '5' });
  t.match(message, /WS_HEARTBEAT_INTERVAL/);
  t.match(message, /SMTP_URL must be set/, 'a missing SMTP_URL ...');
  t.match(message, /JWT_SECRET must be set to at least 32/, '... does not hide a short JWT_SECRET');
  const schema = await refusal({ PGLITE_DIR: 'memory://', NODE_ENV: 'production', LOG_LEVEL: 'verbose', PORT: 'x' });
  t.match(schema, /LOG_LEVEL.*; PORT|PORT.*; LOG_LEVEL/, 'malformed variables are listed together too');
});

t.test('an unreachable database stops the start with one line, exit 1, no password', async (t) => {
  const port = await freePort();
  const proc = runEntry('server.ts', { ...dev, DATABASE_URL: `postgres://inkwell:hunter2-secret@127.0.0.1:${port}/inkwell`, DATABASE_TIMEOUT: '2s', PORT: '0' });
  const { code } = await proc.exited;
  t.equal(code, 1);
  const lines = proc.stderr().trim().split('\n');
  t.equal(lines.length, 1, `one line: ${proc.stderr()}`);
  t.match(lines[0], new RegExp(`^inkwell: refusing to start: DATABASE_URL: PostgreSQL at 127\\.0\\.0\\.1:${port}/inkwell does not answer \\(ECONNREFUSED\\)$`));
  t.notMatch(proc.stderr() + proc.stdout(), /hunter2/, 'the password is not printed');
});

t.test('a port already in use stops the start with one line, exit 1', async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as { port: number }).port;
  const proc = runEntry('server.ts', { ...dev, HOST: '127.0.0.1', PORT: String(port) });
  t.equal((await proc.exited).code, 1);
  const lines = proc.stderr().trim().split('\n');
  t.equal(lines.length, 1, `one line: ${proc.stderr()}`);
  t.match(lines[0], new RegExp(`^inkwell: refusing to start: HOST:PORT 127\\.0\\.0\\.1:${port} is already in use \\(EADDRINUSE\\); set PORT`));
});

t.test('a database that does not exist is named', { skip: testDatabase !== 'postgres' && 'needs PostgreSQL' }, async (t) => {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = '/inkwell_no_such_database';
  const proc = runEntry('server.ts', { ...dev, DATABASE_URL: url.href, PORT: '0' });
  t.equal((await proc.exited).code, 1);
  t.match(proc.stderr().trim(), /^inkwell: refusing to start: DATABASE_URL: the database .*\/inkwell_no_such_database does not exist \(create it first\)$/);
});

t.test('production on the embedded database starts with a warning', { skip: testDatabase !== 'pglite' && 'the embedded database only' }, async (t) => {
  const server = await startServer(t, { env: { NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET, MAIL_TRANSPORT: 'smtp', SMTP_URL: 'smtp://127.0.0.1:1' }, listen: false });
  const warning = server.logs.lines().find((l) => /NODE_ENV=production on the embedded database/.test(String(l.msg)));
  t.equal(warning?.level, 40);
});
