import type { Participant } from './participant.js';
import type { RoomAccess } from './room-access.js';
import { Room, type RoomDeps } from './room.js';

export type JoinResult = { room: Room } | { refused: 'room_not_found' | 'forbidden'; message: string };

/**
 * The rooms active on this process: a room object exists while at least one local socket is in
 * it, and is loaded once however many sockets join at the same moment.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  private readonly loading = new Map<string, Promise<Room | null>>();

  constructor(
    private readonly deps: RoomDeps,
    private readonly access: RoomAccess,
  ) {}

  /** How many rooms have a socket of this process in them (metrics). */
  get activeRooms(): number {
    return this.rooms.size;
  }

  /** Seats the socket in the room named by its id or slug, with the role its user has there (a resume is checked the same). */
  async join(idOrSlug: string, p: Participant, how: { share?: string; sinceSeq?: number }, revoked: () => void): Promise<JoinResult> {
    for (;;) {
      const room = await this.open(idOrSlug);
      if (!room) return { refused: 'room_not_found', message: `There is no room "${idOrSlug}"; create it with POST /api/v1/rooms/ first.` };
      const entry = await this.access.enter(room.info, p.user.id, how.share);
      // Released while we waited (its last socket left): load it afresh.
      if (room.isDisposed) continue;
      if ('refused' in entry) {
        this.releaseIfEmpty(room);
        return { refused: 'forbidden', message: entry.refused };
      }
      room.join(p, entry.role, revoked, how.sinceSeq);
      return { room };
    }
  }

  async leave(room: Room, p: Participant): Promise<boolean> {
    const was = await room.leave(p);
    this.releaseIfEmpty(room);
    return was;
  }

  private releaseIfEmpty(room: Room): void {
    if (room.isEmpty && !room.isDisposed && this.rooms.get(room.id) === room) {
      this.rooms.delete(room.id);
      room.dispose();
    }
  }

  private open(idOrSlug: string): Promise<Room | null> {
    const active = this.rooms.get(idOrSlug);
    if (active) return Promise.resolve(active);
    let loading = this.loading.get(idOrSlug);
    if (!loading) {
      loading = this.deps.store
        .find(idOrSlug)
        .then((info) => {
          if (!info) return null;
          const room = this.rooms.get(info.roomId) ?? new Room(info, this.deps);
          this.rooms.set(info.roomId, room);
          return room;
        })
        .finally(() => this.loading.delete(idOrSlug));
      this.loading.set(idOrSlug, loading);
    }
    return loading;
  }
}
