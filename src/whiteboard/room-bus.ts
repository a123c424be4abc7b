import { encode, type Member, type Role, type ServerMessage, type ServerMessageType } from './protocol.js';

export type { Member };

/** One event for a room's sockets, encoded once however many receive it, on however many instances. */
export interface RoomEvent {
  /** The frame's type (what the metrics count). */
  type: ServerMessageType;
  /** The frame every receiver gets: encoded once where the event began, carried as is to the other instances. */
  text: string;
  /** The room's seq for ordered events (draw, delete, clear, AI picture). */
  seq?: number;
  /** Cursor moves: never queued for a joiner, dropped first for a slow receiver. */
  volatile?: boolean;
  /** Not sent to any socket of this user (cursors go to the others only). */
  exceptUserId?: string;
  /** When the server received the client message that caused it (receivedNow()), for the send→deliver time. */
  receivedAt?: number;
  /** The socket that caused the event gets this frame instead (its `clientRef` echoed). */
  origin?: { connectionId: string; message: ServerMessage };
  /** The room already had this event (read back from the log before the sender's own copy came): only `origin` gets it. */
  echoOnly?: boolean;
  /** Stored for another instance's socket (a forwarded write): that instance echoes it to its sender. */
  forwarded?: ForwardTag;
}

/** A write one instance forwarded to the instance that writes the room: whose, and which of its requests. */
export interface ForwardTag {
  instance: string;
  req: number;
}

/** What a room hands to the bus: the frame as a message, encoded here once. */
export type OutgoingEvent = Omit<RoomEvent, 'type' | 'text'> & { message: ServerMessage };

export function roomEvent({ message, ...rest }: OutgoingEvent): RoomEvent {
  return { type: message.type, text: encode(message), ...rest };
}

/** A user's role in a room changed (null: removed); every instance applies it to its open sockets. */
export interface AccessChange {
  userId: string;
  role: Exclude<Role, 'admin'> | null;
}

/** What a room object hears from the bus. */
export interface RoomListener {
  deliver(event: RoomEvent): void;
  accessChanged(change: AccessChange): void;
  /** Access changes may have been missed (the bus was cut off from the other instances): check the seated users' roles again. */
  accessMayHaveChanged(): void;
}

/**
 * Room fan-out and presence. Rooms publish ordered events here after they are stored and
 * deliver what they receive to their local sockets, so a Redis-backed bus can later let several
 * instances share a room without touching the room logic.
 */
export interface RoomBus {
  /** Starts delivering the room's events and access changes to `listener`; returns the unsubscribe function. */
  subscribe(roomId: string, listener: RoomListener): () => void;
  publish(roomId: string, event: RoomEvent): void;
  publishAccess(roomId: string, change: AccessChange): void;
  /**
   * Records one socket of a user in the room; true when it is the user's first (→ member_joined).
   * Resolves only once the room is ready to deliver every event stored from now on (a joiner's snapshot seq is read after it).
   */
  addPresence(roomId: string, member: Member, connectionId: string): Promise<boolean>;
  /** Forgets one socket; true when it was the user's last (→ member_left). */
  removePresence(roomId: string, userId: string, connectionId: string): Promise<boolean>;
  members(roomId: string): Promise<Member[]>;
}

/** The single-process bus: synchronous delivery in publish order. */
export class InProcessRoomBus implements RoomBus {
  private readonly listeners = new Map<string, Set<RoomListener>>();
  private readonly presence = new Map<string, Map<string, { member: Member; connections: Set<string> }>>();

  subscribe(roomId: string, listener: RoomListener): () => void {
    const set = this.listeners.get(roomId) ?? new Set<RoomListener>();
    this.listeners.set(roomId, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(roomId) === set) this.listeners.delete(roomId);
    };
  }

  publish(roomId: string, event: RoomEvent): void {
    const set = this.listeners.get(roomId);
    if (set) for (const listener of set) listener.deliver(event);
  }

  publishAccess(roomId: string, change: AccessChange): void {
    const set = this.listeners.get(roomId);
    if (set) for (const listener of set) listener.accessChanged(change);
  }

  async addPresence(roomId: string, member: Member, connectionId: string): Promise<boolean> {
    const room = this.presence.get(roomId) ?? new Map<string, { member: Member; connections: Set<string> }>();
    this.presence.set(roomId, room);
    const entry = room.get(member.id);
    if (entry) {
      entry.connections.add(connectionId);
      return false;
    }
    room.set(member.id, { member, connections: new Set([connectionId]) });
    return true;
  }

  async removePresence(roomId: string, userId: string, connectionId: string): Promise<boolean> {
    const room = this.presence.get(roomId);
    const entry = room?.get(userId);
    if (!room || !entry?.connections.delete(connectionId)) return false;
    if (entry.connections.size > 0) return false;
    room.delete(userId);
    if (room.size === 0) this.presence.delete(roomId);
    return true;
  }

  async members(roomId: string): Promise<Member[]> {
    return [...(this.presence.get(roomId)?.values() ?? [])].map((e) => e.member);
  }
}
