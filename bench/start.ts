/**
 * `npm run bench:start`: builds the server and starts it as an operator would (`node dist/server.js`,
 * what `npm start` runs; `--tsx` runs the sources through tsx instead) and prints the time to the
 * first 200 from /health and the process's RSS once idle, on a fresh embedded database and then
 * again on the same (existing) one; with BENCH_DATABASE_URL on PostgreSQL (a schema of its own,
 * dropped afterwards) instead.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const IDLE_WAIT_MS = 5000;
const fromSources = process.argv.includes('--tsx');
const command = fromSources ? ['--import', 'tsx', 'server.ts'] : ['dist/server.js'];
const START_LIMIT_MS = 180_000;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function startOnce(label: string, env: Record<string, string>): Promise<void> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const started = performance.now();
  const child = spawn(process.execPath, command, {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      JWT_SECRET: randomBytes(32).toString('hex'),
      MAIL_TRANSPORT: 'log',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    let upMs = NaN;
    while (performance.now() - started < START_LIMIT_MS) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        upMs = performance.now() - started;
        break;
      }
      if (child.exitCode !== null) throw new Error(`${label}: the server exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    console.log(`${label.padEnd(34)} start → /health ${(upMs / 1000).toFixed(2)} s   idle RSS ${rssMb(child.pid!).toFixed(0)} MB   (load average ${load})`);
  } finally {
    // A server that already exited (it failed to start) emits no further 'exit'.
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

console.log(`node ${command.join(' ')}; targets on PGlite: start → /health ≤ 2 s existing, ≤ 4 s fresh; idle RSS ≤ 300 MB`);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? '';
if (databaseUrl) {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  try {
    await startOnce('PostgreSQL, fresh schema', { DATABASE_URL: url.toString() });
    await startOnce('PostgreSQL, existing schema', { DATABASE_URL: url.toString() });
  } finally {
    await admin.query(`drop schema "${schema}" cascade`);
    await admin.end();
  }
} else {
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-start-'));
  try {
    await startOnce('PGlite, fresh data directory', { DATABASE_URL: '', PGLITE_DIR: dir });
    await startOnce('PGlite, existing data directory', { DATABASE_URL: '', PGLITE_DIR: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
