import { timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

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

/**
 * GET /metrics in Prometheus text format when METRICS=true (optionally behind the bearer token
 * METRICS_TOKEN), never counted against the API rate limit. Figures are read from the running
 * parts at scrape time, so domain code needs no metrics library.
 */
export default fp(
  async (app) => {
    if (!app.settings.metrics.enabled) return;
    const register = new Registry();
    collectDefaultMetrics({ register, prefix: 'inkwell_' });

    const sockets = new Gauge({ name: 'inkwell_open_sockets', help: 'Open WebSocket connections by kind', labelNames: ['kind'], registers: [register] });
    for (const kind of ['whiteboard', 'tutor']) sockets.set({ kind }, 0);
    app.addHook('onReady', async () => {
      app.websocketServer.on('connection', (ws, req) => {
        const kind = socketKind(req.url);
        sockets.inc({ kind });
        ws.once('close', () => sockets.dec({ kind }));
      });
    });

    const { writer, registry } = app.whiteboard;
    new Gauge({
      name: 'inkwell_rooms_active',
      help: 'Rooms with at least one socket on this instance',
      registers: [register],
      collect() {
        this.set(registry.activeRooms);
      },
    });
    new Counter({
      name: 'inkwell_events_stored_total',
      help: 'Room events stored (draws, deletes, clears)',
      registers: [register],
      collect() {
        this.reset();
        this.inc(writer.stats.events);
      },
    });
    new Counter({
      name: 'inkwell_commits_total',
      help: 'Write transactions of the group-commit writer (events / commits = mean batch size)',
      registers: [register],
      collect() {
        this.reset();
        this.inc(writer.stats.transactions);
      },
    });

    const http = new Counter({ name: 'inkwell_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [register] });
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
  { name: 'metrics', dependencies: ['env', 'websocket', 'whiteboard'] },
);
