import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, User } from '../db/types.js';
import { AuthError } from './auth-error.js';
import { randomToken, sha256Hex } from './secrets.js';
import type { LoginOrigin, Sessions } from './sessions.js';

/** The claims of an access token, as signed. */
export interface AccessClaims {
  sub: string;
  email: string;
  typ: 'access';
  jti: string;
  /** The login (refresh-token family) the token came from: ending the login refuses the token. */
  sid: string;
}

export interface TokenPair {
  access: string;
  refresh: string;
}

export interface TokenPolicy {
  accessTtlMs: number;
  refreshTtlMs: number;
}

/** Signs access claims as an HS256 JWT with the given lifetime (plugins/jwt.ts provides it). */
export type AccessSigner = (claims: AccessClaims, ttlSeconds: number) => string;

const reused = () => new AuthError('refresh_token_reused', 'This refresh token was already used; every session it belonged to is now logged out');
const invalid = () => new AuthError('invalid_refresh_token', 'The refresh token is invalid or expired; log in again');

/**
 * Access JWTs and opaque refresh tokens. A refresh token is stored only as its SHA-256 (it has 256
 * random bits, so no key is needed), belongs to a family, and is rotated on every use; showing an
 * already-rotated token is taken as theft and revokes the whole family.
 */
export class TokenService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly sign: AccessSigner,
    readonly policy: TokenPolicy,
    private readonly sessions: Sessions,
  ) {}

  private accessToken(user: Pick<User, 'id' | 'email'>, sid: string): string {
    return this.sign({ sub: user.id, email: user.email, typ: 'access', jti: randomUUID(), sid }, Math.floor(this.policy.accessTtlMs / 1000));
  }

  /** A new login: a fresh family, which is also the login's `sid`. */
  async issue(user: Pick<User, 'id' | 'email'>, origin: LoginOrigin = {}): Promise<TokenPair> {
    const sid = randomUUID();
    const refresh = await this.db.transaction().execute(async (trx) => {
      await this.sessions.start(trx, sid, user.id, this.refreshExpiry(), origin);
      return this.storeRefresh(trx, user.id, sid);
    });
    return { access: this.accessToken(user, sid), refresh };
  }

  private refreshExpiry(): Date {
    return new Date(this.clock.now().getTime() + this.policy.refreshTtlMs);
  }

  private async storeRefresh(db: Kysely<Database>, userId: string, familyId: string): Promise<string> {
    const token = randomToken(32);
    await db
      .insertInto('refresh_tokens')
      .values({
        user_id: userId,
        family_id: familyId,
        token_hash: sha256Hex(token),
        created_at: this.clock.now(),
        expires_at: this.refreshExpiry(),
      })
      .execute();
    return token;
  }

  /** Spends a refresh token and returns its successor with a new access token. */
  async rotate(token: string, origin: LoginOrigin = {}): Promise<TokenPair> {
    const now = this.clock.now();
    const row = await this.db
      .selectFrom('refresh_tokens')
      .innerJoin('users', 'users.id', 'refresh_tokens.user_id')
      .select(['refresh_tokens.id', 'family_id', 'user_id', 'expires_at', 'rotated_at', 'revoked_at', 'users.email'])
      .where('token_hash', '=', sha256Hex(token))
      .executeTakeFirst();
    if (!row || row.revoked_at) throw invalid();
    if (row.rotated_at) {
      await this.revokeFamily(row.family_id);
      throw reused();
    }
    if (row.expires_at.getTime() <= now.getTime()) throw invalid();
    const pair = await this.db.transaction().execute(async (trx) => {
      const spent = await trx
        .updateTable('refresh_tokens')
        .set({ rotated_at: now })
        .where('id', '=', row.id)
        .where('rotated_at', 'is', null)
        .where('revoked_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!spent) return null;
      const refresh = await this.storeRefresh(trx, row.user_id, row.family_id);
      await this.sessions.touch(trx, row.family_id, this.refreshExpiry(), origin);
      return { access: this.accessToken({ id: row.user_id, email: row.email }, row.family_id), refresh };
    });
    if (!pair) {
      // Another request rotated it first: the same token was presented twice.
      await this.revokeFamily(row.family_id);
      throw reused();
    }
    return pair;
  }

  /** Logout: revokes the token's whole family. Unknown tokens are a 401. */
  async revoke(token: string): Promise<void> {
    const row = await this.db.selectFrom('refresh_tokens').select(['family_id']).where('token_hash', '=', sha256Hex(token)).executeTakeFirst();
    if (!row) throw invalid();
    await this.revokeFamily(row.family_id);
  }

  /** The family is the login: ending it also refuses its access tokens and closes its sockets. */
  private async revokeFamily(familyId: string): Promise<void> {
    await this.sessions.end(familyId);
  }
}
