import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, RoomAccessMode, RoomRow } from '../db/types.js';
import type { Drawing } from './drawing.js';
import { drawingFromRow } from './drawing-row.js';

/** A room as the REST API and the socket describe it. */
export interface RoomInfo {
  roomId: string;
  slug: string | null;
  adminId: string;
  access: RoomAccessMode;
  createdAt: string;
}

const COLUMNS = ['id', 'slug', 'admin_id', 'access', 'created_at'] as const;

export function roomInfo(row: Pick<RoomRow, (typeof COLUMNS)[number]>): RoomInfo {
  return { roomId: row.id, slug: row.slug, adminId: row.admin_id, access: row.access, createdAt: new Date(row.created_at).toISOString() };
}

/** 128 random bits, URL-safe: knowing a room's id is what lets someone join it. */
export function newRoomId(): string {
  return randomBytes(16).toString('base64url');
}

export class SlugTakenError extends Error {
  constructor(readonly slug: string) {
    super(`The slug "${slug}" is already taken; choose another.`);
  }
}

/** Reads and creates rooms; drawings are written only through the DrawingWriter. */
export class RoomStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(adminId: string, slug: string | null, access: RoomAccessMode = 'open'): Promise<RoomInfo> {
    const row = await this.db
      .insertInto('rooms')
      .values({ id: newRoomId(), slug, admin_id: adminId, access, created_at: this.clock.now() })
      .onConflict((oc) => oc.column('slug').doNothing())
      .returning(COLUMNS)
      .executeTakeFirst();
    if (!row) throw new SlugTakenError(slug ?? '');
    return roomInfo(row);
  }

  async findById(roomId: string): Promise<RoomInfo | undefined> {
    const row = await this.db.selectFrom('rooms').select(COLUMNS).where('id', '=', roomId).executeTakeFirst();
    return row && roomInfo(row);
  }

  /** By id first, so a slug can never shadow another room's id. */
  async find(idOrSlug: string): Promise<RoomInfo | undefined> {
    return (
      (await this.findById(idOrSlug)) ??
      (await this.db
        .selectFrom('rooms')
        .select(COLUMNS)
        .where('slug', '=', idOrSlug)
        .executeTakeFirst()
        .then((row) => row && roomInfo(row)))
    );
  }

  async latestSeq(roomId: string): Promise<number> {
    const row = await this.db.selectFrom('rooms').select('seq').where('id', '=', roomId).executeTakeFirst();
    return row?.seq ?? 0;
  }

  /** Several rooms' latest seqs in one query (rooms that do not exist are left out). */
  async heads(roomIds: string[]): Promise<Map<string, number>> {
    if (roomIds.length === 0) return new Map();
    const rows = await this.db.selectFrom('rooms').select(['id', 'seq']).where('id', 'in', roomIds).execute();
    return new Map(rows.map((r) => [r.id, r.seq]));
  }

  /** One page of a room's drawings in seq order, after `after`; `nextCursor` is null on the last page. */
  async drawingsPage(roomId: string, after: number, limit: number): Promise<{ drawings: Drawing[]; nextCursor: number | null }> {
    // One more than asked tells whether another page exists.
    const rows = await this.drawings(roomId, after, limit + 1);
    const drawings = rows.slice(0, limit);
    return { drawings, nextCursor: rows.length > limit ? drawings[drawings.length - 1]!.seq : null };
  }

  /** Live drawings with seq in (after, upTo], oldest first, with their authors' names. */
  async drawings(roomId: string, after: number, limit: number, upTo?: number): Promise<Drawing[]> {
    let q = this.db
      .selectFrom('drawings')
      .leftJoin('users', 'users.id', 'drawings.user_id')
      .selectAll('drawings')
      .select('users.name as user_name')
      .where('drawings.room_id', '=', roomId)
      .where('drawings.seq', '>', after);
    if (upTo !== undefined) q = q.where('drawings.seq', '<=', upTo);
    const rows = await q.orderBy('drawings.seq').limit(limit).execute();
    return rows.map((row) => drawingFromRow(row, row.user_name ?? ''));
  }
}
