/**
 * A benchmarked server in a process of its own, so the load generator does not share its event
 * loop. `tsx bench/server-process.ts relay|inkwell`; talks to the parent over IPC (see draw.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopMonitor } from './loop-monitor.js';
import { installTransactionCounter, transactionCounts } from './transaction-counter.js';
import { startRelay } from './ws-relay.js';

export type ServerKind = 'relay' | 'inkwell';

export type Command =
  | { id: number; cmd: 'login'; emails: string[] }
  | { id: number; cmd: 'counts' }
  | { id: number; cmd: 'storedDrawings'; roomId: string }
  /** RSS in bytes after a full garbage collection (when run with --expose-gc). */
  | { id: number; cmd: 'memory' }
  /** Writes a V8 heap snapshot of the server to `path` (bench:idle --heap). */
  | { id: number; cmd: 'heapSnapshot'; path: string }
  /** Event-loop delay and GC pauses since the last `loop` call with `reset` (which starts a new window). */
  | { id: number; cmd: 'loop'; reset: boolean }
  /** The server's own histograms (GET /metrics): commit duration, receipt → fan-out and the room bus's ordering wait, cumulative bucket counts. */
  | { id: number; cmd: 'histograms' }
  | { id: number; cmd: 'stop' };

export type ChildMessage = { type: 'ready'; port: number; database?: string } | { type: 'reply'; id: number; result?: unknown; error?: string };

function send(message: ChildMessage): void {
  process.send?.(message);
}

const loop = new LoopMonitor();

/** Answers `loop`; true when the command was one. */
function answerLoop(msg: Command): boolean {
  if (msg.cmd !== 'loop') return false;
  const result = loop.read();
  if (msg.reset) loop.reset();
  send({ type: 'reply', id: msg.id, result });
  return true;
}

async function runRelay(): Promise<void> {
  const relay = await startRelay();
  process.on('disconnect', () => void relay.close().then(() => process.exit(0)));
  process.on('SIGINT', () => void relay.close().then(() => process.exit(0)));
  process.on('message', async (msg: Command) => {
    if (answerLoop(msg)) return;
    if (msg.cmd === 'stop') {
      await relay.close();
      send({ type: 'reply', id: msg.id });
      process.exit(0);
    }
    if (msg.cmd === 'memory') {
      (globalThis as { gc?: () => void }).gc?.();
      return send({ type: 'reply', id: msg.id, result: process.memoryUsage().rss });
    }
    send({ type: 'reply', id: msg.id, error: `the relay has no ${msg.cmd}` });
  });
  send({ type: 'ready', port: relay.port });
}

/** A Prometheus histogram's cumulative counts by upper bound in seconds (`+Inf` as 1e9: IPC's JSON has no Infinity). */
export type Buckets = Array<[number, number]>;

function buckets(metrics: string, name: string): Buckets {
  const out: Buckets = [];
  for (const m of metrics.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))) out.push([m[1] === '+Inf' ? 1e9 : Number(m[1]), Number(m[2])]);
  return out;
}

/** `BENCH_ENV_<NAME>=value` sets Inkwell's <NAME> for the run (e.g. BENCH_ENV_WS_MAX_PAYLOAD=65536). */
function passThrough(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('BENCH_ENV_') && value !== undefined) out[key.slice('BENCH_ENV_'.length)] = value;
  }
  return out;
}

