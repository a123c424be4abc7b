import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TestServer } from './server.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface RunningProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs one of the project's entry points (server.ts, migrate.ts) from source as `npm start` would run it built. */
export function runEntry(entry: string, env: Record<string, string>, cwd = repoRoot): RunningProcess {
  return runNode(['--import', tsxLoader, join(repoRoot, entry)], env, cwd);
}

/**
 * The environment of a child process: only PATH and HOME of this one, plus `env`. Coverage is off in
 * children: they run the server through tsx (or built), whose code for a source file differs from the
 * one tap's loader makes in the test process, and the coverage report keeps one source map per file,
 * so a child's map winning would misplace every test process's counts (a random ~10 % of runs fell
 * from 84 % to 44 % of functions that way).
 */
export function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', _TAPJS_PROCESSINFO_COVERAGE_: '0', ...env };
}

/** Runs node with these arguments (a built entry point, say), in childEnv(env). */
export function runNode(args: string[], env: Record<string, string>, cwd = repoRoot): RunningProcess {
  const child = spawn(process.execPath, args, {
    cwd,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * A free loopback port for a child server (released again before it is returned, so another process
 * could take it before the child listens). Picked below Linux's ephemeral range (32768–60999 by
 * default), where the suite's own outgoing connections (sockets, PostgreSQL, Redis) take theirs,
 * and at random, so parallel test files rarely try the same one.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const srv = createServer();
    const listening = await new Promise<boolean>((resolve) => {
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!listening) continue;
    await new Promise<void>((r) => srv.close(() => r()));
    return port;
  }
}

/** Polls a URL until it answers (or the process exits, or time runs out). */
export async function waitForHttp(url: string, proc: RunningProcess, timeoutMs = 120_000): Promise<void> {
  let done = false;
  proc.exited.then(() => (done = true));
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !done) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer; stderr: ${proc.stderr()} stdout: ${proc.stdout().slice(-2000)}`);
}

/** Enough of a TestServer for the HTTP and socket helpers, for a server running as a child process: its log (mail included) is the process's stdout. */
export function serverOf(proc: RunningProcess, port: number): TestServer {
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    logs: {
      get raw() {
        return proc.stdout().split('\n');
      },
    },
  } as unknown as TestServer;
}
