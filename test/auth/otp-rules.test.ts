import t from 'tap';
import { ManualClock } from '../helpers/clock.js';
import { codeFromLog, request } from '../helpers/http.js';
import { startServer, type TestServer } from '../helpers/server.js';

const gen = (s: TestServer, email: string) => request(s, 'POST', '/api/v1/auth/generate-otp/', { body: { email } });
const verify = (s: TestServer, email: string, otp_code: string) => request(s, 'POST', '/api/v1/auth/verify-otp/', { body: { email, otp_code } });

async function issue(s: TestServer, email: string, clock?: ManualClock): Promise<string> {
  clock?.advance(1000); // past the (test-sized) cooldown
  const mark = s.logs.raw.length;
  const res = await gen(s, email);
  if (res.status !== 200) throw new Error(`generate ${res.status} ${JSON.stringify(res.body)}`);
  return codeFromLog(s, email, mark);
}

/** A six-digit code that is not `code`. */
const other = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

t.test('one-time code rules', async (t) => {
  const clock = new ManualClock();
  const server = await startServer(t, { clock });
  const issueCode = (email: string) => issue(server, email, clock);

  t.test('codes are six CSPRNG digits stored only as a keyed hash', async (t) => {
    const code = await issueCode('hash@example.com');
    t.match(code, /^\d{6}$/);
    const rows = await server.app.db.selectFrom('otp_codes').selectAll().where('email', '=', 'hash@example.com').execute();
    t.equal(rows.length, 1);
    t.match(rows[0]!.code_hash, /^[0-9a-f]{64}$/, 'an HMAC-SHA256 digest');
    t.notMatch(JSON.stringify(rows), new RegExp(code), 'the code itself is nowhere in the row');
  });

  t.test('a code expires after OTP_TTL', async (t) => {
    const code = await issueCode('expire@example.com');
    clock.advance(5 * 60_000 + 1000);
    const res = await verify(server, 'expire@example.com', code);
    t.equal(res.status, 400);
    t.match(res.body, { code: 'otp_expired', message: /expired/ });
  });

  t.test('a code works once, even when two verifies race', async (t) => {
    const code = await issueCode('race@example.com');
    const results = await Promise.all([1, 2, 3, 4].map(() => verify(server, 'race@example.com', code)));
    const ok = results.filter((r) => r.status === 200);
    t.equal(ok.length, 1, 'exactly one verify succeeds');
    for (const r of results.filter((r) => r.status !== 200)) t.match(r.body, { statusCode: 400, code: 'otp_used', message: /already been used/ });
    const again = await verify(server, 'race@example.com', code);
    t.match(again.body, { code: 'otp_used' });
  });

  t.test('the newest code replaces older ones', async (t) => {
    const first = await issueCode('newest@example.com');
    clock.advance(1000);
    let second = await issueCode('newest@example.com');
    if (second === first) second = await issueCode('newest@example.com');
    const old = await verify(server, 'newest@example.com', first);
    t.equal(old.status, 400, 'the older code no longer works');
    t.equal(old.body.code, 'otp_wrong');
    const ok = await verify(server, 'newest@example.com', second);
    t.equal(ok.status, 200);
  });

  t.test('five wrong tries kill the code; verify answers 429 until a new code', async (t) => {
    const email = 'brute@example.com';
    const code = await issueCode(email);
    for (let i = 1; i <= 5; i++) {
      const res = await verify(server, email, other(code));
      t.equal(res.status, 400, `wrong try ${i} is a 400`);
      t.equal(res.body.code, 'otp_wrong');
      t.match(res.body.message, i < 5 ? new RegExp(`${5 - i} attempts? left`) : /no attempts are left/);
    }
    const locked = await verify(server, email, code);
    t.equal(locked.status, 429, 'the right code no longer works');
    t.equal(locked.body.code, 'otp_locked');
    t.ok(locked.headers.get('retry-after'));
    const fresh = await issueCode(email);
    const ok = await verify(server, email, fresh);
    t.equal(ok.status, 200, 'a new code works again');
  });

  t.test('verify without any code, or with a malformed one', async (t) => {
    const none = await verify(server, 'never-asked@example.com', '123456');
    t.equal(none.status, 400);
    t.equal(none.body.code, 'otp_invalid');
    await issueCode('malformed@example.com');
    const bad = await verify(server, 'malformed@example.com', 'abcdef');
    t.equal(bad.status, 400);
    t.equal(bad.body.code, 'otp_wrong');
  });

  t.test('messages never reveal whether an address has an account', async (t) => {
    // An existing account and a new address, both with a wrong code: same status, same sentence.
    const known = await issueCode('acct@example.com');
    await verify(server, 'acct@example.com', known);
    const a = await issueCode('acct@example.com');
    const b = await issueCode('fresh-addr@example.com');
    const ra = await verify(server, 'acct@example.com', other(a));
    const rb = await verify(server, 'fresh-addr@example.com', other(b));
    t.equal(ra.status, rb.status);
    t.same(ra.body, rb.body);
  });
});

