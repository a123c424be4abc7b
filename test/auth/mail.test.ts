import t from 'tap';
import { request } from '../helpers/http.js';
import { startFakeSmtp } from '../helpers/fake-smtp.js';
import { startServer } from '../helpers/server.js';

t.test('SMTP transport sends a plain-text and an HTML body and logs no code', async (t) => {
  const smtp = await startFakeSmtp();
  t.teardown(() => smtp.close());
  const server = await startServer(t, { env: { MAIL_TRANSPORT: 'smtp', SMTP_URL: smtp.url, MAIL_FROM: 'Inkwell <login@inkwell.test>' } });
  const arrived = smtp.waitForMail();
  const res = await request(server, 'POST', '/api/v1/auth/generate-otp/', { body: { email: 'Mailee@Example.com' } });
  t.equal(res.status, 200);
  const mail = await arrived;
  t.equal(mail.from, 'login@inkwell.test');
  t.same(mail.to, ['mailee@example.com']);
  t.match(mail.data, /Content-Type: text\/plain/i);
  t.match(mail.data, /Content-Type: text\/html/i);
  const code = /login code is (\d{6})/.exec(mail.data.replace(/=\r\n/g, ''))?.[1];
  t.ok(code, 'the mail carries the code');
  t.notMatch(server.logs.text(), new RegExp(code!), 'the code is not in the log');
  const ok = await request(server, 'POST', '/api/v1/auth/verify-otp/', { body: { email: 'mailee@example.com', otp_code: code } });
  t.equal(ok.status, 200, 'the mailed code logs in');
});

t.test('a mail server that is down gives a 502 and does not hold the address', async (t) => {
  const smtp = await startFakeSmtp();
  const url = smtp.url;
  await smtp.close();
  const server = await startServer(t, { env: { MAIL_TRANSPORT: 'smtp', SMTP_URL: url, OTP_COOLDOWN: '60s' } });
  const res = await request(server, 'POST', '/api/v1/auth/generate-otp/', { body: { email: 'down@example.com' } });
  t.equal(res.status, 502);
  t.equal(res.body.code, 'mail_failed');
  const again = await request(server, 'POST', '/api/v1/auth/generate-otp/', { body: { email: 'down@example.com' } });
  t.equal(again.status, 502, 'no cooldown for a code nobody received');
});
