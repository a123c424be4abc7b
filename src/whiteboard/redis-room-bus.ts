import { randomUUID } from 'node:crypto';
import { decodeBusMessage, encodeControl, encodeEvents } from './bus-message.js';
import { ClusterPresence, type PresenceChange, type ScriptRunner } from './cluster-presence.js';
import type { RoomEventLog } from './event-log.js';
import { frame, type Member } from './protocol.js';
import { type AccessChange, type RoomBus, type RoomEvent, type RoomListener, roomEvent } from './room-bus.js';
import { RoomSequencer } from './room-sequencer.js';
import { ClusterRoomWrites, type ClusterWritesTiming } from './cluster-room-writes.js';
import type { LocalRoomWrites } from './room-writes.js';
import { type BusObserver, unobservedBus } from './whiteboard-observer.js';

/** The few things the bus needs from Redis (channel and key names are under the deployment's prefix). */
export interface BusRedis extends ScriptRunner {
  /** True while commands reach Redis. */
  isUp(): boolean;
  /** Best effort: lost while Redis is away (the database fills the gap). */
  publish(channel: string, message: string): void;
  /** `subscribed` settles once Redis confirmed the subscription (at once while Redis is away). */
  subscribe(channel: string, listener: (message: string) => void): { subscribed: Promise<void>; unsubscribe(): void };
  /** Called when Redis answers again after an outage: what passed meanwhile was lost. */
  onReconnect(listener: () => void): void;
}

export interface RedisRoomBusDeps {
  redis: BusRedis;
  /** The room event log, read to fill gaps. */
  log: RoomEventLog;
  /** Rooms' latest seqs in the database. */
  heads(roomIds: string[]): Promise<Map<string, number>>;
  logger: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
  timing?: Partial<BusTiming>;
  /** Messages exchanged, ordering waits and gap reads (the metrics plugin's). */
  observer?: BusObserver;
  /** The room writers' leases and forwarded writes (routeWrites). */
  writesTiming?: Partial<ClusterWritesTiming>;
}

export interface BusTiming {
  /** How often this instance beats (refreshing its rooms' presence) and checks its rooms' heads in the database. */
  heartbeatMs: number;
  /** An instance silent this long is dead; its users leave. Several heartbeats, so a busy moment is not a death. */
  staleMs: number;
  /** Presence keys outlive their last instance by this much. */
  ttlMs: number;
  /** A gap waits this long for its events to come over Redis before the log is read (not at all while Redis is away). */
  gapGraceMs: number;
}

const DEFAULT_TIMING: BusTiming = { heartbeatMs: 2000, staleMs: 9000, ttlMs: 60_000, gapGraceMs: 50 };
/** How long a room waits for Redis to confirm its subscription before it starts anyway. */
const SUBSCRIBE_WAIT_MS = 1000;

interface ActiveRoom {
  listeners: Set<RoomListener>;
  sequencer: RoomSequencer;
  /** Subscribed to the room's channel, then the starting seq read. */
  started: Promise<void>;
  unsubscribe(): void;
}

/**
 * The room bus of an instance among several. An event stored here is delivered to this instance's
 * sockets at once and published on the room's Redis channel for the others; every instance orders
 * what it gets (its own and the others') through the room's sequencer, which fills gaps from the
 * database, so a message lost in Redis only delays delivery. Presence is kept in Redis
 * (ClusterPresence) with this instance's own sockets mirrored in memory for when Redis is away.
 */
export class RedisRoomBus implements RoomBus {
  readonly instanceId = randomUUID();
  private readonly rooms = new Map<string, ActiveRoom>();
  /** Events published this turn, per room, not yet sent to Redis. */
  private readonly outbox = new Map<string, RoomEvent[]>();
  /** This instance's sockets per room: the truth while Redis is away, and what is re-sent when it is back. */
  private readonly local = new Map<string, Map<string, Member>>();
  private readonly presence: ClusterPresence;
  private readonly timing: BusTiming;
  private readonly observer: BusObserver;
  private readonly timer: NodeJS.Timeout;
  private recovering: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private closed = false;
  /** Rooms this instance has had sockets in (until a leave found it empty): where a goodbye is due on close. */
  private readonly touched = new Set<string>();
  /** Presence steps in flight: shutdown lets them finish before Redis is disconnected. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Each room written by one instance, the others forwarding to it (set by routeWrites). */
  private writes: ClusterRoomWrites | null = null;

  constructor(private readonly deps: RedisRoomBusDeps) {
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
    this.observer = deps.observer ?? unobservedBus;
    this.presence = new ClusterPresence(deps.redis, this.instanceId, this.timing);
    // A slow beat (Redis or the database lagging) is never overlapped by the next one.
    this.timer = setInterval(() => {
      if (!this.beating) this.schedule(false);
    }, this.timing.heartbeatMs);
    this.timer.unref();
    // Both Redis connections may come back one after the other: one repair for both.
    deps.redis.onReconnect(() => {
      if (this.recovering || this.closed) return;
      this.recovering = setTimeout(() => {
        this.recovering = null;
        this.schedule(true);
      }, 100);
    });
  }

