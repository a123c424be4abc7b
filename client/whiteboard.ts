import { Emitter } from './emitter.js';
import type { AiGenerating, AiMessage, Drawing, JoinRoomFrame, Member, RoomEvent, ShapeInput, WhiteboardClientFrame, WhiteboardServerFrame } from './protocol.js';
import { Connection, type ConnectionOptions, type ConnectionState } from './connection.js';

export type { ConnectionState } from './connection.js';

/** One joined room as this client knows it: the canvas, the seq it reflects, who is there. */
export interface RoomView {
  roomId: string;
  /** The last seq applied to `drawings` (0 before the first room_state). */
  seq: number;
  drawings: Map<string, Drawing>;
  members: Member[];
  role?: string;
  /** Pictures being generated, by requestId, to show a placeholder where they will land. */
  generating: Map<string, AiGenerating>;
  /** True once the canvas is complete after the last (re)join. */
  synced: boolean;
}

interface RoomInternal extends RoomView {
  share?: string;
  /** A snapshot being assembled from room_state chunks. */
  incoming: Map<string, Drawing> | null;
  /** Live events that arrived while a snapshot was being assembled. */
  held: RoomEvent[];
}

interface PendingDraw {
  frame: Extract<WhiteboardClientFrame, { type: 'draw' }>;
  resolve(drawing: Drawing): void;
  reject(err: Error): void;
}

export class WhiteboardError extends Error {
  override name = 'WhiteboardError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface WhiteboardEvents extends Record<string, unknown> {
  connection: { state: ConnectionState; attempt: number };
  /** The canvas of a room changed (a snapshot, a replay or one live event). */
  changed: { roomId: string };
  /** A (re)join finished: `resumed` when only the missed events were replayed. */
  synced: { roomId: string; resumed: boolean };
  members: { roomId: string; members: Member[] };
  cursor: { roomId: string; userId: string; x: number; y: number };
  generating: AiGenerating;
  ai: AiMessage;
  error: { code: string; message: string; ref?: string; roomId?: string };
  revoked: { roomId: string };
  /** The login behind this socket ended (closed with 4001 and no new token could be had). */
  sessionEnded: { reason: string };
}

export interface WhiteboardOptions extends ConnectionOptions {
  /** ws(s)://host of the server. */
  url: string;
  /** Least time between two cursor frames of a room (default 50 ms). */
  cursorIntervalMs?: number;
  /** An application ping this often detects a dead connection (default 15 s; 0 = off). */
  pingIntervalMs?: number;
}

/**
 * The whiteboard socket: joins rooms, keeps each room's canvas in seq order, draws with retried
 * clientRefs, and reconnects with backoff, resuming every room from the last seq it applied.
 */
export class WhiteboardClient extends Emitter<WhiteboardEvents> {
  private readonly connection: Connection<WhiteboardServerFrame>;
  private rooms = new Map<string, RoomInternal>();
  private pending = new Map<string, PendingDraw>();
  private cursors = new Map<string, { x: number; y: number }>();
  private cursorTimer: ReturnType<typeof setTimeout> | null = null;
  private lastCursorAt = 0;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private awaitingPong = false;
  private nextRef = 0;
  private readonly refPrefix = Math.random().toString(36).slice(2, 10);

  constructor(private readonly opts: WhiteboardOptions) {
    super();
    this.connection = new Connection(opts, {
      url: (token) => `${opts.url}/ws?token=${encodeURIComponent(token)}`,
      state: (state, attempt) => this.emit('connection', { state, attempt }),
      opened: () => {
        for (const room of this.rooms.values()) this.sendJoin(room);
        this.startPing();
      },
      frame: (frame) => this.handle(frame),
      dropped: () => {
        this.stopPing();
        for (const room of this.rooms.values()) room.synced = false;
      },
      sessionEnded: (reason) => {
        this.close();
        this.emit('sessionEnded', { reason });
      },
    });
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  room(roomId: string): RoomView | undefined {
    return this.rooms.get(roomId);
  }

  connect(): void {
    this.connection.start();
  }

  /** Closes for good (no reconnect); pending draws are rejected. */
  close(): void {
    this.clearTimers();
    this.connection.stop();
    for (const p of this.pending.values()) p.reject(new WhiteboardError('closed', 'The whiteboard client was closed'));
    this.pending.clear();
  }

  /** Joins a room by its id (resolve a slug over REST first); its canvas arrives as `changed`/`synced`. */
  join(roomId: string, share?: string): RoomView {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { roomId, seq: 0, drawings: new Map(), members: [], generating: new Map(), synced: false, share, incoming: null, held: [] };
      this.rooms.set(roomId, room);
    }
    this.sendJoin(room);
    return room;
  }

