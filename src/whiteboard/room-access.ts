import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { DomainError } from '../errors.js';
import type { Database, MemberRole } from '../db/types.js';
import type { Role } from './protocol.js';
import type { RoomBus } from './room-bus.js';
import { roomInfo, type RoomInfo } from './room-store.js';

/** Why a user may not enter a room, as a sentence for the `forbidden` error. */
export type Entry = { role: Role } | { refused: string };

/** A membership change the room's admin asked for and that cannot be made. */
export type MemberErrorCode = 'user_not_found' | 'admin_role_fixed';
export class MemberError extends DomainError<MemberErrorCode> {}

export interface RoomWithRole extends RoomInfo {
  role: Role;
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Who may enter a room and with which role: the admin (its creator), members the admin added,
 * holders of a share link (who become members with the link's role) and, in an open room, any
 * signed-in user as an editor. Changes reach open sockets on every instance through the room bus.
 */
export class RoomAccess {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly bus: RoomBus,
  ) {}

  async enter(room: RoomInfo, userId: string, share?: string): Promise<Entry> {
    if (room.adminId === userId) return { role: 'admin' };
    const member = await this.db.selectFrom('room_members').select('role').where('room_id', '=', room.roomId).where('user_id', '=', userId).executeTakeFirst();
    if (member) return { role: member.role };
    if (share !== undefined) {
      const link = await this.db.selectFrom('room_links').select('role').where('room_id', '=', room.roomId).where('token_hash', '=', hashOf(share)).executeTakeFirst();
      if (link) {
        // The holder becomes a member, so the room is listed for them and a role change can find them.
        await this.db
          .insertInto('room_members')
          .values({ room_id: room.roomId, user_id: userId, role: link.role, created_at: this.clock.now() })
          .onConflict((oc) => oc.doNothing())
          .execute();
        return { role: link.role };
      }
      if (room.access !== 'open') return { refused: "This share link is not valid for this room (it may have been revoked); ask the room's admin for a new one." };
    }
    if (room.access === 'open') return { role: 'editor' };
    if (room.access === 'link') return { refused: "This room is joined with a share link: send join_room with the link's share token." };
    return { refused: 'This room is private: only users its admin added may join.' };
  }

  /** The role the user has in the room now without a share link (null: they may not enter): what a missed access change is checked against. */
  async roleOf(room: RoomInfo, userId: string): Promise<Role | null> {
    const entry = await this.enter(room, userId);
    return 'role' in entry ? entry.role : null;
  }

  /** A new share link; only its hash is stored, so the token is shown this once. */
  async createLink(roomId: string, role: MemberRole): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.db
      .insertInto('room_links')
      .values({ token_hash: hashOf(token), room_id: roomId, role, created_at: this.clock.now() })
      .execute();
    return token;
  }

  /** True when the link existed. Members who already joined through it stay members. */
  async revokeLink(roomId: string, token: string): Promise<boolean> {
    const result = await this.db.deleteFrom('room_links').where('room_id', '=', roomId).where('token_hash', '=', hashOf(token)).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async setMember(room: RoomInfo, userId: string, role: MemberRole): Promise<void> {
    if (userId === room.adminId) throw new MemberError('admin_role_fixed', "The room's admin keeps every right; their role cannot be changed.");
    const user = await this.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!user) throw new MemberError('user_not_found', `There is no user "${userId}".`);
    await this.db
      .insertInto('room_members')
      .values({ room_id: room.roomId, user_id: userId, role, created_at: this.clock.now() })
      .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ role }))
      .execute();
    this.bus.publishAccess(room.roomId, { userId, role });
  }

  /** Removes the member and takes them out of the room on every open socket (an open room lets them back in). */
  async removeMember(room: RoomInfo, userId: string): Promise<void> {
    if (userId === room.adminId) throw new MemberError('admin_role_fixed', "The room's admin cannot be removed from their own room.");
    await this.db.deleteFrom('room_members').where('room_id', '=', room.roomId).where('user_id', '=', userId).execute();
    this.bus.publishAccess(room.roomId, { userId, role: null });
  }

  /** Rooms the user administers or is a member of, newest first. */
  async roomsOf(userId: string): Promise<RoomWithRole[]> {
    const rows = await this.db
      .selectFrom('rooms')
      .leftJoin('room_members', (join) => join.onRef('room_members.room_id', '=', 'rooms.id').on('room_members.user_id', '=', userId))
      .select(['rooms.id', 'rooms.slug', 'rooms.admin_id', 'rooms.access', 'rooms.created_at', 'room_members.role'])
      .where((eb) => eb.or([eb('rooms.admin_id', '=', userId), eb('room_members.user_id', '=', userId)]))
      .orderBy('rooms.created_at', 'desc')
      .orderBy('rooms.id')
      .limit(1000)
      .execute();
    return rows.map((r) => ({ ...roomInfo(r), role: r.admin_id === userId ? 'admin' : (r.role ?? 'viewer') }));
  }
}
