import { isConnectionError } from '../db/connection-error.js';
import { decodeForwardMessage, encodeReleased, encodeReply, encodeWrites, type ForwardReply } from './forward-message.js';
import type { OrderedEvent, ServerMessage } from './protocol.js';
import type { BusRedis } from './redis-room-bus.js';
import type { RoomEvent } from './room-bus.js';
import { echoOf, type LocalRoomWrites, type Recorded, type RoomWrites, type Sender } from './room-writes.js';
import type { RefusalCode, WriteOp } from './write-ops.js';
import { type BusObserver, unobservedBus } from './whiteboard-observer.js';
import { type LeaseTiming, WriterLeases } from './writer-leases.js';

export interface ClusterWritesTiming extends LeaseTiming {
  /** A forwarded write unanswered this long: its room's writer is taken to be gone. */
  forwardTimeoutMs: number;
  /** After its database failed a write, this instance writes no room for the others for this long. */
  unfitMs: number;
}

export const DEFAULT_CLUSTER_WRITES_TIMING: ClusterWritesTiming = { leaseMs: 6000, cacheMs: 2000, forwardTimeoutMs: 3000, unfitMs: 5000 };

export interface ClusterWritesDeps {
  redis: BusRedis;
  /** This instance's id on the bus. */
  instanceId: string;
  local: LocalRoomWrites;
  /** Whether this instance serves the room (has sockets in it): it only writes rooms it serves. */
  serves(roomId: string): boolean;
  logger: { warn(obj: object, msg: string): void };
  timing?: Partial<ClusterWritesTiming>;
  observer?: Pick<BusObserver, 'forwarded'>;
}

/** A write this instance forwarded, waiting for its event (on the room's channel) or an answer. */
interface Forward {
  roomId: string;
  holder: string;
  sender: Sender;
  resolve(recorded: Recorded): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
}

/**
 * A forwarded write that was not stored, and why: the room's writer stopped answering (`timeout`),
 * did not store it (`failed`, it logged why), this instance stopped serving the room before the
 * write's event came back (`abandoned`), or the instance asked does not write the room
 * (`not_writer`, asked again elsewhere and never seen by the sender). The sender is told to try
 * again; nothing more is logged (`reported`).
 */
