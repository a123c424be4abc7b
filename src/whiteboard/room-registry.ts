import type { Participant } from './participant.js';
import { Room, type RoomDeps } from './room.js';

/**
 * The rooms active on this process: a room object exists while at least one local socket is in
 * it, and is loaded once however many sockets join at the same moment.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  private readonly loading = new Map<string, Promise<Room | null>>();

  constructor(private readonly deps: RoomDeps) {}

  get activeRooms(): number {
    return this.rooms.size;
  }

  /** Seats the socket in the room; null when there is no such room. */
  async join(roomId: string, p: Participant): Promise<Room | null> {
    for (;;) {
      const room = await this.open(roomId);
      if (!room) return null;
      // Released while we waited (its last socket left): load it afresh.
      if (room.isDisposed) continue;
      room.join(p);
      return room;
    }
  }

  async leave(room: Room, p: Participant): Promise<boolean> {
    const was = await room.leave(p);
    if (room.isEmpty && !room.isDisposed && this.rooms.get(room.id) === room) {
      this.rooms.delete(room.id);
      room.dispose();
    }
    return was;
  }

  private open(roomId: string): Promise<Room | null> {
    const active = this.rooms.get(roomId);
    if (active) return Promise.resolve(active);
    let loading = this.loading.get(roomId);
    if (!loading) {
      loading = this.deps.store
        .findById(roomId)
        .then((info) => {
          if (!info) return null;
          const room = this.rooms.get(roomId) ?? new Room(info, this.deps);
          this.rooms.set(roomId, room);
          return room;
        })
        .finally(() => this.loading.delete(roomId));
      this.loading.set(roomId, loading);
    }
    return loading;
  }
}
