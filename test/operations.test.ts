import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildApp } from '../app.js';
import { ConfigError } from '../src/config.js';
import { login, request } from './helpers/http.js';
import { freePort, runEntry, waitForHttp } from './helpers/process.js';
import { persistentDatabase, startServer } from './helpers/server.js';

t.test('health, readiness and API documentation', async (t) => {
  const server = await startServer(t);
  t.same((await request(server, 'GET', '/health')).body, { status: 'ok' });
  const ready = await request(server, 'GET', '/ready');
  t.equal(ready.status, 200);

  const doc = await request(server, 'GET', '/docs/json');
  t.equal(doc.status, 200);
  t.match(doc.body.openapi, /^3\./);
  for (const path of ['/api/v1/auth/generate-otp/', '/api/v1/auth/verify-otp/', '/api/v1/auth/token/refresh/', '/api/v1/auth/logout/', '/api/v1/auth/me/']) {
    t.ok(doc.body.paths[path], `documents ${path}`);
  }
  t.ok(doc.body.paths['/api/v1/auth/verify-otp/'].post.requestBody, 'request bodies come from the validation schemas');
  const ui = await fetch(`${server.url}/docs/`);
  t.equal(ui.status, 200);
  t.match(await ui.text(), /swagger/i);

  await server.app.db.destroy();
  const down = await request(server, 'GET', '/ready');
  t.equal(down.status, 503, 'not ready once the database stops answering');
  t.same((await request(server, 'GET', '/health')).body, { status: 'ok' }, 'still alive');
});

t.test('credentials never reach the log', async (t) => {
  const server = await startServer(t);
  const s = await login(server, 'secretive@example.com');
  const codeLine = server.logs.raw.find((l) => l.includes('OTP for secretive@example.com'))!;
  const code = /: (\d{6})/.exec(codeLine)![1]!;
  const r = await request(server, 'POST', '/api/v1/auth/token/refresh/', { body: { refresh: s.refresh } });
  await request(server, 'GET', '/api/v1/auth/me/', { token: r.body.access });
  await request(server, 'GET', `/health?token=${s.access}`);
  await request(server, 'GET', `/api/v1/auth/me/?token=${r.body.access}&x=1`);
  await request(server, 'GET', `/health?%74oken=${s.access}`);
  await request(server, 'GET', `/health?TOKEN=${s.access}&refresh=${s.refresh}`);
  await request(server, 'POST', '/api/v1/auth/logout/', { body: { refresh: r.body.refresh } });
  const log = server.logs.text();
  for (const [name, secret] of Object.entries({ access: s.access, refresh: s.refresh, access2: r.body.access, refresh2: r.body.refresh })) {
    t.notOk(log.includes(secret), `${name} token is not logged`);
  }
  t.equal(server.logs.raw.filter((l) => l.includes(code)).length, 1, 'the code appears only in the one mail-transport line');
  t.match(log, /token=\[redacted\]/, 'token query parameters are redacted in request logs');
  t.notMatch(log, /authorization/i, 'no Authorization header is logged');
});

t.test('production refuses unsafe configurations with a one-line reason', async (t) => {
  const base = { NODE_ENV: 'production', PGLITE_DIR: 'memory://', MAIL_TRANSPORT: 'smtp', SMTP_URL: 'smtp://127.0.0.1:1' };
  const refuse = async (env: Record<string, string>, reason: RegExp, name: string) => {
    await t.rejects(buildApp({ processEnv: false, env }), { name: 'ConfigError', message: reason }, name);
  };
  await refuse({ ...base }, /JWT_SECRET/, 'missing JWT_SECRET');
  await refuse({ ...base, JWT_SECRET: 'short-secret' }, /at least 32/, 'short JWT_SECRET');
  await refuse({ ...base, JWT_SECRET: 'x'.repeat(32), MAIL_TRANSPORT: 'log' }, /MAIL_TRANSPORT=log/, 'codes to the log');
  await refuse({ ...base, JWT_SECRET: 'x'.repeat(32), MAIL_TRANSPORT: '', SMTP_URL: '' }, /SMTP_URL/, 'smtp by default, without SMTP_URL');
  await refuse({ PGLITE_DIR: 'memory://', PORT: 'not-a-port' }, /PORT/, 'a malformed variable');
  await refuse({ PGLITE_DIR: 'memory://', OTP_TTL: 'soon' }, /OTP_TTL/, 'a malformed duration');
  t.ok(new ConfigError('x') instanceof Error);

  const proc = runEntry('server.ts', { ...base, PORT: '0' });
  const { code } = await proc.exited;
  t.equal(code, 1, 'the process exits 1');
  const lines = proc.stderr().trim().split('\n');
  t.equal(lines.length, 1, 'with one line');
  t.match(lines[0], /^inkwell: refusing to start: JWT_SECRET must be set/);
});

t.test('development generates a JWT secret once and keeps it beside the database', async (t) => {
  const database = persistentDatabase(t);
  const dir = t.testdir({});
  const env = { JWT_SECRET: '', PGLITE_DIR: database.env.PGLITE_DIR ?? join(dir, 'pglite') };
  const first = await startServer(t, { database, env });
  t.match(first.logs.text(), /JWT_SECRET is not set/, 'with a warning');
  const secretFile = join(env.PGLITE_DIR, '..', 'jwt-secret');
  t.ok(existsSync(secretFile));
  const secret = readFileSync(secretFile, 'utf8').trim();
  t.ok(secret.length >= 32);
  t.notOk(first.logs.text().includes(secret), 'the secret is not logged');
  const s = await login(first, 'restart@example.com');
  await first.close();

  const second = await startServer(t, { database, env });
  const me = await request(second, 'GET', '/api/v1/auth/me/', { token: s.access });
  t.equal(me.status, 200, 'a restart keeps everyone logged in');
  t.equal(me.body.email, 'restart@example.com', 'and the account survived');
});

t.test('the entry point reads .env, serves, and shuts down cleanly on SIGTERM', async (t) => {
  const cwd = t.testdir({});
  const port = await freePort();
  writeFileSync(join(cwd, '.env'), `PORT=${port}\nHOST=127.0.0.1\nPGLITE_DIR=${join(cwd, 'db')}\nLOG_LEVEL=info\n`);
  const proc = runEntry('server.ts', {}, cwd);
  t.teardown(() => {
    proc.child.kill('SIGKILL');
  });
  await waitForHttp(`http://127.0.0.1:${port}/health`, proc);
  t.ok(existsSync(join(cwd, 'db')), 'the embedded database lives where .env says');
  proc.child.kill('SIGTERM');
  const { code } = await proc.exited;
  t.equal(code, 0, 'exit 0 after SIGTERM');
  t.match(proc.stdout(), /shutting down/);
});

t.test('npm run migrate brings a database to the latest schema, once', async (t) => {
  const cwd = t.testdir({});
  const env = { PGLITE_DIR: join(cwd, 'db') };
  const first = runEntry('migrate.ts', env, cwd);
  t.equal((await first.exited).code, 0, first.stderr());
  t.match(first.stdout(), /applied: 0001_accounts, 0002_whiteboard, 0003_tutor/);
  const second = runEntry('migrate.ts', env, cwd);
  t.equal((await second.exited).code, 0);
  t.match(second.stdout(), /already up to date/);
});
