import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { migrateToLatest } from '../../src/db/connect.js';
import type { Database } from '../../src/db/types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Changes whenever a migration or the PGlite version changes, so a stale template is never used. */
function templateKey(): string {
  const h = createHash('sha256');
  const dir = join(root, 'migrations');
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  h.update(readFileSync(join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json')));
  return h.digest('hex').slice(0, 16);
}

let cached: Promise<Blob> | undefined;

/**
 * A dump of a freshly migrated embedded database. Starting PGlite from it takes a fraction of a
 * fresh initdb, so each test server starts fast. Kept in the OS temp dir across test processes.
 */
export function pgliteTemplate(): Promise<Blob> {
  cached ??= (async () => {
    const file = join(tmpdir(), `inkwell-pglite-${templateKey()}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const client = await PGlite.create('memory://');
    const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
    await migrateToLatest(db);
    const dump = await client.dumpDataDir('none');
    await db.destroy();
    const bytes = Buffer.from(await dump.arrayBuffer());
    // Write then rename: parallel test processes never see half a file.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, bytes);
    renameSync(partial, file);
    return new Blob([bytes]);
  })();
  return cached;
}
