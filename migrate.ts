import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError } from './src/config.js';
import { type DatabaseSettings, loadDatabaseSettings } from './src/settings.js';
import { connectDatabase, migrateToLatest } from './src/db/connect.js';

/** `npm run migrate`: brings the configured database (PostgreSQL or PGlite) to the latest schema. */
let dotenv: Record<string, string> = {};
try {
  dotenv = parseEnv(readFileSync('.env', 'utf8')) as Record<string, string>;
} catch {
  // no .env: environment only
}
let database: DatabaseSettings;
try {
  database = loadDatabaseSettings(dotenv, process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`inkwell: refusing to migrate: ${err.message}\n`);
  process.exit(1);
}
const handle = await connectDatabase({ databaseUrl: database.url, pgliteDir: database.pgliteDir, timeoutMs: database.timeoutMs });
try {
  const applied = await migrateToLatest(handle.db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
} finally {
  await handle.close();
}