export class ForwardError extends Error {
  readonly reported = true;
  constructor(
    readonly reason: 'timeout' | 'failed' | 'abandoned' | 'not_writer',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The room writes of an instance among several: each room is written by one instance at a time,
 * the holder of its lease (the first to write it claims it), and the others forward their sockets'
 * writes to it over Redis. One writer per room means one commit stream: no instance's commit waits
 * on the room's row held by another's, and no instance holds its own events back waiting for an
 * earlier one of another's to arrive.
 *
 * The holder stores a forwarded write as its own and publishes its event on the room's channel,
 * tagged with the forwarding instance and request; that instance hands it to its sockets in seq
 * order like any other and echoes it, clientRef and all, to the sender. Refusals and repeats come
 * back on the instance's own channel. Without Redis, or while it is away, every instance writes
 * itself (the database's row lock orders them); a holder that stops answering has its lease taken
 * over.
 */
export class ClusterRoomWrites implements RoomWrites {
  private readonly leases: WriterLeases;
  private readonly timing: ClusterWritesTiming;
  private readonly forwards = new Map<number, Forward>();
  private lastReq = 0;
  /** Writes forwarded this turn, per holder, not yet sent. */
  private readonly outbox = new Map<string, Array<{ req: number; op: WriteOp }>>();
  private readonly unsubscribe: () => void;
  private closing = false;
  /** Per room this instance writes, the instances that forwarded writes to it: told when it stops. */
  private readonly forwarders = new Map<string, Set<string>>();
  /** Per instance, the last of its forwarded writes this one took (they arrive in order). */
  private readonly taken = new Map<string, number>();
  private readonly observer: Pick<BusObserver, 'forwarded'>;
  /** Until when (performance.now()) this instance writes no room for the others: its database failed. */
  private unfitUntil = 0;

  constructor(private readonly deps: ClusterWritesDeps) {
    this.timing = { ...DEFAULT_CLUSTER_WRITES_TIMING, ...deps.timing };
    this.observer = deps.observer ?? unobservedBus;
    this.leases = new WriterLeases(deps.redis, deps.instanceId, this.timing);
    this.unsubscribe = deps.redis.subscribe(`instance:${deps.instanceId}`, (text) => this.received(text)).unsubscribe;
  }

  async record(op: WriteOp, sender: Sender, retried = false): Promise<Recorded> {
    const { redis, instanceId } = this.deps;
    if (this.closing || !redis.isUp()) return this.writeHere(op, sender);
    let holder: string | null;
    try {
      // An instance whose database just failed claims no room: another one writes it, if any does.
      const known = this.leases.writerOf(op.roomId, !this.unfit());
      holder = typeof known === 'string' || known === null ? known : await known;
    } catch {
      return this.writeHere(op, sender);
    }
    if (holder === instanceId || holder === null) return this.writeHere(op, sender);
    try {
      return await this.forward(holder, op, sender);
    } catch (err) {
      if (!(err instanceof ForwardError)) throw err;
      if (err.reason === 'not_writer') {
        this.leases.forget(op.roomId, holder);
        // Asked twice and told no twice (a lease in hand-over): this instance writes it.
        return retried ? this.writeHere(op, sender) : this.record(op, sender, true);
      }
      if (err.reason === 'timeout') {
        this.deps.logger.warn({ roomId: op.roomId, writer: holder }, 'the instance writing this room did not answer; this instance takes the room over');
        await this.leases.takeOver(op.roomId, holder).catch(() => {});
      } else if (err.reason !== 'failed') throw err;
      // A draw with a clientRef is safe to store again: if the writer stored it after all, the
      // database answers `duplicate`. Anything else might be stored twice: its sender tries again.
      if (op.kind === 'draw' && op.clientRef !== null) return this.writeHere(op, sender);
      throw err;
    }
  }

  private unfit(): boolean {
    return performance.now() < this.unfitUntil;
  }

  private writeHere(op: WriteOp, sender: Sender): Promise<Recorded> {
    return this.deps.local.record(op, sender).catch((err: unknown) => {
      this.databaseFailed(err);
      throw err;
    });
  }

  /**
   * This instance's database failed a write: it gives up the rooms it writes, and the instances
   * that forwarded to it write them (theirs may still answer). Its own sockets' writes then go to
   * whichever instance writes their room.
   */
  private databaseFailed(err: unknown): void {
    if (!isConnectionError(err)) return;
    const wasFit = !this.unfit();
    this.unfitUntil = performance.now() + this.timing.unfitMs;
    if (wasFit) void this.leases.releaseAll().then((rooms) => this.tellReleased([...new Set([...rooms, ...this.forwarders.keys()])]));
  }

  private forward(holder: string, op: WriteOp, sender: Sender): Promise<Recorded> {
    const req = ++this.lastReq;
    return new Promise<Recorded>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.forwards.delete(req);
        this.observer.forwarded('timeout');
        reject(new ForwardError('timeout', 'The instance writing this room did not answer.'));
      }, this.timing.forwardTimeoutMs);
      timer.unref();
      this.forwards.set(req, { roomId: op.roomId, holder, sender, resolve, reject, timer });
      const waiting = this.outbox.get(holder);
      if (waiting) {
        waiting.push({ req, op });
        return;
      }
      this.outbox.set(holder, [{ req, op }]);
      // Everything forwarded to that instance in this pass of the event loop goes as one message
      // (the sockets read in one pass, not only one read's messages): fewer PUBLISHes, no timer.
      setImmediate(() => {
        const writes = this.outbox.get(holder) ?? [];
        this.outbox.delete(holder);
        for (const message of encodeWrites(this.deps.instanceId, writes)) this.deps.redis.publish(`instance:${holder}`, message);
      });
    });
  }

  /**
   * Called by the bus for each event it receives from another instance, before it is ordered: an
   * event stored for one of this instance's forwarded writes gets its sender's echo and resolves it.
   */
  claim(event: RoomEvent): void {
    const tag = event.forwarded;
    if (tag?.instance !== this.deps.instanceId || event.seq === undefined) return;
    const forward = this.take(tag.req);
    if (!forward) return;
    const { sender } = forward;
    if (sender.clientRef !== undefined && event.type === 'draw') {
      const echo = echoOf(JSON.parse(event.text) as OrderedEvent, sender.clientRef);
      if (echo) event.origin = { connectionId: sender.connectionId, message: echo as ServerMessage };
    }
    if (sender.receivedAt !== undefined) event.receivedAt = sender.receivedAt;
    this.observer.forwarded('stored');
    forward.resolve({ kind: 'stored', seq: event.seq });
  }

  private take(req: number): Forward | undefined {
    const forward = this.forwards.get(req);
    if (!forward) return undefined;
    this.forwards.delete(req);
    clearTimeout(forward.timer);
    return forward;
  }

  private received(text: string): void {
    const message = decodeForwardMessage(text);
    if (!message || message.from === this.deps.instanceId) return;
    if (message.released.length) this.released(message.from, message.released, message.upto);
    for (const reply of message.replies) this.answered(reply);
    for (const { req, op } of message.writes) void this.serve(message.from, req, op);
  }

  /**
   * `holder` no longer writes these rooms: ask again who does. Writes forwarded to it after the last
   * it took never will be stored there: they go again now rather than time out.
   */
  private released(holder: string, roomIds: string[], upto: number): void {
    const rooms = new Set(roomIds);
    for (const roomId of rooms) this.leases.forget(roomId, holder);
    for (const [req, forward] of [...this.forwards]) {
      if (req <= upto || forward.holder !== holder || !rooms.has(forward.roomId)) continue;
      this.take(req);
      this.observer.forwarded('not_writer');
      forward.reject(new ForwardError('not_writer', 'The instance asked does not write this room.'));
    }
  }

  private answered(reply: ForwardReply): void {
    const forward = this.take(reply.req);
    if (!forward) return;
    this.observer.forwarded(reply.outcome);
    if (reply.outcome === 'refused') forward.resolve({ kind: 'refused', code: reply.code as RefusalCode, message: reply.message });
    else if (reply.outcome === 'duplicate') forward.resolve({ kind: 'duplicate', frame: reply.frame as unknown as OrderedEvent });
    else if (reply.outcome === 'not_writer') forward.reject(new ForwardError('not_writer', 'The instance asked does not write this room.'));
    else forward.reject(new ForwardError('failed', 'The instance writing this room could not store it.'));
  }

  /** A write another instance forwarded: stored here if this instance writes the room, its answer sent back unless its event says it all. */
  private async serve(from: string, req: number, op: WriteOp): Promise<void> {
    this.taken.set(from, req);
    const reply = (r: ForwardReply) => this.deps.redis.publish(`instance:${from}`, encodeReply(this.deps.instanceId, r));
    if (this.closing || this.unfit() || !this.leases.holds(op.roomId) || !this.deps.serves(op.roomId)) {
      await this.release(op.roomId);
      reply({ req, outcome: 'not_writer' });
      return;
    }
    const forwarders = this.forwarders.get(op.roomId) ?? new Set<string>();
    this.forwarders.set(op.roomId, forwarders.add(from));
    try {
      const recorded = await this.deps.local.store(op, undefined, { instance: from, req });
      if (recorded.kind === 'refused') reply({ req, outcome: 'refused', code: recorded.code, message: recorded.message });
      else if (recorded.kind === 'duplicate') reply({ req, outcome: 'duplicate', frame: recorded.frame as unknown as Record<string, unknown> });
    } catch (err) {
      // The writer logged the outage; the closing writer refuses new writes: let the sender ask again.
      reply({ req, outcome: this.closing ? 'not_writer' : 'failed' });
      this.databaseFailed(err);
    }
  }

  /** The room's last socket here left: its forwarded writes' events will not come back through this instance. */
  abandon(roomId: string): void {
    this.leases.drop(roomId);
    for (const [req, forward] of [...this.forwards]) {
      if (forward.roomId !== roomId) continue;
      this.take(req);
      this.observer.forwarded('abandoned');
      forward.reject(new ForwardError('abandoned', 'Its sender left the room.'));
    }
  }

  /** The heartbeat: renews the leases of rooms this instance still serves, gives up the others. */
  async renew(): Promise<void> {
    const given = await this.leases.renew((roomId) => this.deps.serves(roomId));
    this.tellReleased(given);
  }

  /** Gives up the room's lease, telling the instances that forwarded to it. */
  private async release(roomId: string): Promise<void> {
    await this.leases.release(roomId);
    this.tellReleased([roomId]);
  }

  /** Rooms this instance no longer writes: the instances that forwarded their writes here ask again at once. */
  private tellReleased(roomIds: string[]): void {
    const byInstance = new Map<string, string[]>();
    for (const roomId of roomIds) {
      for (const instance of this.forwarders.get(roomId) ?? []) byInstance.set(instance, [...(byInstance.get(instance) ?? []), roomId]);
      this.forwarders.delete(roomId);
    }
    const stillForwarding = new Set([...this.forwarders.values()].flatMap((set) => [...set]));
    for (const [instance, rooms] of byInstance) {
      this.deps.redis.publish(`instance:${instance}`, encodeReleased(this.deps.instanceId, rooms, this.taken.get(instance) ?? 0));
      if (!stillForwarding.has(instance)) this.taken.delete(instance);
    }
  }

  /**
   * Shutdown, before the writer closes: the leases are given up (and the instances that forwarded
   * here told so), writes forwarded here from now on are sent back to be written elsewhere, and
   * writes this instance forwarded that are still unanswered fail (its sockets are closed by now).
   */
  async close(): Promise<void> {
    this.closing = true;
    const rooms = await this.leases.releaseAll();
    this.tellReleased([...new Set([...rooms, ...this.forwarders.keys()])]);
    for (const req of [...this.forwards.keys()]) this.take(req)?.reject(new ForwardError('abandoned', 'The server is shutting down.'));
  }

  /** After close, once the writer is done. */
  dispose(): void {
    this.unsubscribe();
  }
}
