import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError } from './src/config.js';

function readDotenv(path = '.env'): Record<string, string> {
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

async function main(): Promise<void> {
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  try {
    app = await buildApp({ dotenv: readDotenv() });
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
  await app.listen({ host: app.settings.http.host, port: app.settings.http.port });
}

await main();
