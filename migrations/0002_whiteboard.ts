import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rooms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.unique())
    .addColumn('admin_id', 'text', (c) => c.notNull().references('users.id'))
    // The room's clock: bumped in the same transaction that stores each event.
    .addColumn('seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('drawing_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('drawings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('shape_type', 'text', (c) => c.notNull())
    .addColumn('points', 'jsonb', (c) => c.notNull())
    .addColumn('color', 'text', (c) => c.notNull())
    .addColumn('stroke_width', 'double precision', (c) => c.notNull())
    .addColumn('x', 'double precision')
    .addColumn('y', 'double precision')
    .addColumn('width', 'double precision')
    .addColumn('height', 'double precision')
    .addColumn('radius', 'double precision')
    .addColumn('text', 'text')
    .addColumn('image_url', 'text')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('client_ref', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('drawings_room_seq').on('drawings').columns(['room_id', 'seq']).execute();
  await db.schema.createIndex('drawings_client_ref').on('drawings').columns(['room_id', 'user_id', 'client_ref']).unique().where(sql.ref('client_ref'), 'is not', null).execute();

  await db.schema
    .createTable('images')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.references('rooms.id').onDelete('set null'))
    .addColumn('user_id', 'text')
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bytea', (c) => c.notNull())
    .addColumn('prompt', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('images').execute();
  await db.schema.dropTable('drawings').execute();
  await db.schema.dropTable('rooms').execute();
}
