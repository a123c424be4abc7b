import fp from 'fastify-plugin';
import nodemailer from 'nodemailer';
import type { LoginCodeMailer } from '../src/auth/otp-service.js';

declare module 'fastify' {
  interface FastifyInstance {
    mailer: LoginCodeMailer;
  }
}

function bodies(code: string, ttlMinutes: number) {
  const text = `Your Inkwell login code is ${code}\n\nIt expires in ${ttlMinutes} minutes and works once. If you did not ask for it, ignore this e-mail.\n`;
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<p>Your Inkwell login code is</p>
<p style="font-size:28px;font-weight:bold;letter-spacing:4px">${code}</p>
<p>It expires in ${ttlMinutes} minutes and works once. If you did not ask for it, ignore this e-mail.</p>
</body></html>`;
  return { text, html };
}

/** Login-code delivery: `log` writes one line (development), `smtp` sends through SMTP_URL. */
export default fp(
  async (app) => {
    const { transport, smtpUrl, from } = app.settings.mail;
    if (transport === 'log') {
      const log = app.log.child({ mail: 'log' });
      app.decorate('mailer', {
        async sendLoginCode(to: string, code: string, ttlMinutes: number) {
          // The one log line allowed to carry a code : development only.
          log.info(`OTP for ${to}: ${code} (expires in ${ttlMinutes} min)`);
        },
      });
      return;
    }
    const smtp = nodemailer.createTransport(smtpUrl);
    app.decorate('mailer', {
      async sendLoginCode(to: string, code: string, ttlMinutes: number) {
        await smtp.sendMail({ from, to, subject: `Your Inkwell login code: ${code}`, ...bodies(code, ttlMinutes) });
      },
    });
    app.addHook('onClose', async () => smtp.close());
  },
  { name: 'mailer', dependencies: ['env'] },
);
