/**
 * A template of a fresh embedded database: the data directory of a newly initialized and fully
 * migrated PGlite, dumped as a tar. `npm run build` writes one next to the built code; a fresh data
 * directory is unpacked from it instead of being made by initdb (a second WebAssembly engine, slow,
 * and memory the C allocator keeps). Tests make one the same way.
 *
 * Only Node built-ins are imported up front: the database thread imports this module for
 * readTemplate() and unpackTemplate(); what makeTemplate() needs is loaded when it runs.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The code's root: the repository from sources, dist/ once built. */
const codeRoot = join(here, '..', '..');
const migrationsDir = join(codeRoot, 'migrations');
/** Where the build keeps its template (dist/pglite-template; unused from sources unless one is made there). */
export const builtTemplateDir = join(codeRoot, 'pglite-template');

/**
 * Names a template by what it contains: the PGlite version and the migrations as this code has
 * them. A template made before either changed has another key, so it is never used.
 */
export function templateKey(): string {
  const h = createHash('sha256');
  const pglitePackage = join(dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..', 'package.json');
  h.update(`pglite ${(JSON.parse(readFileSync(pglitePackage, 'utf8')) as { version: string }).version}\n`);
  const ext = extname(fileURLToPath(import.meta.url));
  for (const f of readdirSync(migrationsDir).sort()) {
    if (extname(f) !== ext || f.endsWith(`.d${ext}`)) continue;
    h.update(`${f}\n`).update(readFileSync(join(migrationsDir, f)));
  }
  return h.digest('hex').slice(0, 16);
}

/** A freshly initialized embedded database with every migration applied, as an uncompressed tar. */
export async function makeTemplate(): Promise<Uint8Array> {
  const [{ PGlite }, { Kysely }, { PGliteDialect }, { migrateToLatest }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('kysely'),
    import('kysely-pglite-dialect'),
    import('./connect.js'),
  ]);
  const client = await PGlite.create('memory://');
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
  try {
    await migrateToLatest(db);
    const dump = await client.dumpDataDir('none');
    return new Uint8Array(await dump.arrayBuffer());
  } finally {
    await db.destroy();
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes a template for this code into dir (replacing any other there); returns its file. */
export async function writeTemplate(dir = builtTemplateDir): Promise<string> {
  const key = templateKey();
  const bytes = await makeTemplate();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${key}.tar`);
  // The checksum last, each written then renamed: a half-written template is never taken for one.
  writeFileSync(`${file}.partial`, bytes);
  renameSync(`${file}.partial`, file);
  writeFileSync(`${file}.sha256.partial`, `${sha256(bytes)}\n`);
  renameSync(`${file}.sha256.partial`, `${file}.sha256`);
  return file;
}

export type TemplateLookup = { found: true; bytes: Uint8Array } | { found: false; problem?: string };

/**
 * The template in dir made for this code, checked against its checksum. No template for this key
 * is not a problem (not built, or built before the migrations changed); one that does not match
 * its checksum or cannot be read is.
 */
export function readTemplate(dir = builtTemplateDir): TemplateLookup {
  let key: string;
  try {
    key = templateKey();
  } catch (err) {
    return { found: false, problem: `its key could not be computed (${(err as Error).message})` };
  }
  const file = join(dir, `${key}.tar`);
  let expected: string;
  try {
    expected = readFileSync(`${file}.sha256`, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { found: false };
    return { found: false, problem: `${file}.sha256 could not be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    return { found: false, problem: `${file} could not be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  if (sha256(bytes) !== expected) return { found: false, problem: `${file} does not match its checksum` };
  return { found: true, bytes };
}

/** Postgres's own mark of a data directory; PGlite runs initdb where it is missing. */
export const PG_VERSION = 'PG_VERSION';

/** The entries of a tar (the ustar PGlite's dumpDataDir writes); throws on anything damaged or cut short. */
function* untar(bytes: Uint8Array): Generator<{ path: string; dir: boolean; data: Uint8Array }> {
  const text = (from: number, length: number) => {
    const field = bytes.subarray(from, from + length);
    const end = field.indexOf(0);
    return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8');
  };
  const octal = (from: number, length: number) => Number.parseInt(text(from, length).trim() || '0', 8);
  for (let at = 0; ; ) {
    if (at + 512 > bytes.length) throw new Error('the archive is cut short');
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    if (sum !== octal(at + 148, 8)) throw new Error(`a header at byte ${at} is damaged`);
    const name = text(at, 100);
    const prefix = text(at + 257, 6) === 'ustar' ? text(at + 345, 155) : '';
    const path = (prefix ? `${prefix}/${name}` : name).replace(/^\/+/, '').replace(/\/+$/, '');
    if (!path || path.split('/').some((part) => part === '..' || part === '')) throw new Error(`an entry has an unusable name (${JSON.stringify(path)})`);
    const size = octal(at + 124, 12);
    const type = String.fromCharCode(header[156]!);
    if (at + 512 + size > bytes.length) throw new Error('the archive is cut short');
    if (type === '5') yield { path, dir: true, data: new Uint8Array(0) };
    else if (type === '0' || type === '\0') yield { path, dir: false, data: bytes.subarray(at + 512, at + 512 + size) };
    else throw new Error(`an entry is neither a file nor a directory (${path})`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

/**
 * Unpacks a template into dataDir, which holds no database (no PG_VERSION). It is unpacked into a
 * directory of its own inside dataDir first (same file system, even when dataDir is a mount
 * point), then moved into place with PG_VERSION last: until then PGlite sees no database there,
 * so a start cut short is simply done again. Returns the names it put into dataDir.
 */
export function unpackTemplate(bytes: Uint8Array, dataDir: string): string[] {
  const partial = join(dataDir, '.template-partial');
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    for (const entry of untar(bytes)) {
      const target = join(partial, entry.path);
      if (entry.dir) mkdirSync(target, { recursive: true });
      else {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, entry.data);
      }
    }
    const names = readdirSync(partial).sort((a, b) => Number(a === PG_VERSION) - Number(b === PG_VERSION));
    if (names.at(-1) !== PG_VERSION) throw new Error(`it has no ${PG_VERSION}`);
    for (const name of names) {
      // Left by a start cut short while moving: not a database yet (no PG_VERSION), the template's own.
      rmSync(join(dataDir, name), { recursive: true, force: true });
      renameSync(join(partial, name), join(dataDir, name));
    }
    return names;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}