  /** Runs a beat after the one in progress, if any. */
  private schedule(recover: boolean): void {
    const run = (this.beating ?? Promise.resolve()).then(() => this.beat(recover));
    this.beating = run;
    void run.finally(() => {
      if (this.beating === run) this.beating = null;
    });
  }

  /**
   * The room writes of this instance: `local` for the rooms it writes, forwarding for the others.
   * Events stored for this instance's forwarded writes come back through this bus.
   */
  routeWrites(local: LocalRoomWrites): ClusterRoomWrites {
    const { redis, logger, writesTiming } = this.deps;
    this.writes = new ClusterRoomWrites({
      redis,
      instanceId: this.instanceId,
      local,
      serves: (roomId) => this.rooms.has(roomId),
      logger,
      observer: this.observer,
      ...(writesTiming ? { timing: writesTiming } : {}),
    });
    return this.writes;
  }

  subscribe(roomId: string, listener: RoomListener): () => void {
    const room = this.rooms.get(roomId) ?? this.activate(roomId);
    room.listeners.add(listener);
    return () => {
      room.listeners.delete(listener);
      if (room.listeners.size > 0 || this.rooms.get(roomId) !== room) return;
      this.rooms.delete(roomId);
      room.sequencer.dispose();
      room.unsubscribe();
      // Their events will not reach this instance now: their senders left the room.
      this.writes?.abandon(roomId);
    };
  }

  private activate(roomId: string): ActiveRoom {
    const { redis, log, heads, logger } = this.deps;
    const listeners = new Set<RoomListener>();
    const sequencer = new RoomSequencer({
      roomId,
      log,
      latestSeq: async (id) => (await heads([id])).get(id) ?? 0,
      deliver: (event) => {
        for (const l of listeners) l.deliver(event);
      },
      gapGraceMs: () => (redis.isUp() ? this.timing.gapGraceMs : 0),
      warn: (obj, msg) => logger.warn(obj, msg),
      observer: this.observer,
    });
    const channel = redis.subscribe(`room:${roomId}`, (text) => this.received(roomId, text));
    // Subscribed before the starting seq is read: an event stored after that read reaches us over Redis or fills a gap.
    const subscribed = Promise.race([channel.subscribed.catch(() => {}), new Promise((r) => setTimeout(r, SUBSCRIBE_WAIT_MS).unref())]);
    const started = subscribed.then(() => sequencer.ready());
    started.catch(() => {}); // retried by the first join that needs it
    const room: ActiveRoom = { listeners, sequencer, started, unsubscribe: channel.unsubscribe };
    this.rooms.set(roomId, room);
    return room;
  }

  /**
   * To the other instances at once, to this instance's sockets a moment later: a commit resolves
   * all its events in one turn, so they leave for Redis together, as one message, before this
   * instance spends time handing the first to its own sockets (still in seq order: microtasks run
   * in order, and the first of them sends what the turn published).
   */
  publish(roomId: string, event: RoomEvent): void {
    const waiting = this.outbox.get(roomId);
    if (waiting) waiting.push(event);
    else this.outbox.set(roomId, [event]);
    queueMicrotask(() => {
      this.flush(roomId);
      this.rooms.get(roomId)?.sequencer.offer(event);
    });
  }

  /** Sends the room's events published so far and not yet sent. */
  private flush(roomId: string): void {
    const events = this.outbox.get(roomId);
    if (!events) return;
    this.outbox.delete(roomId);
    this.sendEvents(roomId, events);
  }

  /** To the other instances only: one message, or several for a commit too large for one. */
  private sendEvents(roomId: string, events: RoomEvent[]): void {
    for (const message of encodeEvents(this.instanceId, events)) this.send(roomId, message);
  }

  publishAccess(roomId: string, change: AccessChange): void {
    this.send(roomId, encodeControl(this.instanceId, { access: change }));
    for (const l of this.rooms.get(roomId)?.listeners ?? []) l.accessChanged(change);
  }

  private send(roomId: string, message: string): void {
    this.observer.message('published');
    this.deps.redis.publish(`room:${roomId}`, message);
  }

  private received(roomId: string, payload: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    const message = decodeBusMessage(payload);
    if (!message || message.from === this.instanceId) return;
    this.observer.message('received');
    // In one turn: each of this instance's sockets gets the whole message in one write.
    for (const event of message.events) {
      this.writes?.claim(event);
      room.sequencer.offer(event);
    }
    if (message.access) for (const l of room.listeners) l.accessChanged(message.access);
    if (message.head !== undefined) room.sequencer.catchUp(message.head);
  }

