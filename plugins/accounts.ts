import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { Accounts } from '../src/auth/accounts.js';
import { Login } from '../src/auth/login.js';
import { OtpService } from '../src/auth/otp-service.js';
import { Sessions } from '../src/auth/sessions.js';
import { TokenService } from '../src/auth/token-service.js';
import type { Clock } from '../src/clock.js';
import { AppError } from './errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    clock: Clock;
    accounts: Accounts;
    tokens: TokenService;
    sessions: Sessions;
    login: Login;
    /** onRequest hook of every REST route that needs a Bearer access token of an existing account. */
    authenticate(req: FastifyRequest): Promise<void>;
  }
}

/** The account services, built once from the database, the JWT signer, the mailer and the clock. */
export default fp(
  async (app) => {
    const { accessTtlMs, refreshTtlMs, otp: otpSettings } = app.settings.auth;
    const accounts = new Accounts(app.db, app.clock);
    const sessions = new Sessions(app.db, app.clock);
    const tokens = new TokenService(app.db, app.clock, app.signAccess, { accessTtlMs, refreshTtlMs }, sessions);
    const otp = new OtpService(app.db, app.clock, app.otpHashKey, app.mailer, {
      ttlMs: otpSettings.ttlMs,
      maxAttempts: otpSettings.maxAttempts,
      cooldownMs: otpSettings.cooldownMs,
      perAddressHourly: otpSettings.perAddressHourly,
    });
    app.decorate('accounts', accounts);
    app.decorate('tokens', tokens);
    app.decorate('sessions', sessions);
    app.decorate('login', new Login(otp, accounts, tokens));
    app.decorate('authenticate', async (req: FastifyRequest) => {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (!m) throw new AppError(401, 'unauthorized', 'Send an access token as "Authorization: Bearer <token>"');
      const user = await app.verifyAccessToken(m[1]);
      // A valid token of an account that is gone (another database, a deleted user) is refused like a forged one.
      if (!(await accounts.findById(user.id))) throw new AppError(401, 'unauthorized', 'This account no longer exists; log in again');
      req.user = user;
    });
  },
  { name: 'accounts', dependencies: ['db', 'jwt', 'mailer'] },
);
