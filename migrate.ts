import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { loadConfig } from './src/config.js';
import { connectDatabase, migrateToLatest } from './src/db/connect.js';

/** `npm run migrate`: brings the configured database (PostgreSQL or PGlite) to the latest schema. */
let dotenv: Record<string, string> = {};
try {
  dotenv = parseEnv(readFileSync('.env', 'utf8')) as Record<string, string>;
} catch {
  // no .env: environment only
}
const config = loadConfig(dotenv, process.env);
const handle = await connectDatabase({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
try {
  const applied = await migrateToLatest(handle.db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
} finally {
  await handle.close();
}
