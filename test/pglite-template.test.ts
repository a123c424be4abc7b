import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { login, request } from './helpers/http.js';
import { freePort, repoRoot, runNode, serverOf, waitForHttp, type RunningProcess } from './helpers/process.js';
import { TEST_JWT_SECRET, testDatabase, type TestServer } from './helpers/server.js';

/**
 * The built server (`npm start`) on a fresh embedded database, with the template `npm run build`
 * made, without it, or with a damaged one. Each test runs a copy of dist/ (node_modules linked
 * beside it), so it may damage its template without touching the build.
 */
const dist = join(repoRoot, 'dist');
const templateDir = join(dist, 'pglite-template');
const built = existsSync(join(dist, 'server.js')) && existsSync(templateDir);
const skip = testDatabase !== 'pglite' ? 'the embedded database only' : !built && 'needs the build (npm run build)';

function copyOfBuild(t: Test, withTemplate: boolean): string {
  const root = t.testdir({});
  cpSync(dist, join(root, 'dist'), { recursive: true, filter: (src) => withTemplate || src !== templateDir });
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  return root;
}

/** The copy's template file (<key>.tar) and its checksum file. */
function templateFiles(root: string): { tar: string; sum: string } {
  const dir = join(root, 'dist', 'pglite-template');
  const tar = readdirSync(dir).find((f) => f.endsWith('.tar'));
  if (!tar) throw new Error('the build made no template');
  return { tar: join(dir, tar), sum: join(dir, `${tar}.sha256`) };
}

async function start(t: Test, root: string, pgliteDir: string): Promise<{ proc: RunningProcess; server: TestServer; logs: () => Record<string, unknown>[] }> {
  const port = await freePort();
  const env = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    JWT_SECRET: TEST_JWT_SECRET,
    MAIL_TRANSPORT: 'log',
    OTP_COOLDOWN: '1ms',
    DATABASE_URL: '',
    PGLITE_DIR: pgliteDir,
  };
  const proc = runNode([join(root, 'dist', 'server.js')], env, root);
  t.teardown(() => void proc.child.kill('SIGKILL'));
  await waitForHttp(`http://127.0.0.1:${port}/health`, proc);
  const server = serverOf(proc, port);
  const logs = () => server.logs.raw.flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : []));
  return { proc, server, logs };
}

const created = (logs: Record<string, unknown>[]) => logs.find((l) => l.msg === 'embedded database created')?.created;
const warnings = (logs: Record<string, unknown>[]) => logs.filter((l) => (l.level as number) >= 40 && String(l.msg).includes('template')).map((l) => String(l.msg));

t.test('a fresh directory starts from the build template; kill -9 and restart find everything', { skip }, async (t) => {
  const root = copyOfBuild(t, true);
  const dir = join(root, 'data', 'pglite');
  const first = await start(t, root, dir);
  t.equal(created(first.logs()), 'template', 'created from the template, not by initdb');
  t.notOk(
    first.logs().some((l) => l.msg === 'database migrated'),
    'the template has every migration',
  );
  t.same(warnings(first.logs()), [], 'no warning');

  const owner = await login(first.server, 'template-owner@example.com');
  const room = await request(first.server, 'POST', '/api/v1/rooms/', { token: owner.access, body: {} });
  t.equal(room.status, 201, 'a room can be made');
  const roomId: string = room.body.roomId;
  first.proc.child.kill('SIGKILL');
  t.equal((await first.proc.exited).signal, 'SIGKILL');

  const second = await start(t, root, dir);
  t.equal(created(second.logs()), undefined, 'the second start opens the existing database');
  const again = await request(second.server, 'GET', `/api/v1/rooms/${roomId}/`, { token: owner.access });
  t.equal(again.status, 200, 'the room is still there');
  t.equal(again.body.roomId, roomId);
  const other = await login(second.server, 'template-owner@example.com');
  t.equal(other.user.id, owner.user.id, 'the same account');
  second.proc.child.kill('SIGTERM');
  await second.proc.exited;
});

t.test('without a template a fresh directory is made by initdb, silently', { skip }, async (t) => {
  const root = copyOfBuild(t, false);
  const { server, logs, proc } = await start(t, root, join(root, 'pglite'));
  t.equal(created(logs()), 'initdb');
  t.same(warnings(logs()), [], 'no warning');
  t.ok((await login(server, 'no-template@example.com')).access, 'works');
  proc.child.kill('SIGTERM');
  await proc.exited;
});

/** A ustar archive of these files (what PGlite's dumpDataDir writes, names from the root). */
function tarOf(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const header = Buffer.alloc(512);
    header.write(`/${name}`, 0);
    header.write('0000644\0', 100);
    header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\u000000', 257);
    header.write(
      `${header
        .reduce((a, b) => a + b, 0)
        .toString(8)
        .padStart(6, '0')}\0 `,
      148,
    );
    const body = Buffer.alloc(Math.ceil(content.length / 512) * 512);
    body.write(content);
    blocks.push(header, body);
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

/** What is done to the template; whether its checksum is made to match; the warning; whether to restart on the directory. */
const damages: [string, (tar: Buffer) => Buffer, boolean, RegExp, boolean][] = [
  ['one byte changed', (tar) => Buffer.concat([tar.subarray(0, 1000), Buffer.from([tar[1000]! ^ 0xff]), tar.subarray(1001)]), false, /does not match its checksum/, false],
  ['cut short, checksum made to match', (tar) => tar.subarray(0, tar.length >> 1), true, /could not be unpacked \(the archive is cut short\)/, false],
  ['not a tar at all, checksum made to match', () => randomBytes(4096), true, /could not be unpacked/, false],
  ['a tar of no database, checksum made to match', () => tarOf({ PG_VERSION: '17\n' }), true, /the database did not open from it/, true],
];
for (const [what, damage, matching, why, restart] of damages) {
  t.test(`a damaged template (${what}): one warning, initdb, and the server works`, { skip }, async (t) => {
    const root = copyOfBuild(t, true);
    const { tar, sum } = templateFiles(root);
    const bad = damage(readFileSync(tar));
    writeFileSync(tar, bad);
    if (matching) writeFileSync(sum, `${createHash('sha256').update(bad).digest('hex')}\n`);
    const dir = join(root, 'pglite');
    const first = await start(t, root, dir);
    t.equal(created(first.logs()), 'initdb');
    const warned = warnings(first.logs());
    t.equal(warned.length, 1, 'one warning line');
    t.match(warned[0], why);
    const owner = await login(first.server, 'damaged@example.com');
    const room = await request(first.server, 'POST', '/api/v1/rooms/', { token: owner.access, body: {} });
    t.equal(room.status, 201);
    first.proc.child.kill('SIGTERM');
    await first.proc.exited;
    if (!restart) return;

    const second = await start(t, root, dir);
    t.equal(created(second.logs()), undefined, 'then opened as an existing database');
    t.equal((await request(second.server, 'GET', `/api/v1/rooms/${room.body.roomId}/`, { token: owner.access })).status, 200, 'with its data');
    second.proc.child.kill('SIGTERM');
    await second.proc.exited;
  });
}
