import { sql, type Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/types.js';
import { AuthError } from './auth-error.js';
import { hmacHex, newOtpCode, sameHex } from './secrets.js';

/** Delivers a login code; the mailer plugin provides the log and SMTP versions. */
export interface LoginCodeMailer {
  sendLoginCode(to: string, code: string, ttlMinutes: number): Promise<void>;
}

export interface OtpPolicy {
  ttlMs: number;
  maxAttempts: number;
  cooldownMs: number;
  perAddressHourly: number;
}

const HOUR = 3_600_000;

/**
 * One-time login codes. Only an HMAC of each code is stored; the newest code for an address is
 * the only one that counts; a code is consumed by a single conditional UPDATE so two verifies of
 * the same code cannot both succeed.
 */
export class OtpService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly hashKey: Buffer,
    private readonly mailer: LoginCodeMailer,
    readonly policy: OtpPolicy,
  ) {}

  private hash(email: string, code: string): string {
    return hmacHex(this.hashKey, `${email}:${code}`);
  }

  /** Issues a new code for a normalised address, enforcing the per-address throttles. */
  async issue(email: string): Promise<void> {
    const now = this.clock.now();
    const code = newOtpCode();
    const id = await this.db.transaction().execute(async (trx) => {
      // Serialise issuers of one address so the cooldown cannot be raced.
      await sql`select pg_advisory_xact_lock(hashtext(${`otp:${email}`}))`.execute(trx);
      const recent = await trx
        .selectFrom('otp_codes')
        .select(['created_at'])
        .where('email', '=', email)
        .where('created_at', '>', new Date(now.getTime() - HOUR))
        .orderBy('created_at', 'desc')
        .execute();
      const latest = recent[0]?.created_at.getTime();
      if (latest !== undefined && now.getTime() - latest < this.policy.cooldownMs) {
        const wait = Math.ceil((latest + this.policy.cooldownMs - now.getTime()) / 1000);
        throw new AuthError('otp_cooldown', `A code was just sent to this address; wait ${wait} s before asking for another`, wait);
      }
      if (recent.length >= this.policy.perAddressHourly) {
        const oldest = recent[this.policy.perAddressHourly - 1]!.created_at.getTime();
        const wait = Math.max(1, Math.ceil((oldest + HOUR - now.getTime()) / 1000));
        throw new AuthError('otp_hourly_limit', `Too many codes for this address this hour; try again in ${Math.ceil(wait / 60)} min`, wait);
      }
      await trx.updateTable('otp_codes').set({ replaced_at: now }).where('email', '=', email).where('replaced_at', 'is', null).where('consumed_at', 'is', null).execute();
      const row = await trx
        .insertInto('otp_codes')
        .values({
          email,
          code_hash: this.hash(email, code),
          created_at: now,
          expires_at: new Date(now.getTime() + this.policy.ttlMs),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    });
    try {
      await this.mailer.sendLoginCode(email, code, this.ttlMinutes);
    } catch (err) {
      // Nobody received this code: forget it so the address is not held by the cooldown.
      await this.db.deleteFrom('otp_codes').where('id', '=', id).execute();
      throw new AuthError('mail_failed', 'The login code could not be sent; try again shortly', undefined, err);
    }
  }

  get ttlMinutes(): number {
    return Math.max(1, Math.round(this.policy.ttlMs / 60_000));
  }

  /**
   * Checks a code and consumes it. Resolves when the code was right and is now spent; otherwise
   * throws a 400 that says whether it was wrong, expired or already used, or a 429 when the code
   * has had too many wrong tries. Says nothing about whether the address has an account.
   */
  async consume(email: string, code: string): Promise<void> {
    const now = this.clock.now();
    const current = await this.db
      .selectFrom('otp_codes')
      .selectAll()
      .where('email', '=', email)
      .where('replaced_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (!current) {
      throw new AuthError('otp_invalid', 'The code is not valid for this address; request a new code');
    }
    if (current.consumed_at) {
      throw new AuthError('otp_used', 'This code has already been used; request a new code');
    }
    if (current.attempts >= this.policy.maxAttempts) {
      throw new AuthError('otp_locked', 'Too many wrong codes; request a new code', 60);
    }
    if (current.expires_at.getTime() <= now.getTime()) {
      throw new AuthError('otp_expired', 'This code has expired; request a new code');
    }
    if (!/^\d{6}$/.test(code) || !sameHex(current.code_hash, this.hash(email, code))) {
      const row = await this.db
        .updateTable('otp_codes')
        .set({ attempts: sql<number>`attempts + 1` })
        .where('id', '=', current.id)
        .where('attempts', '<', this.policy.maxAttempts)
        .returning(['attempts'])
        .executeTakeFirst();
      if (!row) throw new AuthError('otp_locked', 'Too many wrong codes; request a new code', 60);
      const left = this.policy.maxAttempts - row.attempts;
      throw new AuthError(
        'otp_wrong',
        left > 0 ? `The code is incorrect; ${left} attempt${left === 1 ? '' : 's'} left` : 'The code is incorrect and no attempts are left; request a new code',
      );
    }
    const spent = await this.db
      .updateTable('otp_codes')
      .set({ consumed_at: now })
      .where('id', '=', current.id)
      .where('consumed_at', 'is', null)
      .where('replaced_at', 'is', null)
      .where('attempts', '<', this.policy.maxAttempts)
      .returning(['id'])
      .executeTakeFirst();
    if (!spent) throw new AuthError('otp_used', 'This code has already been used; request a new code');
  }
}
