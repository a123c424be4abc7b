import { assertNever } from '../assert-never.js';
import type { ImageStudio } from '../images/image-studio.js';
import { shapeOf } from './drawing.js';
import type { WriteOp } from './write-ops.js';
import { echoOf, type Recorded, type RoomWrites } from './room-writes.js';
import { encode, frame, type Role, type RoomMessage } from './protocol.js';
import { makePicture, type PictureRoom } from './room-pictures.js';
import { sendReplay } from './room-replay.js';
import { sendSnapshot } from './room-snapshot.js';
import { permits, refusal } from './rules.js';
import type { Participant } from './participant.js';
import { type AccessChange, type OutgoingEvent, type RoomBus, type RoomEvent, roomEvent } from './room-bus.js';
import type { RoomInfo, RoomStore } from './room-store.js';
import type { RoomEventLog } from './event-log.js';
import { isConnectionError } from '../db/connection-error.js';
import type { RoomObserver } from './whiteboard-observer.js';

/** The few pino methods a room logs with. */
export interface RoomLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RoomDeps {
  bus: RoomBus;
  /** Stores ordered events and puts them on the bus: here, or through the instance that writes the room. */
  writes: RoomWrites;
  store: RoomStore;
  /** Where a resuming joiner's missed events are read from. */
  eventLog: RoomEventLog;
  /** The user's role in the room as stored (null: may not enter); read when access changes may have been missed. */
  roleOf(room: RoomInfo, userId: string): Promise<Role | null>;
  /** Absent when the server has no image plugin; AI requests then fail politely. */
  images?: ImageStudio;
  log: RoomLog;
  /** Drawings per `room_state` frame (clients expect at most 500). */
  snapshotChunk?: number;
  /** Live events held for a joiner while its snapshot is sent; past this it is closed with 1013. */
  maxPendingEvents?: number;
  observer?: RoomObserver;
}

/** A socket in this room on this process; `pending` holds live events until its snapshot is out. */
interface Seat {
  participant: Participant;
  role: Role;
  /** Tells the socket's connection it was taken out of the room (removed by the admin). */
  revoked: () => void;
  pending: RoomEvent[] | null;
  /** The bytes of the frames in `pending`: they count against the socket's send limit. */
  pendingBytes: number;
}

/**
 * One active room: its local sockets, its presence and its ordered writes. Writes go through the
 * shared group-commit writer; what it stored is published on the bus with its seq, and the bus
 * brings it back to every room object (on every process) to hand to its sockets.
 */
export class Room {
  private readonly seats = new Map<string, Seat>();
  private readonly unsubscribe: () => void;
  private readonly pictures: PictureRoom;
  private disposed = false;

  constructor(
    readonly info: RoomInfo,
    private readonly deps: RoomDeps,
  ) {
    const { images: studio, log } = deps;
    this.pictures = { roomId: info.roomId, studio, log, publish: (event) => this.publish(event), record: (p, op) => this.record(p, op) };
    this.unsubscribe = deps.bus.subscribe(info.roomId, {
      deliver: (event) => this.deliver(event),
      accessChanged: (change) => this.accessChanged(change),
      accessMayHaveChanged: () => void this.recheckAccess(),
    });
  }

