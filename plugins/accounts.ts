import fp from 'fastify-plugin';
import { Accounts } from '../src/auth/accounts.js';
import { Login } from '../src/auth/login.js';
import { OtpService } from '../src/auth/otp-service.js';
import { TokenService } from '../src/auth/token-service.js';
import type { Clock } from '../src/clock.js';
import { durationMs } from '../src/config.js';

declare module 'fastify' {
  interface FastifyInstance {
    clock: Clock;
    accounts: Accounts;
    tokens: TokenService;
    login: Login;
  }
}

/** The account services, built once from the database, the JWT signer, the mailer and the clock. */
export default fp(
  async (app) => {
    const c = app.config;
    const accounts = new Accounts(app.db, app.clock);
    const tokens = new TokenService(app.db, app.clock, app.signAccess, {
      accessTtlMs: durationMs(c.ACCESS_TOKEN_TTL),
      refreshTtlMs: durationMs(c.REFRESH_TOKEN_TTL),
    });
    const otp = new OtpService(app.db, app.clock, app.otpHashKey, app.mailer, {
      ttlMs: durationMs(c.OTP_TTL),
      maxAttempts: c.OTP_MAX_ATTEMPTS,
      cooldownMs: durationMs(c.OTP_COOLDOWN),
      perAddressHourly: c.OTP_PER_ADDRESS_HOURLY,
    });
    app.decorate('accounts', accounts);
    app.decorate('tokens', tokens);
    app.decorate('login', new Login(otp, accounts, tokens));
  },
  { name: 'accounts', dependencies: ['db', 'jwt', 'mailer'] },
);
