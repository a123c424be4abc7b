import { timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PictureObserver } from '../src/images/openai-image-studio.js';
import type { TutorObserver } from '../src/tutor/tutor-observer.js';
import { type BusObserver, FORWARD_OUTCOMES, receivedNow, type RoomObserver, type WriterObserver } from '../src/whiteboard/whiteboard-observer.js';

/** What the socket transport reports. */
export interface SocketObserver {
  /** A socket was closed with 1013 because its unsent buffer passed WS_SEND_BUFFER_LIMIT. */
  sendBufferClosed(kind: string): void;
}

/** The observers domain code reports through; this plugin turns them into Prometheus metrics. */
export interface Observers {
  tutor: TutorObserver;
  pictures: PictureObserver;
  sockets: SocketObserver;
  writer: WriterObserver;
  room: RoomObserver;
  bus: BusObserver;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Observers to hand to the domain (they record even when METRICS is off; only GET /metrics is gated). */
    observers: Observers;
  }
}

/** Which socket an upgrade request opens, from its path. */
function socketKind(url: string | undefined): string {
  if (url?.startsWith('/ws')) return 'whiteboard';
  if (url?.startsWith('/chat')) return 'tutor';
  return 'other';
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Seconds, from a millisecond to ten: database commits and room delivery. */
const FAST_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds, from half a millisecond: how long an event waits for earlier ones from other instances. */
const ORDER_SECONDS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seconds, from 50 ms to a minute: model answers and speech. */
const AI_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60];

/**
 * GET /metrics in Prometheus text format when METRICS=true (optionally behind the bearer token
 * METRICS_TOKEN), never counted against the API rate limit. Figures of the running parts are read at
 * scrape time, and events reach it through the observers it decorates, so `src/` needs no metrics library.
 */
