import { assertNever } from '../assert-never.js';
import { encode, frame, MessageError, parseClientMessage, type ClientMessage } from './protocol.js';
import type { Participant } from './participant.js';
import type { MessageRateLimiter } from './rate-limiter.js';
import type { Room, RoomLog } from './room.js';
import type { RoomRegistry } from './room-registry.js';
import { receivedNow } from './whiteboard-observer.js';

export const MAX_ROOMS_PER_SOCKET = 32;

/** Where every connection's chain of frames starts: one promise for all, not one per socket. */
const SETTLED: Promise<void> = Promise.resolve();

/**
 * One whiteboard socket after authentication: rate-limits, parses and validates each frame and
 * forwards it to the room. Frames are handled in arrival order; only a join waits (for the room to
 * be loaded), so a draw sent right after its join finds the socket in the room, while draws
 * themselves never wait for each other's commit.
 */
export class WhiteboardConnection {
  /** The rooms this socket is in, by id; made on its first join (most sockets sit idle, and each map costs ~250 bytes). */
  private rooms: Map<string, Room> | null = null;
  /** Slug → id of the rooms this socket joined by slug. */
  private slugs: Map<string, string> | null = null;
  private chain: Promise<void> = SETTLED;
  private closed = false;

  constructor(
    readonly participant: Participant,
    private readonly registry: RoomRegistry,
    private readonly limiter: MessageRateLimiter,
    private readonly log: RoomLog,
  ) {}

  /** Every frame the socket receives, text or binary. Never throws: a bad frame never breaks the server. */
  receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    try {
      this.take(data, isBinary);
    } catch (err) {
      this.log.error({ err }, 'whiteboard frame failed');
      this.participant.sendError('internal', 'Something went wrong on our side handling that message; try again.');
    }
  }

  private take(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const p = this.participant;
    const receivedAt = receivedNow();
    // Closing (4029, 1013, shutdown): what is still in flight is not acted on.
    if (this.closed || !p.isOpen) return;
    const admission = this.limiter.admit();
    if (admission === 'disconnect') {
      p.close(4029, 'Too many messages; slow down and reconnect');
      return;
    }
    if (admission === 'limited') {
      p.sendError('rate_limited', 'Too many messages: the limit is a burst then a steady rate per second; this one was dropped.');
      return;
    }
    if (isBinary) {
      p.sendError('binary_not_supported', 'Binary frames are not supported; send JSON as text frames.');
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(text);
    } catch (err) {
      if (err instanceof MessageError) p.sendError(err.code, err.message, { ref: err.ref, roomId: err.roomId });
      else throw err;
      return;
    }
    this.chain = this.chain
      .then(() => this.dispatch(msg, receivedAt))
      .catch((err) => {
        this.log.error({ err }, 'whiteboard message failed');
        p.sendError('internal', 'Something went wrong on our side handling that message; try again.');
      });
  }

  private async dispatch(msg: ClientMessage, receivedAt: number): Promise<void> {
    const p = this.participant;
    if (this.closed) return;
    switch (msg.type) {
      case 'ping':
        p.send(encode(frame('pong', {})));
        return;
      case 'join_room': {
        // Joining again re-sends the room state, or the events after sinceSeq (a client that lost track can resync); access is checked each time.
        if (!this.room(msg.roomId) && (this.rooms?.size ?? 0) >= MAX_ROOMS_PER_SOCKET) {
          p.sendError('forbidden', `A socket may be in at most ${MAX_ROOMS_PER_SOCKET} rooms at once; leave one first.`, { roomId: msg.roomId });
          return;
        }
        const ref = msg.roomId;
        const joined = await this.registry.join(ref, p, { share: msg.share, sinceSeq: msg.sinceSeq }, () => this.revoked(ref));
        if ('refused' in joined) {
          p.sendError(joined.refused, joined.message, { roomId: ref });
          return;
        }
        const { room } = joined;
        if (this.closed) {
          await this.registry.leave(room, p);
          return;
        }
        this.rooms ??= new Map();
        this.rooms.set(room.id, room);
        // Joined by slug: later messages may name the room by its slug too.
        if (ref !== room.id) {
          this.slugs ??= new Map();
          this.slugs.set(ref, room.id);
        }
        return;
      }
      case 'leave_room': {
        const room = this.room(msg.roomId);
        if (!room) {
          p.sendError('not_in_room', `This socket is not in room "${msg.roomId}".`, { roomId: msg.roomId });
          return;
        }
        this.forget(room);
        await this.registry.leave(room, p);
        return;
      }
      case 'draw':
      case 'delete_drawing':
      case 'clear_canvas':
      case 'clear_room':
      case 'ai_generate_image':
      case 'cursor': {
        const room = this.room(msg.roomId);
        if (!room) {
          const ref = msg.type === 'draw' ? msg.clientRef : undefined;
          p.sendError('not_in_room', `Join room "${msg.roomId}" before sending "${msg.type}" to it.`, { roomId: msg.roomId, ref });
          return;
        }
        room.handle(p, msg, receivedAt);
        return;
      }
      default:
        assertNever(msg);
    }
  }

  /** The room this socket is in, named by its id or by the slug it was joined with. */
  private room(ref: string): Room | undefined {
    const id = this.slugs?.get(ref);
    return this.rooms?.get(ref) ?? (id === undefined ? undefined : this.rooms?.get(id));
  }

  private forget(room: Room): void {
    this.rooms?.delete(room.id);
    if (!this.slugs) return;
    for (const [slug, id] of this.slugs) if (id === room.id) this.slugs.delete(slug);
  }

  /** The room's admin removed this user: the room already dropped the seat; leave it properly (presence). */
  private revoked(ref: string): void {
    const room = this.room(ref);
    if (!room) return;
    this.forget(room);
    this.chain = this.chain.then(() => this.registry.leave(room, this.participant).then(() => undefined)).catch((err) => this.log.error({ err }, 'leaving a room failed'));
  }

  /** The socket closed or died: leave every room (member_left for a user's last socket). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    const rooms = [...(this.rooms?.values() ?? [])];
    this.rooms = null;
    for (const room of rooms) await this.registry.leave(room, this.participant).catch((err) => this.log.error({ err }, 'leaving a room failed'));
  }
}
