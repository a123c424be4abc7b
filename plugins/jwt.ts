import fp from 'fastify-plugin';
import fastifyJwt from '@fastify/jwt';
import { EndedSessions } from '../src/auth/ended-sessions.js';
import { resolveJwtSecret } from '../src/auth/jwt-secret.js';
import { deriveKey } from '../src/auth/secrets.js';
import type { AccessClaims, AccessSigner } from '../src/auth/token-service.js';
import { AppError } from './errors.js';

/** Who is calling, from a verified access token. */
export interface AuthUser {
  id: string;
  email: string;
  /** The login the token belongs to. */
  sid: string;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims;
    user: AuthUser;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Verifies an access token from any transport (socket query string, header). */
    verifyAccessToken(token: string | undefined): Promise<AuthUser>;
    signAccess: AccessSigner;
    /** Logins that ended while their access tokens are unexpired; checked on every token (plugins/sessions.ts fills it). */
    endedSessions: EndedSessions;
    /** Key for one-time-code HMACs, derived from the JWT secret. */
    otpHashKey: Buffer;
  }
}

const unauthorized = (why: string) => new AppError(401, 'unauthorized', why);

/** Only an HS256 token of type "access" with a subject passes; refresh tokens are opaque and never do. */
function toUser(claims: unknown): AuthUser {
  const c = claims as Partial<AccessClaims> | null;
  if (c?.typ !== 'access' || typeof c.sub !== 'string' || typeof c.email !== 'string') {
    throw unauthorized('This is not an access token');
  }
  // A token from before logins had ids could not be revoked by a logout: refresh it for one that can.
  if (typeof c.sid !== 'string') throw unauthorized('This access token names no login; refresh it or sign in again');
  return { id: c.sub, email: c.email, sid: c.sid };
}

export default fp(
  async (app) => {
    const { secret, source, generatedAt } = resolveJwtSecret(app.settings.auth.jwtSecret, app.settings.database.pgliteDir);
    if (source !== 'config') {
      app.log.warn(
        { secretFile: generatedAt },
        source === 'file'
          ? 'JWT_SECRET is not set: using a generated secret kept beside the embedded database (set JWT_SECRET in production)'
          : 'JWT_SECRET is not set: using a random in-memory secret; tokens will not survive a restart',
      );
    }
    await app.register(fastifyJwt, {
      secret,
      sign: { algorithm: 'HS256' },
      verify: { algorithms: ['HS256'] },
      formatUser: toUser,
    });
    const endedSessions = new EndedSessions(app.settings.auth.accessTtlMs, () => app.clock.now().getTime());
    app.decorate('endedSessions', endedSessions);
    app.decorate('otpHashKey', deriveKey(secret, 'otp-code-hmac'));
    app.decorate('signAccess', ((claims, ttlSeconds) => app.jwt.sign(claims, { expiresIn: ttlSeconds })) as AccessSigner);

    app.decorate('verifyAccessToken', async (token: string | undefined) => {
      if (!token) throw unauthorized('An access token is required');
      let claims: unknown;
      try {
        claims = app.jwt.verify(token);
      } catch {
        throw unauthorized('The access token is invalid or expired');
      }
      const user = toUser(claims);
      if (endedSessions.has(user.sid)) throw unauthorized('This login has ended; sign in again');
      return user;
    });
  },
  { name: 'jwt', dependencies: ['env'] },
);