t.test('per-address throttles: 60 s cooldown and 5 an hour, with Retry-After', async (t) => {
  const clock = new ManualClock();
  const server = await startServer(t, { clock, env: { OTP_COOLDOWN: '60s', OTP_PER_ADDRESS_HOURLY: 5 } });
  const email = 'throttle@example.com';
  t.equal((await gen(server, email)).status, 200);
  const cool = await gen(server, email);
  t.equal(cool.status, 429);
  t.equal(cool.body.code, 'otp_cooldown');
  t.equal(cool.headers.get('retry-after'), '60');
  clock.advance(30_000);
  t.equal((await gen(server, email)).headers.get('retry-after'), '30', 'Retry-After counts down');
  t.equal((await gen(server, 'someone-else@example.com')).status, 200, 'other addresses are unaffected');
  for (let i = 2; i <= 5; i++) {
    clock.advance(61_000);
    t.equal((await gen(server, email)).status, 200, `code ${i} of the hour`);
  }
  clock.advance(61_000);
  const capped = await gen(server, email);
  t.equal(capped.status, 429);
  t.equal(capped.body.code, 'otp_hourly_limit');
  const wait = Number(capped.headers.get('retry-after'));
  t.ok(wait > 0 && wait <= 3600, `Retry-After ${wait} s is within the hour`);
  clock.advance(wait * 1000);
  t.equal((await gen(server, email)).status, 200, 'allowed again once the hour has passed');
});

t.test('per-IP throttles on generate, verify and the whole API', async (t) => {
  const server = await startServer(t, { env: { OTP_GENERATE_PER_IP_HOURLY: 3, OTP_VERIFY_PER_IP: 4, API_RATE_LIMIT_PER_MINUTE: 20 } });
  for (let i = 0; i < 3; i++) t.equal((await gen(server, `ip${i}@example.com`)).status, 200);
  const g = await gen(server, 'ip9@example.com');
  t.equal(g.status, 429, 'the 4th generate from one IP in an hour is refused');
  t.ok(Number(g.headers.get('retry-after')) > 0, 'with Retry-After');
  t.match(g.body, { statusCode: 429, error: 'Too Many Requests', message: String });

  for (let i = 0; i < 4; i++) t.equal((await verify(server, 'ip0@example.com', '000000')).status === 429, false);
  const v = await verify(server, 'ip0@example.com', '000000');
  t.equal(v.status, 429, 'the 5th verify from one IP in the window is refused');
  t.ok(Number(v.headers.get('retry-after')) > 0);

  let last = 0;
  for (let i = 0; i < 25 && last !== 429; i++) last = (await request(server, 'GET', '/api/v1/auth/me/')).status;
  t.equal(last, 429, 'the API-wide per-IP limit applies to other routes');
  t.equal((await request(server, 'GET', '/health')).status, 200, 'health checks are never throttled');
});

t.test('X-Forwarded-For is trusted only with TRUST_PROXY', async (t) => {
  const direct = await startServer(t, { env: { OTP_GENERATE_PER_IP_HOURLY: 1 } });
  const fwd = (n: number) => ({ headers: { 'x-forwarded-for': `203.0.113.${n}` } });
  t.equal((await request(direct, 'POST', '/api/v1/auth/generate-otp/', { body: { email: 'p1@example.com' }, ...fwd(1) })).status, 200);
  t.equal((await request(direct, 'POST', '/api/v1/auth/generate-otp/', { body: { email: 'p2@example.com' }, ...fwd(2) })).status, 429, 'spoofed header ignored');

  const proxied = await startServer(t, { env: { OTP_GENERATE_PER_IP_HOURLY: 1, TRUST_PROXY: 'true' } });
  t.equal((await request(proxied, 'POST', '/api/v1/auth/generate-otp/', { body: { email: 'p1@example.com' }, ...fwd(1) })).status, 200);
  t.equal((await request(proxied, 'POST', '/api/v1/auth/generate-otp/', { body: { email: 'p2@example.com' }, ...fwd(2) })).status, 200, 'each forwarded client has its own budget');
  t.equal((await request(proxied, 'POST', '/api/v1/auth/generate-otp/', { body: { email: 'p3@example.com' }, ...fwd(1) })).status, 429);
});
