import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BatchStoreOptions } from '../whiteboard/batch-store.js';
import type { BatchOutcome, WriteOp } from '../whiteboard/write-ops.js';

/** What the worker is started with (see pglite-worker.ts). */
export interface PGliteThreadOptions {
  dataDir: string;
  /** SET search_path to this schema (created when missing) before the first query. */
  schema?: string;
  /** A data directory dump to start from instead of running initdb (else the build's template, when fresh). */
  template?: ArrayBuffer;
}

/** How the database came to be: created now (from a template or by initdb) or already there; and what went wrong on the way. */
export interface PGliteOpening {
  created?: 'template' | 'initdb';
  /** One line for the operator, e.g. a damaged template that was passed over for initdb. */
  warning?: string;
}

/** The first message a worker gets: the engine compiled once for the process (see compiledEngine), or none. */
export interface EngineMessage {
  engine: WebAssembly.Module | undefined;
}

export type WorkerRequest =
  | { id: number; op: 'query'; sql: string; params: unknown[] }
  /** The drawing writer's batch store, set up once (no reply). */
  | { op: 'batchStore'; options: BatchStoreOptions }
  /** One batch of the drawing writer in one transaction. */
  | { id: number; op: 'writeBatch'; ops: WriteOp[]; now: Date }
  | { id: number; op: 'close' };
type QueryResult = { rows: unknown[]; affectedRows?: number };
type Answer = QueryResult | { outcome: BatchOutcome };
export type WorkerReply =
  | ({ id: number; ok: true } & Answer)
  | { id: number; ok: false; error: Record<string, unknown> & { message: string } }
  | ({ ready: true } & PGliteOpening)
  | { ready: false; error: Record<string, unknown> & { message: string } };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The worker's module next to this one, .ts under tsx and tests, .js once built. */
const ext = extname(fileURLToPath(import.meta.url));
const workerUrl = new URL(`./pglite-worker${ext}`, import.meta.url);

let engine: Promise<WebAssembly.Module | undefined> | undefined;

/**
 * PGlite's WebAssembly engine, compiled once for the process and shared by every database thread
 * it starts. Each thread would otherwise compile its own copy and V8 free it when the thread ends:
 * a process that opens and closes databases again and again (a test suite) churns tens of MB of
 * machine code, and V8 has been seen to abort the whole process on that churn (its JIT page
 * registry, "Check failed: jit_page.has_value()" on Node 24). Held here, the code is made once and
 * never freed. A new thread loads its modules while the engine compiles (the first time) and gets
 * it as its first message. When the file cannot be read or compiled, the thread loads the engine
 * itself as PGlite does by default.
 */
function compiledEngine(): Promise<WebAssembly.Module | undefined> {
  engine ??= readFile(new URL('./pglite.wasm', import.meta.resolve('@electric-sql/pglite')))
    .then((bytes) => WebAssembly.compile(bytes))
    .catch(() => undefined);
  return engine;
}

/** From TypeScript sources (dev, tests, benchmarks) the worker registers the tsx loader first: a worker does not inherit it. */
function startWorker(options: PGliteThreadOptions): Worker {
  const init = { workerData: options, transferList: options.template ? [options.template] : [] };
  if (ext !== '.ts') return new Worker(workerUrl, init);
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(boot, { ...init, eval: true });
}

/** A database opened ahead by prestart(), waiting for start() to take it over. */
let ahead: { dataDir: string; thread: Promise<PGliteThread> } | undefined;

/** A database error as the engine raised it in the worker: message, code, detail, constraint… */
function revive(error: Record<string, unknown> & { message: string }): Error {
  return Object.assign(new Error(error.message), error);
}

/**
 * Embedded PGlite in a worker thread: its WebAssembly engine runs on a thread of its own, so a
 * query never stalls this event loop (socket fan-out above all). Offers the two calls the Kysely
 * PGlite dialect makes, query() and close(); the dialect serializes queries on its one connection.
 */
export class PGliteThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(answer: Answer): void; reject(e: Error): void }>();
  private nextId = 1;
  private failure: Error | undefined;
  private closed: Promise<void> | undefined;
  readonly opening: PGliteOpening;

  private constructor(worker: Worker, opening: PGliteOpening) {
    this.worker = worker;
    this.opening = opening;
    worker.on('message', (reply: WorkerReply) => {
      if (!('ok' in reply)) return;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply);
      else p.reject(revive(reply.error));
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the embedded database thread exited (code ${code})`)));
  }

  /**
   * Starts opening the embedded database while the rest of the server is still being loaded (the
   * two take about as long); start() with the same directory takes this one over.
   */
  static prestart(dataDir: string): void {
    const thread = PGliteThread.open({ dataDir });
    // start() reports a failure; until then it must not count as unhandled.
    thread.catch(() => {});
    ahead = { dataDir, thread };
  }

  /** Starts the worker and resolves once the database is open (initdb on a fresh directory). */
  static start(options: PGliteThreadOptions): Promise<PGliteThread> {
    const early = ahead;
    ahead = undefined;
    if (early && early.dataDir === options.dataDir && !options.schema && !options.template) return early.thread;
    // Opened for another directory than the settings name: not this server's database.
    if (early) void early.thread.then((t) => t.close()).catch(() => {});
    return PGliteThread.open(options);
  }

  private static async open(options: PGliteThreadOptions): Promise<PGliteThread> {
    const worker = startWorker(options);
    void compiledEngine().then((engine) => worker.postMessage({ engine } satisfies EngineMessage));
    const opening = await new Promise<PGliteOpening>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`the embedded database thread exited (code ${code}) while starting`));
      worker.once('exit', onExit);
      worker.once('error', reject);
      worker.once('message', (reply: WorkerReply) => {
        worker.off('exit', onExit);
        worker.off('error', reject);
        if (!('ready' in reply)) reject(new Error('the embedded database thread answered before it was ready'));
        else if (reply.ready) resolve({ created: reply.created, warning: reply.warning });
        else reject(revive(reply.error));
      });
    });
    return new PGliteThread(worker, opening);
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<{ rows: T[]; affectedRows?: number }> {
    const { rows, affectedRows } = (await this.request({ op: 'query', sql, params })) as QueryResult;
    return { rows: rows as T[], affectedRows };
  }

  /** Sets up the drawing writer's batch store in the thread; once, before the first writeBatch(). */
  useBatchStore(options: BatchStoreOptions): void {
    if (!this.failure) this.worker.postMessage({ op: 'batchStore', options } satisfies WorkerRequest);
  }

  /**
   * One batch of the drawing writer, run by the thread in one transaction of its own: one message
   * each way instead of a round trip per statement. The caller holds the Kysely connection meanwhile,
   * so the batch never lands inside a transaction of this side's (begin … commit are separate queries).
   */
  async writeBatch(ops: WriteOp[], now: Date): Promise<BatchOutcome> {
    return ((await this.request({ op: 'writeBatch', ops, now })) as { outcome: BatchOutcome }).outcome;
  }

  private request(message: DistributiveOmit<Extract<WorkerRequest, { id: number }>, 'id'>): Promise<Answer> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id } as WorkerRequest);
    });
  }

  /** Closes the database (a clean shutdown of the engine) and ends the thread. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (!this.failure) {
        const id = this.nextId++;
        await new Promise<void>((resolve) => {
          this.pending.set(id, { resolve: () => resolve(), reject: () => resolve() });
          this.worker.postMessage({ id, op: 'close' } satisfies WorkerRequest);
        });
      }
      await this.worker.terminate();
    })();
    return this.closed;
  }
}
