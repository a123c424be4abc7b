/** The worker thread that owns the embedded PGlite database (see pglite-thread.ts). */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';
import type { BatchOutcome, WriteOp } from '../whiteboard/write-ops.js';
import type { Kysely } from 'kysely';
import type { BatchStoreOptions } from '../whiteboard/batch-store.js';
import type { Database } from './types.js';
import type { EngineMessage, PGliteThreadOptions, WorkerReply, WorkerRequest } from './pglite-thread.js';
import { PG_VERSION, readTemplate, unpackTemplate } from './pglite-template.js';

const port = parentPort!;
const options = workerData as PGliteThreadOptions;

/** An error as plain data (structured clone drops an Error's own fields such as code). */
function plain(err: unknown): Record<string, unknown> & { message: string } {
  if (!(err instanceof Error)) return { message: String(err) };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) fields[k] = v;
  return { ...fields, message: err.message };
}

const reply = (message: WorkerReply) => port.postMessage(message);

/**
 * Postgres's own buffers, sized for one embedded connection: the defaults (128 MB of shared buffers,
 * 100 connections) live in the WebAssembly memory, which never shrinks. Durability does not depend
 * on them (every commit still goes through the WAL with synchronous_commit on).
 */
const MEMORY_SETTINGS = ['shared_buffers=16MB', 'wal_buffers=1MB', 'temp_buffers=1MB', 'max_connections=4'].flatMap((s) => ['-c', s]);

/**
 * A full garbage collection of this thread. initdb of a fresh directory runs in a second engine whose
 * WebAssembly memory (hundreds of MB) is freed only when this thread's heap is collected, which an
 * idle database thread may never do on its own.
 */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // What the start-up's last promises still hold is free only a turn of the event loop later.
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The drawing writer's batches, each one statement or one PGlite transaction: PGlite runs one query
 * at a time and a transaction's lock keeps every query() the server sends meanwhile out of it (the
 * server holds its own connection while a batch runs, so none of its transactions is open either).
 * Loaded when the server asks for it, not before the database opens: it brings Kysely and the
 * whiteboard's modules.
 */
async function batchWriter(db: PGlite, options: BatchStoreOptions): Promise<(ops: WriteOp[], now: Date) => Promise<BatchOutcome>> {
  const [{ BatchStore }, { TransactionKysely }, { Kysely }, { PGliteDialect }] = await Promise.all([
    import('../whiteboard/batch-store.js'),
    import('./transaction-kysely.js'),
    import('kysely'),
    import('kysely-pglite-dialect'),
  ]);
  const store = new BatchStore(options);
  const inTransaction = new TransactionKysely();
  const database = {
    direct: new Kysely<Database>({ dialect: new PGliteDialect(db) }),
    transaction: <T>(fn: (trx: Kysely<Database>) => Promise<T>) => db.transaction((tx) => inTransaction.run(tx, fn)),
  };
  return (ops, now) => store.commit(database, ops, now);
}

function open(loadDataDir?: Blob): Promise<PGlite> {
  return PGlite.create(options.dataDir, {
    // Counts come back as int8; they are small enough for a JS number.
    parsers: { [types.INT8]: (v: string) => Number(v) },
    startParams: [...PGlite.defaultStartParams, ...MEMORY_SETTINGS],
    ...(engine ? { pgliteWasmModule: engine } : {}),
    ...(loadDataDir ? { loadDataDir } : {}),
  });
}

/**
 * Opens the database. A directory without one yet is unpacked from the build's template (see
 * pglite-template.ts) when there is one for this code, else made by initdb. The template is
 * unpacked with plain file writes rather than handed to PGlite (loadDataDir), which would keep
 * the whole dump in memory for as long as the database is open. A template that is damaged, or
 * that the database does not open from, costs one warning and an initdb.
 */
async function openDatabase(): Promise<{ db: PGlite; created?: 'template' | 'initdb'; warning?: string }> {
  if (options.template) return { db: await open(new Blob([options.template])), created: 'template' };
  if (options.dataDir.startsWith('memory://')) return { db: await open() };
  mkdirSync(options.dataDir, { recursive: true });
  if (existsSync(join(options.dataDir, PG_VERSION))) return { db: await open() };
  const template = readTemplate();
  if (!template.found) return { db: await open(), created: 'initdb', ...(template.problem ? { warning: passedOver(template.problem) } : {}) };
  let unpacked: string[];
  try {
    unpacked = unpackTemplate(template.bytes, options.dataDir);
  } catch (err) {
    return { db: await open(), created: 'initdb', warning: passedOver(`it could not be unpacked (${(err as Error).message})`) };
  }
  try {
    return { db: await open(), created: 'template' };
  } catch (err) {
    // Only what the template put there: the directory held no database before.
    for (const name of unpacked.reverse()) rmSync(join(options.dataDir, name), { recursive: true, force: true });
    return { db: await open(), created: 'initdb', warning: passedOver(`the database did not open from it (${(err as Error).message})`) };
  }
}

function passedOver(why: string): string {
  return `the embedded database's build template was not used: ${why}; created the database with initdb instead`;
}

/** The engine the process compiled once, the first message from the thread that started this one. */
const engine = await new Promise<WebAssembly.Module | undefined>((resolve) => {
  port.once('message', (message: EngineMessage) => resolve(message.engine));
});

try {
  const { db, created, warning } = await openDatabase();
  await collectGarbage();
  if (options.schema) await db.exec(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"; SET search_path TO "${options.schema}"`);
  let writeBatch: Promise<(ops: WriteOp[], now: Date) => Promise<BatchOutcome>> | undefined;
  port.on('message', async (req: WorkerRequest) => {
    if (req.op === 'batchStore') {
      writeBatch = batchWriter(db, req.options);
      // Reported by each writeBatch that needs it.
      writeBatch.catch(() => {});
      return;
    }
    if (req.op === 'close') {
      await db.close().catch(() => {});
      return reply({ id: req.id, ok: true, rows: [] });
    }
    try {
      if (req.op === 'writeBatch') {
        if (!writeBatch) throw new Error('writeBatch before the batch store was set up');
        return reply({ id: req.id, ok: true, outcome: await (await writeBatch)(req.ops, req.now) });
      }
      const result = await db.query(req.sql, req.params);
      reply({ id: req.id, ok: true, rows: result.rows, ...(result.affectedRows ? { affectedRows: result.affectedRows } : {}) });
    } catch (err) {
      reply({ id: req.id, ok: false, error: plain(err) });
    }
  });
  reply({ ready: true, ...(created ? { created } : {}), ...(warning ? { warning } : {}) });
} catch (err) {
  reply({ ready: false, error: plain(err) });
}