  async addPresence(roomId: string, member: Member, connectionId: string): Promise<boolean> {
    // The joiner's snapshot is read after this: from then on the room delivers every later event.
    const room = this.rooms.get(roomId);
    if (room) await room.started.catch(() => room.sequencer.ready());
    const sockets = this.local.get(roomId) ?? new Map<string, Member>();
    this.local.set(roomId, sockets);
    const firstHere = ![...sockets.values()].some((m) => m.id === member.id);
    sockets.set(connectionId, member);
    this.touched.add(roomId);
    try {
      const change = await this.track(this.presence.add(roomId, connectionId, member));
      this.announce(roomId, change, member.id);
      return change.joined.some((m) => m.id === member.id);
    } catch (err) {
      this.deps.logger.debug({ err, roomId }, 'presence kept locally: Redis did not answer');
      return firstHere;
    }
  }

  async removePresence(roomId: string, userId: string, connectionId: string): Promise<boolean> {
    const sockets = this.local.get(roomId);
    if (!sockets?.delete(connectionId)) return false;
    if (sockets.size === 0) this.local.delete(roomId);
    const lastHere = ![...sockets.values()].some((m) => m.id === userId);
    try {
      const change = await this.track(this.presence.remove(roomId, connectionId));
      if (!this.local.has(roomId)) this.touched.delete(roomId);
      this.announce(roomId, change, userId);
      return change.left.some((m) => m.id === userId);
    } catch (err) {
      this.deps.logger.debug({ err, roomId }, 'presence kept locally: Redis did not answer');
      return lastHere;
    }
  }

  private track<T>(step: Promise<T>): Promise<T> {
    this.inFlight.add(step);
    const done = () => this.inFlight.delete(step);
    step.then(done, done);
    return step;
  }

  async members(roomId: string): Promise<Member[]> {
    try {
      return await this.presence.members(roomId);
    } catch {
      const byUser = new Map([...(this.local.get(roomId)?.values() ?? [])].map((m) => [m.id, m]));
      return [...byUser.values()];
    }
  }

  /**
   * Presence changes found along the way. Another instance's users reaped go to every instance;
   * changes this instance's sockets were already told of (a repair after an outage) go to the
   * others only; `skipUserId`'s own join or leave is announced by the room itself.
   */
  private announce(roomId: string, change: PresenceChange, skipUserId?: string): void {
    const told = new Set(change.ownDropped);
    const events = [
      ...change.joined.map((user) => ({ user, kind: 'member_joined' as const, toldHere: true })),
      ...change.left.map((user) => ({ user, kind: 'member_left' as const, toldHere: told.has(user.id) })),
    ];
    for (const { user, kind, toldHere } of events) {
      if (user.id === skipUserId) continue;
      const event = roomEvent({ message: frame(kind, { roomId, user }) });
      if (toldHere) this.sendEvents(roomId, [event]);
      else this.publish(roomId, event);
    }
  }

  /**
   * The heartbeat: refreshes this instance's presence in each of its rooms (reaping dead
   * instances' sockets) and checks its rooms' heads in the database. After an outage (`recover`)
   * it also tells the others each room's head, so they fetch what this instance stored meanwhile.
   */
  private async beat(recover = false): Promise<void> {
    if (this.closed) return;
    const { redis, logger, heads } = this.deps;
    // Every room this instance may still be recorded in: one whose last leave did not reach Redis is cleaned here.
    for (const roomId of [...this.touched]) {
      if (!redis.isUp()) break;
      try {
        this.announce(roomId, await this.presence.sync(roomId, this.local.get(roomId) ?? new Map()));
        if (!this.local.has(roomId)) this.touched.delete(roomId);
      } catch (err) {
        logger.debug({ err, roomId }, 'presence heartbeat failed');
      }
    }
    await this.writes?.renew();
    // Role changes and removals made on other instances meanwhile were published to no one.
    if (recover) for (const room of this.rooms.values()) for (const l of room.listeners) l.accessMayHaveChanged();
    const ids = [...this.rooms.keys()];
    if (ids.length === 0) return;
    try {
      for (const [roomId, seq] of await heads(ids)) {
        this.rooms.get(roomId)?.sequencer.catchUp(seq);
        if (recover) this.send(roomId, encodeControl(this.instanceId, { head: seq }));
      }
    } catch (err) {
      logger.debug({ err }, 'reading room heads failed');
    }
  }

  /**
   * Stops the heartbeat and takes this instance's sockets out of its rooms at once, so the others
   * hear member_left now rather than when this instance counts as dead. Runs before Redis is
   * disconnected: leaves still in flight finish first.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (this.recovering) clearTimeout(this.recovering);
    for (const room of this.rooms.values()) room.sequencer.dispose();
    const settle = (work: Promise<unknown>) => Promise.race([work, new Promise((r) => setTimeout(r, 1000).unref())]);
    await settle(Promise.allSettled([...this.inFlight]));
    if (this.deps.redis.isUp()) {
      const goodbyes = [...this.touched].map((roomId) =>
        this.presence.sync(roomId, []).then(
          (change) => this.announce(roomId, change),
          () => {},
        ),
      );
      await settle(Promise.all(goodbyes));
    }
    // Lets the member_left of leaves that just finished reach Redis before it is disconnected.
    await new Promise((r) => setImmediate(r));
    this.local.clear();
    this.touched.clear();
    this.writes?.dispose();
  }
}
