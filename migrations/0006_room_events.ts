import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The room's broadcast frames by seq, written with the seq itself: what a resuming client or
  // another instance replays. Pruned by age and count; a clear drops what came before it.
  await db.schema
    .createTable('room_events')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    // json, not jsonb: the frame is kept as the exact text that was broadcast.
    .addColumn('frame', 'json', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('room_events_pk', ['room_id', 'seq'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('room_events').execute();
}