  leave(roomId: string): void {
    if (!this.rooms.delete(roomId)) return;
    this.send({ type: 'leave_room', roomId });
    for (const [ref, p] of this.pending) {
      if (p.frame.roomId !== roomId) continue;
      this.pending.delete(ref);
      p.reject(new WhiteboardError('left', 'Left the room before the drawing was stored'));
    }
  }

  /**
   * Draws; resolves with the stored drawing. Until the server's echo arrives the draw is kept and
   * resent with the same clientRef after a reconnect, so it is stored exactly once.
   */
  draw(roomId: string, shape: ShapeInput): Promise<Drawing> {
    const clientRef = `${this.refPrefix}-${++this.nextRef}`;
    const frame = { type: 'draw' as const, roomId, clientRef, ...shape };
    return new Promise<Drawing>((resolve, reject) => {
      this.pending.set(clientRef, { frame, resolve, reject });
      if (this.rooms.get(roomId)?.synced) this.send(frame);
    });
  }

  /** Draws not yet confirmed by the server (shown optimistically by the app). */
  pendingDraws(roomId: string): Array<ShapeInput & { clientRef: string }> {
    return [...this.pending.values()].filter((p) => p.frame.roomId === roomId).map((p) => ({ ...p.frame, clientRef: p.frame.clientRef ?? '' }));
  }

  deleteDrawing(roomId: string, drawingId: string): boolean {
    return this.send({ type: 'delete_drawing', roomId, drawingId });
  }

  clear(roomId: string): boolean {
    return this.send({ type: 'clear_canvas', roomId });
  }

  generateImage(roomId: string, prompt: string, place: { x?: number; y?: number; width?: number; height?: number } = {}): boolean {
    return this.send({ type: 'ai_generate_image', roomId, prompt, ...place });
  }

  /** Sends the pointer position, at most once per cursor interval (the latest position wins). */
  cursor(roomId: string, x: number, y: number): void {
    this.cursors.set(roomId, { x, y });
    if (this.cursorTimer) return;
    const wait = Math.max(0, this.lastCursorAt + (this.opts.cursorIntervalMs ?? 50) - Date.now());
    this.cursorTimer = setTimeout(() => {
      this.cursorTimer = null;
      this.lastCursorAt = Date.now();
      for (const [id, c] of this.cursors) if (this.rooms.get(id)?.synced) this.send({ type: 'cursor', roomId: id, x: c.x, y: c.y });
      this.cursors.clear();
    }, wait);
  }

  private sendJoin(room: RoomInternal): void {
    room.synced = false;
    room.incoming = null;
    const frame: JoinRoomFrame = { type: 'join_room', roomId: room.roomId };
    // A room already shown resumes from the last seq applied instead of reloading everything.
    if (room.seq > 0) frame.sinceSeq = room.seq;
    if (room.share) frame.share = room.share;
    this.send(frame);
  }

  private send(frame: WhiteboardClientFrame): boolean {
    return this.connection.send(frame);
  }

