import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/types.js';

/**
 * What an image id may look like in a request: ours are 22 URL-safe characters (128 random bits,
 * not guessable from another one); any other plausible id is simply unknown (404), while
 * anything else is refused before it reaches the database (400).
 */
export const IMAGE_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

export function newImageId(): string {
  return randomBytes(16).toString('base64url');
}

export interface StoredPicture {
  id: string;
  contentType: string;
  bytes: Buffer;
  createdAt: Date;
}

export interface NewPicture {
  contentType: string;
  bytes: Buffer;
  prompt: string;
  userId: string;
  roomId: string;
}

/** Generated pictures kept in the database: provider URLs expire, ours must not. */
export class ImageStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async save(picture: NewPicture): Promise<string> {
    const id = newImageId();
    await this.db
      .insertInto('images')
      .values({
        id,
        room_id: picture.roomId,
        user_id: picture.userId,
        content_type: picture.contentType,
        bytes: picture.bytes,
        prompt: picture.prompt,
        created_at: this.clock.now(),
      })
      .execute();
    return id;
  }

  async find(id: string): Promise<StoredPicture | null> {
    const row = await this.db.selectFrom('images').select(['id', 'content_type', 'bytes', 'created_at']).where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    // pg gives a Buffer, PGlite a Uint8Array: one type for the callers.
    const bytes = Buffer.isBuffer(row.bytes) ? row.bytes : Buffer.from(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength);
    return { id: row.id, contentType: row.content_type, bytes, createdAt: row.created_at };
  }
}
