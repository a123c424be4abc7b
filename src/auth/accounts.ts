import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, User } from '../db/types.js';
import { AuthError } from './auth-error.js';
import { defaultName } from './email.js';

export interface PublicUser {
  id: string;
  email: string;
  name: string;
}

export function publicUser(u: User): PublicUser {
  return { id: u.id, email: u.email, name: u.name };
}

/** Users: created on the first successful login, looked up by id for every authenticated call. */
export class Accounts {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async findById(id: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The account for a verified address, made on first login. Safe against two logins racing. */
  async findOrCreate(email: string, db: Kysely<Database> = this.db): Promise<User> {
    await db
      .insertInto('users')
      .values({ id: randomUUID(), email, name: defaultName(email), created_at: this.clock.now() })
      .onConflict((oc) => oc.column('email').doNothing())
      .execute();
    return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
  }

  async rename(id: string, name: string): Promise<User> {
    const user = await this.db.updateTable('users').set({ name }).where('id', '=', id).returningAll().executeTakeFirst();
    if (!user) throw new AuthError('user_not_found', 'This account no longer exists');
    return user;
  }
}