  get id(): string {
    return this.info.roomId;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  get isEmpty(): boolean {
    return this.seats.size === 0;
  }

  /**
   * Seats the socket at once (later messages find it in the room); presence and the room follow:
   * the events after `sinceSeq` when the log still holds them all, else the whole state.
   */
  join(p: Participant, role: Role, revoked: () => void, sinceSeq?: number): void {
    const old = this.seats.get(p.connectionId);
    // A join while the previous one's snapshot is still out keeps what that seat collected (its own
    // draw echoes among it); the new snapshot's seq filters what is already in it.
    const held = old?.pending ? { pending: old.pending, pendingBytes: old.pendingBytes } : { pending: [], pendingBytes: 0 };
    const seat: Seat = { participant: p, role, revoked, ...held };
    this.seats.set(p.connectionId, seat);
    void this.welcome(seat, !old, sinceSeq).catch((err) => {
      this.deps.log.error({ err, roomId: this.id }, 'sending the room state failed');
      // Without its snapshot the seat would only collect events: drop it until the client rejoins.
      if (this.seats.get(p.connectionId) === seat) this.seats.delete(p.connectionId);
      p.sendError('internal', 'The room could not be loaded; send join_room again.', { roomId: this.id });
    });
  }

  private async welcome(seat: Seat, announce: boolean, sinceSeq: number | undefined): Promise<void> {
    const p = seat.participant;
    if (announce) {
      const first = await this.deps.bus.addPresence(this.id, p.user, p.connectionId);
      if (first) this.publish({ message: frame('member_joined', { roomId: this.id, user: p.user }), exceptUserId: p.user.id });
    }
    // Read the seq first: every event up to it is committed (and logged), and everything after it
    // reaches this seat through `pending`, so nothing is missed or shown twice.
    const seq = await this.deps.store.latestSeq(this.id);
    const members = await this.deps.bus.members(this.id);
    const snapshot = { roomId: this.id, seq, members, role: seat.role, chunk: this.deps.snapshotChunk ?? 500 };
    const wanted = () => this.seats.get(p.connectionId) === seat && p.isOpen;
    let replayed = false;
    if (sinceSeq !== undefined && sinceSeq <= seq) {
      const outcome = await sendReplay(p, this.deps.eventLog, { ...snapshot, sinceSeq }, wanted);
      if (outcome === 'stopped') return;
      replayed = outcome === 'sent';
    }
    // No resume, or one the log cannot serve (pruned, cleared, or a seq ahead of the room's).
    if (!replayed && !(await sendSnapshot(p, this.deps.store, { ...snapshot, resync: sinceSeq !== undefined }, wanted))) return;
    // Replaced by a later join meanwhile: that seat took over the pending events.
    if (this.seats.get(p.connectionId) !== seat) return;
    const pending = seat.pending ?? [];
    seat.pending = null;
    seat.pendingBytes = 0;
    for (const event of pending) {
      const own = event.origin?.connectionId === p.connectionId;
      // Already sent: a snapshot still owes this socket its own echoes (their clientRef); a replay had every event once.
      if (event.seq !== undefined && event.seq <= seq && (replayed || !own)) continue;
      this.sendTo(p, event);
      this.deps.observer?.delivered(event.type, 1, undefined);
    }
  }

  /** Takes the socket out; true when it was in. The registry drops the room when it empties. */
  async leave(p: Participant): Promise<boolean> {
    const had = this.seats.delete(p.connectionId);
    // Presence is forgotten even for a seat already dropped (a failed snapshot), never leaked.
    const last = await this.deps.bus.removePresence(this.id, p.user.id, p.connectionId);
    if (last) this.publish({ message: frame('member_left', { roomId: this.id, user: p.user }) });
    return had;
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe();
  }

  /** A message from a seated socket: the room's rules first, then the write or the fan-out. */
  handle(p: Participant, msg: RoomMessage, receivedAt?: number): void {
    const seat = this.seats.get(p.connectionId);
    if (!seat) {
      p.sendError('not_in_room', `Join room "${this.id}" before sending "${msg.type}" to it.`, { roomId: this.id, ref: msg.type === 'draw' ? msg.clientRef : undefined });
      return;
    }
    if (!permits(seat.role, msg.type)) {
      p.sendError('forbidden', refusal(seat.role, msg.type), { roomId: this.id, ref: msg.type === 'draw' ? msg.clientRef : undefined });
      return;
    }
    switch (msg.type) {
      case 'draw':
        this.write(
          p,
          { kind: 'draw', roomId: this.id, userId: p.user.id, userName: p.user.name, shape: shapeOf(msg), clientRef: msg.clientRef ?? null },
          msg.clientRef,
          receivedAt,
        );
        return;
      case 'delete_drawing':
        this.write(p, { kind: 'delete', roomId: this.id, userId: p.user.id, role: seat.role, drawingId: msg.drawingId }, undefined, receivedAt);
        return;
      case 'clear_canvas':
      case 'clear_room':
        this.write(p, { kind: 'clear', roomId: this.id, userId: p.user.id }, undefined, receivedAt);
        return;
      case 'cursor':
        this.publish({ message: frame('cursor', { roomId: this.id, userId: p.user.id, x: msg.x, y: msg.y }), volatile: true, exceptUserId: p.user.id });
        return;
      case 'ai_generate_image':
        void makePicture(this.pictures, p, msg);
        return;
      default:
        assertNever(msg);
    }
  }

  private write(p: Participant, op: WriteOp, clientRef?: string, receivedAt?: number): void {
    this.record(p, op, clientRef, receivedAt).then(
      (result) => {
        if (result.kind === 'refused') p.sendError(result.code, result.message, { roomId: this.id, ref: clientRef });
      },
      (err: unknown) => {
        // A database outage is logged once by the writer's outage log, not once per refused write;
        // a write forwarded to another instance was logged there.
        if (!isConnectionError(err) && !(err as { reported?: boolean }).reported) this.deps.log.error({ err, roomId: this.id }, 'storing a room event failed');
        // A socket that left the room hears nothing more of it.
        if (!this.seats.has(p.connectionId)) return;
        p.sendError('internal', 'The server could not store that; try again.', { roomId: this.id, ref: clientRef });
      },
    );
  }

  /**
   * Stores one ordered event, which then reaches every socket through the bus (the sender's own draw
   * with its clientRef); a repeated clientRef is answered to the sender alone.
   */
  private async record(p: Participant, op: WriteOp, clientRef?: string, receivedAt?: number): Promise<Recorded> {
    const result = await this.deps.writes.record(op, {
      connectionId: p.connectionId,
      ...(clientRef !== undefined ? { clientRef } : {}),
      ...(receivedAt !== undefined ? { receivedAt } : {}),
    });
    if (result.kind === 'duplicate') p.send(encode(echoOf(result.frame, clientRef) ?? result.frame));
    return result;
  }

  private publish(event: OutgoingEvent): void {
    this.deps.bus.publish(this.id, roomEvent(event));
  }

  /** The frame's UTF-8 bytes, made once however many sockets it goes to. */
  private readonly encoded = new WeakMap<RoomEvent, Buffer>();
  private bytesOf(event: RoomEvent): Buffer {
    const bytes = this.encoded.get(event) ?? Buffer.from(event.text);
    this.encoded.set(event, bytes);
    return bytes;
  }

  /** From the bus: a role change applies to the next message; a removed member is taken out at once. */
  private accessChanged(change: AccessChange): void {
    for (const [connectionId, seat] of this.seats) {
      if (seat.participant.user.id !== change.userId || seat.role === 'admin') continue;
      if (change.role) {
        seat.role = change.role;
        continue;
      }
      this.seats.delete(connectionId);
      seat.participant.send(encode(frame('access_revoked', { roomId: this.id })));
      seat.revoked();
    }
  }

  /** Every seated user's role read again and applied as a change would be: what was missed while the bus was away. */
  private async recheckAccess(): Promise<void> {
    const users = new Map<string, Role>();
    for (const seat of this.seats.values()) if (seat.role !== 'admin') users.set(seat.participant.user.id, seat.role);
    for (const [userId, role] of users) {
      try {
        const now = await this.deps.roleOf(this.info, userId);
        if (now !== role && now !== 'admin') this.accessChanged({ userId, role: now });
      } catch (err) {
        this.deps.log.warn({ err, roomId: this.id }, 'checking a member’s role again failed; it applies at their next join');
      }
    }
  }

  /** From the bus: hand the event to every local socket that should have it. */
  private deliver(event: RoomEvent): void {
    const max = this.deps.maxPendingEvents ?? 10_000;
    let receivers = 0;
    for (const seat of this.seats.values()) {
      if (event.exceptUserId !== undefined && seat.participant.user.id === event.exceptUserId) continue;
      if (event.echoOnly && seat.participant.connectionId !== event.origin?.connectionId) continue;
      if (seat.pending) {
        if (event.volatile || !seat.participant.isOpen) continue;
        seat.pending.push(event);
        const frame = this.frameFor(seat.participant, event);
        seat.pendingBytes += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
        // Held events count like unsent bytes, so a joiner that stops reading its
        // snapshot is closed with 1013 instead of growing the server's memory.
        if (seat.pending.length > max || seat.participant.overSendLimit(seat.pendingBytes)) {
          seat.pending = [];
          seat.pendingBytes = 0;
          seat.participant.close(1013, 'You are not reading the room state fast enough; reconnect and join again');
        }
        continue;
      }
      this.sendTo(seat.participant, event);
      receivers++;
    }
    // Once per event, however many receive it.
    this.deps.observer?.delivered(event.type, receivers, event.receivedAt);
  }

  private frameFor(p: Participant, event: RoomEvent): string | Buffer {
    return event.origin?.connectionId === p.connectionId ? encode(event.origin.message) : this.bytesOf(event);
  }

  private sendTo(p: Participant, event: RoomEvent): void {
    const frame = this.frameFor(p, event);
    if (event.volatile) p.sendVolatile(frame);
    else p.send(frame);
  }
}
