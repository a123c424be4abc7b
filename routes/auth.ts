import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { publicUser } from '../src/auth/accounts.js';
import { AppError } from '../plugins/errors.js';
import {
  GenerateOtpBody,
  GenerateOtpResponse,
  PatchMeBody,
  PublicUser,
  RefreshBody,
  SessionList,
  SessionParams,
  TokenPair,
  VerifyOtpBody,
  VerifyOtpResponse,
} from '../src/schemas/auth.js';
import { authErrors, bearer, ErrorResponse } from '../src/schemas/common.js';

const DAY = 86_400_000;

/** Where a login or refresh came from, shown in the owner's list of logins. */
const originOf = (req: FastifyRequest) => ({ userAgent: req.headers['user-agent'], ip: req.ip });

/** Passwordless login: one-time email codes, access JWTs and rotating refresh tokens. Mounted at /api/v1/auth. */
const auth: FastifyPluginAsyncTypebox = async (app) => {
  const c = app.settings.auth.otp;
  const tags = ['auth'];

  app.post(
    '/generate-otp/',
    {
      schema: { tags, summary: 'E-mail a one-time login code', body: GenerateOtpBody, response: { 200: GenerateOtpResponse, 400: ErrorResponse, 429: ErrorResponse } },
      config: { rateLimit: { max: c.generatePerIpHourly, timeWindow: 3_600_000 } },
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
      config: { rateLimit: { max: c.verifyPerIp, timeWindow: c.verifyWindowMs } },
    },
    async (req) => {
      const { user, tokens } = await app.login.verify(req.body.email, req.body.otp_code, originOf(req));
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
    async (req) => app.tokens.rotate(req.body.refresh, originOf(req)),
  );

  app.post(
    '/logout/',
    { schema: { tags, summary: "Revoke a refresh token's whole family", body: RefreshBody, response: { 204: { type: 'null' }, 400: ErrorResponse, 401: ErrorResponse } } },
    async (req, reply) => {
      await app.tokens.revoke(req.body.refresh);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/logout-all/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'End every login of the caller, this one included', security: bearer, response: { 204: { type: 'null' }, ...authErrors } },
    },
    async (req, reply) => {
      await app.sessions.endAll(req.user.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/sessions/',
    { onRequest: app.authenticate, schema: { tags, summary: "The caller's live logins", security: bearer, response: { 200: SessionList, ...authErrors } } },
    async (req) => {
      const sessions = await app.sessions.list(req.user.id);
      return {
        sessions: sessions.map((s) => ({
          sid: s.sid,
          created_at: s.createdAt.toISOString(),
          last_used_at: s.lastUsedAt.toISOString(),
          user_agent: s.userAgent,
          ip: s.ip,
          current: s.sid === req.user.sid,
        })),
      };
    },
  );

  app.delete(
    '/sessions/:sid/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: "End one of the caller's logins", security: bearer, params: SessionParams, response: { 204: { type: 'null' }, 404: ErrorResponse, ...authErrors } },
    },
    async (req, reply) => {
      // Another user's login answers like an unknown one: ids are not confirmed to strangers.
      if (!(await app.sessions.end(req.params.sid, req.user.id))) throw new AppError(404, 'session_not_found', 'You have no login with this id');
      return reply.code(204).send(null);
    },
  );

  app.get('/me/', { onRequest: app.authenticate, schema: { tags, security: bearer, response: { 200: PublicUser, ...authErrors } } }, async (req) => {
    const user = await app.accounts.findById(req.user.id);
    if (!user) throw new AppError(401, 'unauthorized', 'This account no longer exists');
    return publicUser(user);
  });

  app.patch('/me/', { onRequest: app.authenticate, schema: { tags, security: bearer, body: PatchMeBody, response: { 200: PublicUser, ...authErrors } } }, async (req) => {
    const name = req.body.name.trim();
    if (!name) throw new AppError(400, 'invalid_name', 'name must contain at least one visible character');
    return publicUser(await app.accounts.rename(req.user.id, name));
  });
};

export default auth;