  private handle(frame: WhiteboardServerFrame): void {
    if (frame.type === 'pong') {
      this.awaitingPong = false;
      return;
    }
    if (frame.type === 'error') {
      const pending = frame.ref ? this.pending.get(frame.ref) : undefined;
      if (pending && frame.ref) {
        this.pending.delete(frame.ref);
        pending.reject(new WhiteboardError(frame.code, frame.message));
      }
      this.emit('error', { code: frame.code, message: frame.message, ref: frame.ref, roomId: frame.roomId });
      return;
    }
    const room = this.rooms.get(frame.roomId);
    if (!room) return;
    switch (frame.type) {
      case 'room_state': {
        room.incoming ??= new Map();
        for (const d of frame.drawings) room.incoming.set(d.id, d);
        room.members = frame.members;
        room.role = frame.role;
        if (!frame.complete) return;
        room.drawings = room.incoming;
        room.incoming = null;
        room.seq = frame.seq;
        room.generating.clear();
        this.finishJoin(room, false);
        return;
      }
      case 'room_events': {
        room.members = frame.members;
        room.role = frame.role;
        for (const event of frame.events) this.apply(room, event);
        if (frame.complete) this.finishJoin(room, true);
        else this.emit('changed', { roomId: room.roomId });
        return;
      }
      case 'draw':
      case 'delete_drawing':
      case 'clear_canvas':
      case 'ai_message':
        if (room.incoming) room.held.push(frame);
        else if (this.apply(room, frame)) this.emit('changed', { roomId: room.roomId });
        if (frame.type === 'ai_message') this.emit('ai', frame);
        return;
      case 'ai_generating':
        room.generating.set(frame.requestId, frame);
        this.emit('generating', frame);
        this.emit('changed', { roomId: room.roomId });
        return;
      case 'member_joined':
        if (!room.members.some((m) => m.id === frame.user.id)) room.members = [...room.members, frame.user];
        this.emit('members', { roomId: room.roomId, members: room.members });
        return;
      case 'member_left':
        room.members = room.members.filter((m) => m.id !== frame.user.id);
        this.emit('members', { roomId: room.roomId, members: room.members });
        return;
      case 'cursor':
        this.emit('cursor', { roomId: frame.roomId, userId: frame.userId, x: frame.x, y: frame.y });
        return;
      case 'access_revoked':
        this.rooms.delete(room.roomId);
        this.emit('revoked', { roomId: room.roomId });
        return;
    }
  }

  private finishJoin(room: RoomInternal, resumed: boolean): void {
    for (const event of room.held.splice(0)) this.apply(room, event);
    room.synced = true;
    // Only a joined room proves the connection: a socket that opens and drops at once keeps backing off.
    this.connection.settled();
    this.emit('members', { roomId: room.roomId, members: room.members });
    this.emit('changed', { roomId: room.roomId });
    this.emit('synced', { roomId: room.roomId, resumed });
    // Draws the server has not confirmed are resent with their clientRef: stored at most once.
    for (const p of this.pending.values()) if (p.frame.roomId === room.roomId) this.send(p.frame);
  }

  /** Applies one seq-numbered event; false when it was already applied. */
  private apply(room: RoomInternal, event: RoomEvent): boolean {
    if (event.type === 'draw') this.confirm(event.clientRef, event.drawing);
    if (event.type === 'ai_message') {
      room.generating.delete(event.requestId);
      if ('error' in event) return true;
    }
    if (event.seq <= room.seq) return false;
    room.seq = event.seq;
    if (event.type === 'draw' || event.type === 'ai_message') room.drawings.set(event.drawing.id, event.drawing);
    else if (event.type === 'delete_drawing') room.drawings.delete(event.drawingId);
    else room.drawings.clear();
    return true;
  }

  private confirm(clientRef: string | undefined, drawing: Drawing): void {
    const pending = clientRef ? this.pending.get(clientRef) : undefined;
    if (!pending || !clientRef) return;
    this.pending.delete(clientRef);
    pending.resolve(drawing);
  }

  private startPing(): void {
    const every = this.opts.pingIntervalMs ?? 15_000;
    if (every <= 0) return;
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => {
      // No pong since the last ping: the connection is dead even if the socket has not noticed.
      if (this.awaitingPong) return this.connection.drop();
      this.awaitingPong = this.send({ type: 'ping' });
    }, every);
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private clearTimers(): void {
    this.stopPing();
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cursorTimer = null;
  }
}