async function runInkwell(): Promise<void> {
  installTransactionCounter();
  // Imported after the counter is installed, and only in this process.
  const { buildApp } = await import('../app.js');
  const { LogCapture } = await import('../test/helpers/log-capture.js');
  const { login } = await import('../test/helpers/http.js');
  type TestServer = import('../test/helpers/server.js').TestServer;

  const databaseUrl = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || '';
  // PGlite as `npm start` runs it: a data directory on disk, fresh for the run and removed after it.
  // BENCH_PGLITE_DIR=memory:// measures the in-memory database instead, whose files grow by copying.
  const madeDir = databaseUrl || process.env.BENCH_PGLITE_DIR ? undefined : mkdtempSync(join(tmpdir(), 'inkwell-bench-'));
  const pgliteDir = process.env.BENCH_PGLITE_DIR || madeDir || 'memory://';
  // Several instances of one cluster share BENCH_SCHEMA; only the one without BENCH_KEEP_SCHEMA drops it.
  const schema = databaseUrl ? process.env.BENCH_SCHEMA || `bench_${randomBytes(5).toString('hex')}` : undefined;
  const logs = new LogCapture();
  const unlimited = 10_000_000;
  const app = await buildApp({
    processEnv: false,
    logStream: logs,
    dbSchema: schema,
    dropSchemaOnClose: schema !== undefined && process.env.BENCH_KEEP_SCHEMA !== '1',
    env: {
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      JWT_SECRET: randomBytes(32).toString('hex'),
      MAIL_TRANSPORT: 'log',
      DATABASE_URL: databaseUrl,
      PGLITE_DIR: pgliteDir,
      OPENAI_API_KEY: '',
      // The benchmark is one address opening many sockets and sending far beyond a person's pace.
      OTP_COOLDOWN: '1ms',
      OTP_PER_ADDRESS_HOURLY: unlimited,
      OTP_GENERATE_PER_IP_HOURLY: unlimited,
      OTP_VERIFY_PER_IP: unlimited,
      API_RATE_LIMIT_PER_MINUTE: unlimited,
      WS_CONNECTIONS_PER_IP_PER_MINUTE: unlimited,
      WS_RATE_BURST: unlimited,
      WS_RATE_PER_SECOND: unlimited,
      ROOM_MAX_DRAWINGS: unlimited,
      // For the benchmark's `histograms` command, which reads GET /metrics through inject(); the server listens on loopback only.
      METRICS: 'true',
      ...passThrough(),
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const server = { url: `http://127.0.0.1:${port}`, logs } as unknown as TestServer;

  // Every way out (IPC stop, a signal, the parent going away) waits for the same close, which
  // drops the PostgreSQL schema.
  let closing: Promise<void> | undefined;
  const stop = () =>
    (closing ??= app
      .close()
      .catch((err: unknown) => console.error('bench inkwell server: close failed', err))
      .finally(() => madeDir && rmSync(madeDir, { recursive: true, force: true })));
  // Ctrl-C reaches this process too: drop the PostgreSQL schema before leaving.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop().then(() => process.exit(0)));
  process.on('disconnect', () => void stop().then(() => process.exit(0)));

  process.on('message', async (msg: Command) => {
    if (answerLoop(msg)) return;
    try {
      switch (msg.cmd) {
        case 'login': {
          const sessions = [];
          // A few at a time: real logins, without turning set-up into its own benchmark.
          for (let i = 0; i < msg.emails.length; i += 10) {
            sessions.push(...(await Promise.all(msg.emails.slice(i, i + 10).map((e) => login(server, e)))));
          }
          return send({ type: 'reply', id: msg.id, result: sessions });
        }
        case 'counts': {
          // The group-commit writer counts its own transactions; the driver-level count also sees reads.
          const writer = app.whiteboard?.writer.stats;
          // With REDIS_URL, every Redis command this instance sent: room messages, forwarded writes and their answers, presence and lease scripts.
          const redisCommands = app.redis?.sent.commands ?? 0;
          return send({ type: 'reply', id: msg.id, result: { ...transactionCounts(), writerTransactions: writer?.transactions ?? 0, redisCommands } });
        }
        case 'histograms': {
          const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
          return send({
            type: 'reply',
            id: msg.id,
            result: {
              commit: buckets(text, 'inkwell_commit_duration_seconds'),
              deliver: buckets(text, 'inkwell_send_to_deliver_seconds'),
              order: buckets(text, 'inkwell_bus_order_wait_seconds'),
            },
          });
        }
        case 'storedDrawings': {
          const row = await app.db
            .selectFrom('drawings')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('room_id', '=', msg.roomId)
            .executeTakeFirstOrThrow();
          return send({ type: 'reply', id: msg.id, result: Number(row.n) });
        }
        case 'memory': {
          (globalThis as { gc?: () => void }).gc?.();
          return send({ type: 'reply', id: msg.id, result: process.memoryUsage().rss });
        }
        case 'heapSnapshot': {
          const { writeHeapSnapshot } = await import('node:v8');
          (globalThis as { gc?: () => void }).gc?.();
          return send({ type: 'reply', id: msg.id, result: writeHeapSnapshot(msg.path) });
        }
        case 'stop':
          if (process.env.BENCH_DUMP_METRICS)
            console.error(
              (await app.inject('/metrics')).body
                .split('\n')
                .filter((l) => /commit_duration|deliver|batch_size/.test(l) && !l.startsWith('#'))
                .join('\n'),
            );
          await stop();
          send({ type: 'reply', id: msg.id });
          return process.exit(0);
      }
    } catch (err) {
      send({ type: 'reply', id: msg.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
  const where = databaseUrl ? '' : pgliteDir.startsWith('memory://') ? ' (memory)' : ' (directory)';
  send({ type: 'ready', port, database: `${app.dbKind}${where}` });
}

const kind = process.argv[2] as ServerKind;
(kind === 'relay' ? runRelay() : runInkwell()).catch((err: unknown) => {
  console.error(`bench ${kind} server failed to start:`, err);
  process.exit(1);
});
