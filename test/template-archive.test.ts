/**
 * The embedded database's build-time template, read and unpacked in process: the archive reader
 * (which refuses names that would leave the data directory), the checksum check and the one-line
 * refusals a database that cannot be opened turns into. The server-level behaviour (a fresh
 * directory from the template, the fallback to initdb) is in pglite-template.test.ts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { PG_VERSION, readTemplate, templateKey, unpackTemplate } from '../src/db/pglite-template.js';
import { startupError } from '../src/db/startup-error.js';
import { ConfigError } from '../src/config.js';

type Entry = { name: string; dir?: boolean; data?: string; type?: string };

/** A ustar archive as PGlite's dumpDataDir writes one: a 512-byte header per entry, then its data. */
function tar(entries: Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const header = Buffer.alloc(512);
    header.write(e.name, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write(e.type ?? (e.dir ? '5' : '0'), 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    header.fill(32, 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const database: Entry[] = [
  { name: PG_VERSION, data: '17\n' },
  { name: 'base/', dir: true },
  { name: 'base/1/1259', data: 'pages' },
  { name: 'global/pg_control', data: 'control' },
];

t.test('a template is unpacked into the directory with PG_VERSION moved in last', async (t) => {
  const dir = t.testdir({ 'left-over': 'kept' });
  const names = unpackTemplate(tar(database), dir);
  t.same(names, ['base', 'global', PG_VERSION], 'PG_VERSION last: until it is there, PGlite sees no database');
  t.equal(readFileSync(join(dir, 'base/1/1259'), 'utf8'), 'pages');
  t.equal(readFileSync(join(dir, PG_VERSION), 'utf8'), '17\n');
  t.equal(readFileSync(join(dir, 'left-over'), 'utf8'), 'kept', 'what else is in the directory stays');
  t.notOk(existsSync(join(dir, '.template-partial')), 'nothing half-done is left behind');
});

t.test('an archive that is damaged or would write outside the directory is refused, and nothing of it stays', async (t) => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['a name climbing out of the directory', tar([{ name: '../escaped', data: 'x' }, ...database]), /unusable name/],
    ['a name climbing out midway', tar([{ name: 'base/../../escaped', data: 'x' }, ...database]), /unusable name/],
    ['a symbolic link', tar([{ name: 'base/link', type: '2' }, ...database]), /neither a file nor a directory/],
    [
      'a damaged header',
      (() => {
        const bytes = tar(database);
        bytes[10] = 0x41;
        return bytes;
      })(),
      /damaged/,
    ],
    ['an archive cut short', tar(database).subarray(0, 700), /cut short/],
    ['an archive without PG_VERSION', tar(database.slice(1)), /no PG_VERSION/],
  ];
  for (const [what, bytes, problem] of cases) {
    const root = t.testdir({ data: {} });
    const dir = join(root, 'data');
    t.throws(() => unpackTemplate(bytes, dir), problem, what);
    t.same(readdirSync(dir), [], `${what}: the directory is left empty`);
    t.notOk(existsSync(join(root, 'escaped')), `${what}: nothing written outside it`);
  }
});

t.test('a template is used only when it matches its checksum', async (t) => {
  const dir = t.testdir({});
  t.same(readTemplate(dir), { found: false }, 'none built: not a problem, initdb runs');
  const file = join(dir, `${templateKey()}.tar`);
  const bytes = tar(database);
  writeFileSync(file, bytes);
  writeFileSync(`${file}.sha256`, `${'0'.repeat(64)}\n`);
  t.match(readTemplate(dir), { found: false, problem: /does not match its checksum/ });
  writeFileSync(`${file}.sha256`, `${createHash('sha256').update(bytes).digest('hex')}\n`);
  const found = readTemplate(dir);
  t.ok(found.found && Buffer.from(found.bytes).equals(bytes), 'the checked bytes');
  mkdirSync(join(dir, 'other'));
  t.same(readTemplate(join(dir, 'other')), { found: false }, 'a directory with no template for this key');
});

t.test('a database that cannot be opened at start is one line naming the variable, without the password', async (t) => {
  const url = 'postgres://inkwell:s3cret@db.example:6543/app';
  const refusal = (err: unknown, databaseUrl = url) => {
    const out = startupError(err, databaseUrl, '/var/lib/inkwell');
    t.type(out, ConfigError);
    t.notMatch((out as Error).message, /s3cret/, 'no password');
    return (out as Error).message;
  };
  t.match(refusal(new Error('bad dir'), ''), /^PGLITE_DIR: the embedded database at "\/var\/lib\/inkwell" could not be opened \(bad dir\)/);
  t.match(refusal(Object.assign(new Error('database "app" does not exist'), { code: '3D000' })), /^DATABASE_URL: the database db\.example:6543\/app does not exist/);
  t.match(refusal(Object.assign(new Error('password authentication failed'), { code: '28P01' })), /^DATABASE_URL: PostgreSQL at db\.example:6543\/app refused the login/);
  t.match(
    refusal(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    /^DATABASE_URL: PostgreSQL at db\.example:6543\/app does not answer \(ECONNREFUSED\)/,
  );
  t.match(refusal(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'postgres://h/d'), /at h:5432\/d /, 'the default port named');
  const bug = new Error('a migration failed');
  t.equal(startupError(bug, url, ''), bug, 'anything else is passed on unchanged');
});
