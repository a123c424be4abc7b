import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import closeWithGrace from 'close-with-grace';
import { PGliteThread } from './src/db/pglite-thread.js';

function readDotenv(path = '.env'): Record<string, string> {
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/**
 * The embedded database opens on its own thread while the server's modules load (about two seconds
 * each); the settings, checked later, decide whether it is used (same directory) or closed.
 */
function prestartDatabase(dotenv: Record<string, string>): void {
  const env = { ...dotenv, ...process.env };
  if (env.DATABASE_URL) return;
  PGliteThread.prestart(env.PGLITE_DIR || './data/pglite');
}

async function main(): Promise<void> {
  const dotenv = readDotenv();
  prestartDatabase(dotenv);
  const { buildApp } = await import('./app.js');
  const { ConfigError } = await import('./src/config.js');
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  try {
    app = await buildApp({ dotenv });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`inkwell: refusing to start: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
  });
  const { host, port } = app.settings.http;
  try {
    await app.listen({ host, port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A port taken or not ours to bind is an operator's setting to fix: one line, exit 1, no stack trace.
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw err;
    const why = code === 'EADDRINUSE' ? 'is already in use' : code === 'EACCES' ? 'may not be bound by this user' : 'is not an address of this machine';
    process.stderr.write(`inkwell: refusing to start: HOST:PORT ${host}:${port} ${why} (${code}); set PORT (or HOST) to a free one\n`);
    await app.close().catch(() => {});
    process.exit(1);
  }
}

await main();
