import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import t from 'tap';
import { ConfigSchema, durationMs, loadConfig, mailTransportOf, trustProxyOf } from '../src/config.js';
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

t.test('log redaction of socket URLs', async (t) => {
  const { redactUrl } = await import('../src/logging.js');
  t.equal(redactUrl('/ws'), '/ws');
  t.equal(redactUrl('/ws?room=a'), '/ws?room=a', 'URLs without secrets are left as they are');
  t.equal(redactUrl('/ws?token=abc.def&room=a'), '/ws?token=[redacted]&room=a');
  t.equal(redactUrl('/chat/1/?%74oken=abc'), '/chat/1/?token=[redacted]', 'encoded keys are decoded first');
  t.equal(redactUrl('/x?Refresh=r1&otp_code=123456'), '/x?Refresh=[redacted]&otp_code=[redacted]');
});
