import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { publicUser } from '../src/auth/accounts.js';
import { durationMs } from '../src/config.js';
import { AppError } from '../src/errors.js';
import {
  GenerateOtpBody,
  GenerateOtpResponse,
  PatchMeBody,
  PublicUser,
  RefreshBody,
  TokenPair,
  VerifyOtpBody,
  VerifyOtpResponse,
} from '../src/schemas/auth.js';
import { authErrors, bearer, ErrorResponse } from '../src/schemas/common.js';

const DAY = 86_400_000;

/** Passwordless login: one-time email codes, access JWTs and rotating refresh tokens. Mounted at /api/v1/auth. */
const auth: FastifyPluginAsyncTypebox = async (app) => {
  const c = app.config;
  const tags = ['auth'];

  app.post(
    '/generate-otp/',
    {
      schema: { tags, summary: 'E-mail a one-time login code', body: GenerateOtpBody, response: { 200: GenerateOtpResponse, 400: ErrorResponse, 429: ErrorResponse } },
      config: { rateLimit: { max: c.OTP_GENERATE_PER_IP_HOURLY, timeWindow: 3_600_000 } },
    },
    async (req) => {
      const { email, expiresInMinutes } = await app.login.requestCode(req.body.email);
      return { message: 'OTP has been sent to your email address', email, expires_in_minutes: expiresInMinutes };
    },
  );

  app.post(
    '/verify-otp/',
    {
      schema: { tags, summary: 'Exchange a code for tokens', body: VerifyOtpBody, response: { 200: VerifyOtpResponse, 400: ErrorResponse, 429: ErrorResponse } },
      config: { rateLimit: { max: c.OTP_VERIFY_PER_IP, timeWindow: durationMs(c.OTP_VERIFY_WINDOW) } },
    },
    async (req) => {
      const { user, tokens } = await app.login.verify(req.body.email, req.body.otp_code);
      return {
        message: 'Login successful',
        user,
        tokens,
        token_info: {
          access_token_expires_in_days: app.tokens.policy.accessTtlMs / DAY,
          refresh_token_expires_in_days: app.tokens.policy.refreshTtlMs / DAY,
        },
      };
    },
  );

  app.post(
    '/token/refresh/',
    { schema: { tags, summary: 'Rotate a refresh token', body: RefreshBody, response: { 200: TokenPair, 400: ErrorResponse, 401: ErrorResponse } } },
    async (req) => app.tokens.rotate(req.body.refresh),
  );

  app.post(
    '/logout/',
    { schema: { tags, summary: "Revoke a refresh token's whole family", body: RefreshBody, response: { 204: { type: 'null' }, 400: ErrorResponse, 401: ErrorResponse } } },
    async (req, reply) => {
      await app.tokens.revoke(req.body.refresh);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me/',
    { onRequest: app.authenticate, schema: { tags, security: bearer, response: { 200: PublicUser, ...authErrors } } },
    async (req) => {
      const user = await app.accounts.findById(req.user.id);
      if (!user) throw new AppError(401, 'unauthorized', 'This account no longer exists');
      return publicUser(user);
    },
  );

  app.patch(
    '/me/',
    { onRequest: app.authenticate, schema: { tags, security: bearer, body: PatchMeBody, response: { 200: PublicUser, ...authErrors } } },
    async (req) => {
      const name = req.body.name.trim();
      if (!name) throw new AppError(400, 'invalid_name', 'name must contain at least one visible character');
      return publicUser(await app.accounts.rename(req.user.id, name));
    },
  );
};

export default auth;
