import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import t from 'tap';
import { ConfigSchema, durationMs, loadConfig, mailTransportOf, trustProxyOf } from '../src/config.js';
import { loadSettings } from '../src/settings.js';
import { repoRoot } from './helpers/process.js';

t.test('.env.example lists every variable with its default', async (t) => {
  const example = parseEnv(readFileSync(join(repoRoot, '.env.example'), 'utf8')) as Record<string, string>;
  const defaults = loadConfig({});
  for (const key of Object.keys(ConfigSchema.properties)) {
    t.ok(key in example, `${key} is documented`);
    t.equal(String(example[key]), String(defaults[key as keyof typeof defaults]), `${key} shows its default`);
  }
  for (const key of Object.keys(example)) t.ok(key in ConfigSchema.properties, `${key} is a real variable`);
});

t.test('configuration parsing', async (t) => {
  const c = loadConfig({ PORT: '8080', OTP_MAX_ATTEMPTS: '3', UNRELATED: 'x' }, { PORT: '8081' });
  t.equal(c.PORT, 8081, 'later sources win and numbers are converted');
  t.equal(c.OTP_MAX_ATTEMPTS, 3);
  t.notOk('UNRELATED' in c, 'unknown variables are dropped');
  t.throws(() => loadConfig({ OTP_MAX_ATTEMPTS: '0' }), /OTP_MAX_ATTEMPTS/);
  t.equal(durationMs('500ms'), 500);
  t.throws(() => durationMs('60', 'X'), /X must be a duration with a unit/, 'a bare number is ambiguous: refused');
  t.equal(durationMs('3d'), 3 * 86_400_000);
  t.throws(() => durationMs('0s', 'X'), /X must be greater than zero/);
  t.equal(mailTransportOf(loadConfig({})), 'log');
  t.equal(mailTransportOf(loadConfig({ NODE_ENV: 'production' })), 'smtp');
  t.throws(() => mailTransportOf(loadConfig({ MAIL_TRANSPORT: 'pigeon' })), /MAIL_TRANSPORT/);
  t.equal(trustProxyOf(loadConfig({})), false);
  t.equal(trustProxyOf(loadConfig({ TRUST_PROXY: 'true' })), true);
  t.equal(trustProxyOf(loadConfig({ TRUST_PROXY: '2' })), 2);
  t.same(trustProxyOf(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.0.0.0/8' })), ['10.0.0.1', '10.0.0.0/8']);
});

t.test('settings: every duration parsed once, into milliseconds, per capability', async (t) => {
  const s = loadSettings({ WS_HEARTBEAT_INTERVAL: '500ms', OTP_VERIFY_WINDOW: '2m', PUBLIC_URL: 'https://draw.example.com/', CORS_ORIGINS: 'https://a.example.com' });
  t.equal(s.sockets.heartbeatMs, 500);
  t.equal(s.auth.otp.verifyWindowMs, 120_000);
  t.equal(s.auth.accessTtlMs, 3 * 86_400_000, 'defaults are parsed too');
  t.equal(s.auth.refreshTtlMs, 10 * 86_400_000);
  t.equal(s.auth.otp.ttlMs, 5 * 60_000);
  t.equal(s.auth.otp.cooldownMs, 60_000);
  t.equal(s.database.timeoutMs, 10_000);
  t.equal(s.ai.timeoutMs, 60_000);
  t.equal(s.images.downloadTimeoutMs, 30_000);
  t.equal(s.http.publicUrl, 'https://draw.example.com', 'no trailing slash to strip later');
  t.same(s.http.corsOrigins, ['https://a.example.com']);
  t.equal(s.mail.transport, 'log');
  t.equal(s.production, false);
  t.throws(
    () => loadSettings({ OTP_TTL: '5', AI_IMAGE_DOWNLOAD_TIMEOUT: '0s' }),
    /^OTP_TTL must be a duration with a unit.*; AI_IMAGE_DOWNLOAD_TIMEOUT must be greater than zero/,
    'every bad duration at once',
  );
});

t.test('variables named after Object.prototype keys are neither settings nor a crash', async (t) => {
  // JSON.parse makes them own keys, as an environment can (`env constructor=x __proto__=y node server.ts`).
  const hostile = JSON.parse('{"constructor":"x","toString":"y","hasOwnProperty":"z","__proto__":{"PORT":"1"},"PORT":"8080"}');
  const c = loadConfig(hostile);
  t.same(
    Object.keys(c).filter((k) => !Object.hasOwn(ConfigSchema.properties, k)),
    [],
    'no key outside the schema is taken',
  );
  t.equal(Object.getPrototypeOf(c), Object.prototype, 'the configuration keeps its prototype');
  t.equal(c.PORT, 8080);
  t.equal(loadSettings(hostile).http.port, 8080);
});

t.test('log redaction of socket URLs', async (t) => {
  const { redactUrl } = await import('../src/logging.js');
  t.equal(redactUrl('/ws'), '/ws');
  t.equal(redactUrl('/ws?room=a'), '/ws?room=a', 'URLs without secrets are left as they are');
  t.equal(redactUrl('/ws?token=abc.def&room=a'), '/ws?token=[redacted]&room=a');
  t.equal(redactUrl('/chat/1/?%74oken=abc'), '/chat/1/?token=[redacted]', 'encoded keys are decoded first');
  t.equal(redactUrl('/x?Refresh=r1&otp_code=123456'), '/x?Refresh=[redacted]&otp_code=[redacted]');
});