export default fp(
  async (app) => {
    const register = new Registry();
    const registers = [register];

    const turns = new Counter({
      name: 'inkwell_tutor_turns_total',
      help: 'Tutor turns by outcome (completed, stopped, failed, refused) and the error code a client saw',
      labelNames: ['outcome', 'code'],
      registers,
    });
    const firstToken = new Histogram({
      name: 'inkwell_tutor_first_token_seconds',
      help: 'Seconds from the start of a tutor turn to the first piece of its answer sent',
      buckets: AI_SECONDS,
      registers,
    });
    const firstAudio = new Histogram({
      name: 'inkwell_tutor_first_audio_seconds',
      help: 'Seconds from the start of a spoken tutor turn to its first audio sent',
      buckets: AI_SECONDS,
      registers,
    });
    const providerErrors = new Counter({
      name: 'inkwell_provider_errors_total',
      help: 'AI provider failures by capability (tutor, pictures) and code',
      labelNames: ['capability', 'code'],
      registers,
    });
    const sendBufferCloses = new Counter({
      name: 'inkwell_send_buffer_closes_total',
      help: 'Sockets closed with 1013 because their unsent buffer passed WS_SEND_BUFFER_LIMIT',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['whiteboard', 'tutor']) sendBufferCloses.inc({ kind }, 0);
    const batchSize = new Histogram({
      name: 'inkwell_commit_batch_size',
      help: 'Room writes per group-commit transaction',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    });
    const commitSeconds = new Histogram({
      name: 'inkwell_commit_duration_seconds',
      help: 'Seconds from the start of a group-commit transaction to its commit',
      buckets: FAST_SECONDS,
      registers,
    });
    const writesRefused = new Counter({
      name: 'inkwell_writes_refused_total',
      help: 'Room writes answered with an internal error because their transaction failed (a database outage)',
      registers,
    });
    const delivered = new Counter({ name: 'inkwell_events_delivered_total', help: 'Room frames handed to receiving sockets, by frame type', labelNames: ['type'], registers });
    const sendToDeliver = new Histogram({
      name: 'inkwell_send_to_deliver_seconds',
      help: 'Seconds from receiving the client message behind a stored room event to handing the event to the receiving sockets (once per event)',
      buckets: FAST_SECONDS,
      registers,
    });

    // The room bus among several instances (REDIS_URL); zero on a single instance.
    const busMessages = new Counter({
      name: 'inkwell_bus_messages_total',
      help: 'Room bus messages this instance sent to the other instances (published) or got from them (received)',
      labelNames: ['direction'],
      registers,
    });
    for (const direction of ['published', 'received']) busMessages.inc({ direction }, 0);
    const orderWait = new Histogram({
      name: 'inkwell_bus_order_wait_seconds',
      help: 'Seconds from an ordered room event reaching this instance to its delivery: 0 unless it waited for earlier seqs from other instances',
      buckets: ORDER_SECONDS,
      registers,
    });
    const gapReads = new Counter({
      name: 'inkwell_bus_gap_reads_total',
      help: 'Reads of the room event log for events that did not arrive over Redis: filled, gone (no longer kept) or failed (retried)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['filled', 'gone', 'failed']) gapReads.inc({ outcome }, 0);
    const skipped = new Counter({
      name: 'inkwell_bus_events_skipped_total',
      help: 'Room events this instance gave up on (the event log no longer held them); their rooms carry on from the next',
      registers,
    });

    const forwarded = new Counter({
      name: 'inkwell_writes_forwarded_total',
      help: "Writes of this instance's sockets forwarded to the instance writing their room, by how they ended",
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of FORWARD_OUTCOMES) forwarded.inc({ outcome }, 0);

    app.decorate('observers', {
      tutor: {
        turnEnded: (outcome, code) => turns.inc({ outcome, code: code ?? '' }),
        firstToken: (seconds) => firstToken.observe(seconds),
        firstAudio: (seconds) => firstAudio.observe(seconds),
        providerFailed: (code) => providerErrors.inc({ capability: 'tutor', code }),
      },
      pictures: { providerFailed: (code) => providerErrors.inc({ capability: 'pictures', code }) },
      sockets: { sendBufferClosed: (kind) => sendBufferCloses.inc({ kind }) },
      writer: {
        committed: (batch, seconds) => {
          batchSize.observe(batch);
          commitSeconds.observe(seconds);
        },
        failed: (refused) => writesRefused.inc(refused),
      },
      room: {
        delivered: (type, receivers, receivedAt) => {
          if (receivers === 0) return;
          delivered.inc({ type }, receivers);
          if (receivedAt !== undefined) sendToDeliver.observe(Math.max(0, receivedNow() - receivedAt) / 1000);
        },
      },
      bus: {
        message: (direction) => busMessages.inc({ direction }),
        ordered: (seconds) => orderWait.observe(seconds),
        gapRead: (outcome) => gapReads.inc({ outcome }),
        skipped: (events) => skipped.inc(events),
        forwarded: (outcome) => forwarded.inc({ outcome }),
      },
    } satisfies Observers);

    if (!app.settings.metrics.enabled) return;
    collectDefaultMetrics({ register, prefix: 'inkwell_' });

    const sockets = new Gauge({ name: 'inkwell_open_sockets', help: 'Open WebSocket connections by kind', labelNames: ['kind'], registers });
    for (const kind of ['whiteboard', 'tutor']) sockets.set({ kind }, 0);
    app.addHook('onReady', async () => {
      app.websocketServer.on('connection', (ws, req) => {
        const kind = socketKind(req.url);
        sockets.inc({ kind });
        ws.once('close', () => sockets.dec({ kind }));
      });
    });

    // The whiteboard is built after this plugin (it takes its observers): read at scrape time.
    new Gauge({
      name: 'inkwell_rooms_active',
      help: 'Rooms with at least one socket on this instance',
      registers,
      collect() {
        this.set(app.whiteboard.registry.activeRooms);
      },
    });
    new Counter({
      name: 'inkwell_events_stored_total',
      help: 'Room events stored (draws, deletes, clears)',
      registers,
      collect() {
        this.reset();
        this.inc(app.whiteboard.writer.stats.events);
      },
    });
    new Counter({
      name: 'inkwell_commits_total',
      help: 'Write transactions of the group-commit writer (events / commits = mean batch size)',
      registers,
      collect() {
        this.reset();
        this.inc(app.whiteboard.writer.stats.transactions);
      },
    });

    const http = new Counter({ name: 'inkwell_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers });
    app.addHook('onResponse', async (req, reply) => {
      http.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
    });

    const token = app.settings.metrics.token;
    app.get('/metrics', { config: { rateLimit: false }, schema: { hide: true } }, async (req, reply) => {
      if (token && !sameToken(req.headers.authorization ?? '', `Bearer ${token}`)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ statusCode: 401, error: 'Unauthorized', message: 'GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>"' });
      }
      return reply.type(register.contentType).send(await register.metrics());
    });
  },
  { name: 'metrics', dependencies: ['env', 'websocket'] },
);
