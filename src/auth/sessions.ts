import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/types.js';

/** Where a login came from, kept so the user can recognise it in their list of logins. */
export interface LoginOrigin {
  userAgent?: string;
  ip?: string;
}

/** One login as its owner sees it. */
export interface SessionInfo {
  sid: string;
  createdAt: Date;
  lastUsedAt: Date;
  userAgent: string | null;
  ip: string | null;
}

/** Told of every login that ends (its access tokens must stop working and its sockets close). */
export type SessionsEnded = (sids: string[]) => void;

/** The user agent is the client's to choose: keep a bounded prefix. */
const USER_AGENT_MAX = 256;

/**
 * Logins (refresh-token families). A login ends on logout, on the reuse of a rotated refresh token,
 * on "log out everywhere" and when its owner ends it from the list; `onEnded` hears about each.
 */
export class Sessions {
  /** Set by the sessions plugin: reaches the revocation set, other instances and open sockets. */
  onEnded: SessionsEnded = () => {};

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async start(db: Kysely<Database>, sid: string, userId: string, expiresAt: Date, origin: LoginOrigin): Promise<void> {
    const now = this.clock.now();
    await db
      .insertInto('sessions')
      .values({
        id: sid,
        user_id: userId,
        created_at: now,
        last_used_at: now,
        expires_at: expiresAt,
        user_agent: origin.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
        ip: origin.ip ?? null,
      })
      .execute();
  }

  /** A refresh: the login is in use from this address, and lives until its newest refresh token expires. */
  async touch(db: Kysely<Database>, sid: string, expiresAt: Date, origin: LoginOrigin): Promise<void> {
    await db
      .updateTable('sessions')
      .set({ last_used_at: this.clock.now(), expires_at: expiresAt, ...(origin.ip ? { ip: origin.ip } : {}) })
      .where('id', '=', sid)
      .execute();
  }

  /** The user's logins that are still alive, most recently used first. */
  async list(userId: string): Promise<SessionInfo[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .select(['id', 'created_at', 'last_used_at', 'user_agent', 'ip'])
      .where('user_id', '=', userId)
      .where('ended_at', 'is', null)
      .where('expires_at', '>', this.clock.now())
      .orderBy('last_used_at', 'desc')
      .execute();
    return rows.map((r) => ({ sid: r.id, createdAt: r.created_at, lastUsedAt: r.last_used_at, userAgent: r.user_agent, ip: r.ip }));
  }

  /** Ends one login and revokes its refresh tokens. False when the user has no such login. */
  async end(sid: string, userId?: string): Promise<boolean> {
    const owned = await this.db
      .selectFrom('sessions')
      .select('id')
      .where('id', '=', sid)
      .$if(userId !== undefined, (q) => q.where('user_id', '=', userId!))
      .executeTakeFirst();
    if (!owned) return false;
    await this.endWhere([sid]);
    return true;
  }

  /** "Log out everywhere": every live login of the user. */
  async endAll(userId: string): Promise<void> {
    const rows = await this.db.selectFrom('sessions').select('id').where('user_id', '=', userId).where('ended_at', 'is', null).execute();
    await this.endWhere(rows.map((r) => r.id));
  }

  private async endWhere(sids: string[]): Promise<void> {
    if (sids.length === 0) return;
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('sessions').set({ ended_at: now }).where('id', 'in', sids).where('ended_at', 'is', null).execute();
      await trx.updateTable('refresh_tokens').set({ revoked_at: now }).where('family_id', 'in', sids).where('revoked_at', 'is', null).execute();
    });
    this.onEnded(sids);
  }

  /** Logins ended after `since` whose access tokens may still be unexpired: what the revocation set must hold. */
  async endedSince(since: Date): Promise<Array<{ sid: string; endedAt: Date }>> {
    const rows = await this.db.selectFrom('sessions').select(['id', 'ended_at']).where('ended_at', '>', since).execute();
    return rows.map((r) => ({ sid: r.id, endedAt: r.ended_at! }));
  }
}
