import fp from 'fastify-plugin';
import { inProcessBatches, threadBatches } from '../src/whiteboard/batch-runners.js';
import { DrawingWriter } from '../src/whiteboard/drawing-writer.js';
import { DatabaseRoomEventLog, type RoomEventLog } from '../src/whiteboard/event-log.js';
import { FallbackWindow, SlidingWindowCounter } from '../src/sliding-window.js';
import { InProcessConnectionCounter, SharedConnectionCounter, type ConnectionCounter } from '../src/whiteboard/rate-limiter.js';
import { RoomAccess } from '../src/whiteboard/room-access.js';
import { RedisRoomBus } from '../src/whiteboard/redis-room-bus.js';
import { InProcessRoomBus, type RoomBus } from '../src/whiteboard/room-bus.js';
import { RoomRegistry } from '../src/whiteboard/room-registry.js';
import { RoomStore } from '../src/whiteboard/room-store.js';
import { LocalRoomWrites } from '../src/whiteboard/room-writes.js';
import { ClusterRoomWrites } from '../src/whiteboard/cluster-room-writes.js';
import type { RoomDeps } from '../src/whiteboard/room.js';
import { writerObservers } from '../src/whiteboard/whiteboard-observer.js';
import { WriteOutageLog } from '../src/whiteboard/write-outage-log.js';

export interface Whiteboard {
  store: RoomStore;
  writer: DrawingWriter;
  /** The rooms' broadcast frames by seq, as the writer logged them (resume, filling gaps). */
  eventLog: RoomEventLog;
  access: RoomAccess;
  registry: RoomRegistry;
  /** In-process, or shared by every instance through Redis. */
  bus: RoomBus;
  /** Socket connections per client address (WS_CONNECTIONS_PER_IP_PER_MINUTE). */
  connections: ConnectionCounter;
}

declare module 'fastify' {
  interface FastifyInstance {
    whiteboard: Whiteboard;
  }
}

/**
 * The whiteboard's rooms: one group-commit writer and one room registry for the process, with the
 * in-process bus, or with REDIS_URL the Redis bus that lets several instances serve the same rooms.
 * Pending writes are committed on close.
 */
export default fp(
  async (app) => {
    const c = app.settings.whiteboard;
    const store = new RoomStore(app.db, app.clock);
    // A database outage refuses writes by the hundred: one log line for it, not one per write.
    const observer = writerObservers(app.observers.writer, new WriteOutageLog(app.log));
    // On the embedded database a batch's transaction runs in its thread: one message each way.
    const storeOptions = { maxRoomDrawings: c.roomMaxDrawings, retention: c.eventLog };
    const batches = app.pglite ? threadBatches(app.db, app.pglite, storeOptions) : inProcessBatches(app.db, storeOptions);
    const writer = new DrawingWriter(batches, app.clock, { observer });
    const eventLog = new DatabaseRoomEventLog(app.db);
    const redis = app.redis;
    // With Redis, rooms are shared by every instance; without, everything stays in this process.
    const bus: RoomBus = redis
      ? new RedisRoomBus({ redis, log: eventLog, heads: (ids) => store.heads(ids), logger: app.log, observer: app.observers.bus })
      : new InProcessRoomBus();
    const connectionCounter = (): ConnectionCounter => {
      const limit = c.connectionsPerIpPerMinute;
      if (!app.redis) return new InProcessConnectionCounter(limit);
      const local = new SlidingWindowCounter(limit, 60_000, () => performance.now());
      return new SharedConnectionCounter(new FallbackWindow(app.redis.window('ws-connections', limit, 60_000), local));
    };
    // With several instances one of them writes each busy room; the others forward their sockets' writes to it.
    const local = new LocalRoomWrites(writer, bus);
    const writes = bus instanceof RedisRoomBus ? bus.routeWrites(local) : local;
    const access = new RoomAccess(app.db, app.clock, bus);
    const deps: RoomDeps = {
      bus,
      roleOf: (room, userId) => access.roleOf(room, userId),
      writes,
      store,
      eventLog,
      log: app.log,
      images: app.imageStudio,
      observer: app.observers.room,
    };
    app.decorate('whiteboard', {
      store,
      writer,
      eventLog,
      access,
      bus,
      registry: new RoomRegistry(deps, access),
      connections: connectionCounter(),
    });
    // Sockets are closed (1001) before this runs; what they sent and was accepted still gets stored.
    app.addHook('onClose', async () => {
      if (writes instanceof ClusterRoomWrites) await writes.close();
      await writer.close();
      if (bus instanceof RedisRoomBus) await bus.close();
    });
  },
  { name: 'whiteboard', dependencies: ['env', 'db', 'images', 'redis', 'metrics'] },
);
