import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export type WorkerRequest = { id: number; op: 'query'; sql: string; params: unknown[] } | { id: number; op: 'close' };
export type WorkerReply =
  | { id: number; ok: true; rows: unknown[]; affectedRows?: number }
  | { id: number; ok: false; error: Record<string, unknown> & { message: string } }
  | ({ ready: true } & PGliteOpening)
  | { ready: false; error: Record<string, unknown> & { message: string } };

/** The worker's module next to this one, .ts under tsx and tests, .js once built. */
const ext = extname(fileURLToPath(import.meta.url));
const workerUrl = new URL(`./pglite-worker${ext}`, import.meta.url);

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
  private readonly pending = new Map<number, { resolve(v: { rows: unknown[]; affectedRows?: number }): void; reject(e: Error): void }>();
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
      if (reply.ok) p.resolve({ rows: reply.rows, affectedRows: reply.affectedRows });
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

  query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<{ rows: T[]; affectedRows?: number }> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: { rows: unknown[]; affectedRows?: number }) => void, reject });
      this.worker.postMessage({ id, op: 'query', sql, params } satisfies WorkerRequest);
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
