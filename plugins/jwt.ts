import fp from 'fastify-plugin';
import fastifyJwt from '@fastify/jwt';
import { resolveJwtSecret } from '../src/auth/jwt-secret.js';
import { deriveKey } from '../src/auth/secrets.js';
import type { AccessClaims, AccessSigner } from '../src/auth/token-service.js';
import { AppError } from '../src/errors.js';

/** Who is calling, from a verified access token. */
export interface AuthUser {
  id: string;
  email: string;
  /** The login this token belongs to, when the token names one. */
  sid?: string;
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
    /** Key for one-time-code HMACs, derived from the JWT secret. */
    otpHashKey: Buffer;
  }
}

const unauthorized = (why: string) => new AppError(401, 'unauthorized', why);

/** Only an HS256 token of type "access" with a subject passes; refresh tokens are opaque and never do. */
function toUser(claims: unknown): AuthUser {
  const c = claims as Partial<AccessClaims> | null;
  if (!c || c.typ !== 'access' || typeof c.sub !== 'string' || typeof c.email !== 'string') {
    throw unauthorized('This is not an access token');
  }
  const sid = (c as { sid?: unknown }).sid;
  return { id: c.sub, email: c.email, ...(typeof sid === 'string' ? { sid } : {}) };
}

export default fp(
  async (app) => {
    const { secret, source, generatedAt } = resolveJwtSecret(app.config.JWT_SECRET, app.config.PGLITE_DIR);
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
      return toUser(claims);
    });
  },
  { name: 'jwt', dependencies: ['env'] },
);
