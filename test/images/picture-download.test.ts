import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { ImageGenerationError } from '../../src/images/image-studio.js';
import { downloadPicture } from '../../src/images/picture-download.js';
import { isPublicAddress } from '../../src/images/public-address.js';
import { TINY_PNG } from '../helpers/fake-openai.js';
import { startInternalServer } from './fixtures.js';

const limits = { timeoutMs: 2000, maxBytes: 1024 * 1024 };

t.test('only public addresses count as public', async (t) => {
  for (const address of ['8.8.8.8', '172.32.0.1', '::ffff:8.8.8.8', '2606:4700::1111']) t.ok(isPublicAddress(address), address);
  const inside = [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '::1',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a9fe:a9fe',
    '2002:a00:1::1',
    'ff02::1',
    'not an address',
  ];
  for (const address of inside) t.notOk(isPublicAddress(address), address);
});

t.test('a URL off the trusted origin must be https to a public host', async (t) => {
  const internal = await startInternalServer();
  t.teardown(() => internal.close());
  const port = new URL(internal.url).port;
  const refused = [
    `${internal.url}/a.png`, // http, another origin
    `https://127.0.0.1:${port}/a.png`,
    `https://[::1]:${port}/a.png`,
    `https://[::ffff:127.0.0.1]:${port}/a.png`,
    `https://localhost:${port}/a.png`,
    'https://169.254.169.254/latest/meta-data/',
    'file:///etc/passwd',
  ];
  for (const url of refused) {
    const err = await downloadPicture(url, limits, undefined, 'http://127.0.0.1:1').catch((e: unknown) => e);
    t.ok(err instanceof ImageGenerationError, url);
    t.equal((err as ImageGenerationError).code, 'ai_failed', url);
  }
  t.equal(internal.hits(), 0, 'nothing was fetched');

  const picture = await downloadPicture(`${internal.url}/a.png`, limits, undefined, internal.url);
  t.ok(picture.bytes.equals(TINY_PNG), 'the trusted origin is fetched as is');
});

t.test('redirects are followed by hand, three at most', async (t) => {
  // /hop/<n> redirects to /hop/<n-1>; /hop/0 is the picture.
  const server = createServer((req, res) => {
    const n = Number(/^\/hop\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
    if (n > 0) return void res.writeHead(302, { location: `/hop/${n - 1}` }).end();
    res.writeHead(200, { 'content-type': 'image/png' }).end(TINY_PNG);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ok = await downloadPicture(`${origin}/hop/3`, limits, undefined, origin);
  t.ok(ok.bytes.equals(TINY_PNG), 'three hops are fine');
  const err = await downloadPicture(`${origin}/hop/4`, limits, undefined, origin).catch((e: unknown) => e);
  t.equal((err as ImageGenerationError).code, 'ai_failed', 'four are not');
});
