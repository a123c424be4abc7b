import { sql, type Kysely } from 'kysely';

// A login (the family of refresh tokens it rotates through) gets a row of its own, so that it can be
// listed, ended, and refused on the hot path by id (the `sid` claim of its access tokens).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .addColumn('ended_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
  await db.schema.createIndex('sessions_ended_at').on('sessions').column('ended_at').execute();

  // Logins made before this migration keep working: one row per existing refresh-token family.
  await sql`
    insert into sessions (id, user_id, created_at, last_used_at, expires_at, ended_at)
    select family_id, min(user_id), min(created_at), max(created_at), max(expires_at),
           case when bool_and(revoked_at is null) then null else max(revoked_at) end
    from refresh_tokens group by family_id`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sessions').execute();
}
