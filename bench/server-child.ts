import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, Command, ServerKind } from './server-process.js';

/** A benchmarked server in its own process, driven over IPC. */
export class ServerChild {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  readonly ready: Promise<{ port: number; database?: string }>;
  readonly exited: Promise<void>;

  /** `env` is added to this process's environment for the child (e.g. one instance's REDIS_URL). */
  constructor(
    readonly kind: ServerKind,
    env: Record<string, string> = {},
  ) {
    // fork() reuses this process's execArgv, so the child runs TypeScript through tsx as well.
    // BENCH_PROFILE=<dir> writes a V8 CPU profile of each server process there (open it in Chrome DevTools).
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    this.child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [kind], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
      execArgv: [...process.execArgv, ...profile],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => {
        reject(new Error(`${kind} server exited with code ${code}`));
        for (const p of this.pending.values()) p.reject(new Error(`${kind} server exited`));
      });
      this.child.on('message', (msg: ChildMessage) => {
        if (msg.type === 'ready') return resolve(msg);
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(msg.error));
        else p.resolve(msg.result);
      });
    });
    this.ready.catch(() => {});
  }

  call<T>(command: Command extends infer C ? (C extends Command ? Omit<C, 'id'> : never) : never): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...command, id });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = this.exited;
    this.call({ cmd: 'stop' }).catch(() => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
