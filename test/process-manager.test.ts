import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { childEnv, freePort, repoRoot } from './helpers/process.js';

const built = existsSync(join(repoRoot, 'dist', 'server.js'));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, what: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('SIGTERM to the pid of `npm start` stops the server itself', { skip: !built && 'needs the build (npm run build)' }, async (t) => {
  const port = await freePort();
  const npm = spawn('npm', ['start'], {
    cwd: repoRoot,
    env: childEnv({ PORT: String(port), HOST: '127.0.0.1', PGLITE_DIR: 'memory://', LOG_LEVEL: 'info', NODE_ENV: 'development' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  npm.stdout.on('data', (d) => (out += d));
  npm.stderr.on('data', (d) => (out += d));
  const npmExited = new Promise((resolve) => npm.on('exit', resolve));
  let serverPid = 0;
  t.teardown(() => {
    if (serverPid && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
    npm.kill('SIGKILL');
  });
  // The server's own pid, from its first JSON log line.
  await until(() => /"pid":(\d+)/.test(out) && /Server listening/.test(out), 'the server to listen');
  serverPid = Number(/"pid":(\d+)/.exec(out)![1]);
  t.not(serverPid, npm.pid, 'the server runs in a process of its own');
  t.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);

  process.kill(npm.pid!, 'SIGTERM');
  await npmExited;
  await until(() => !alive(serverPid), 'the server process to end', 30_000);
  t.match(out, /shutting down/, 'the server shut down gracefully');
  await t.rejects(fetch(`http://127.0.0.1:${port}/health`), 'the port is free');
});
