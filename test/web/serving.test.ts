import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildApp } from '../../app.js';
import { webRoot } from '../../plugins/web-app.js';
import { startServer } from '../helpers/server.js';
import { ensureBuilt } from './browser.js';

ensureBuilt();

t.test('the app is served at /, /rooms/… and /tutor/… without shadowing the server', async (t) => {
  const server = await startServer(t, { env: { API_RATE_LIMIT_PER_MINUTE: 3 } });
  for (const path of ['/', '/rooms/some-room', '/tutor/5', '/tutor/general/']) {
    const res = await fetch(server.url + path);
    t.equal(res.status, 200, path);
    t.match(res.headers.get('content-type'), /text\/html/, `${path} is the page`);
    t.equal(res.headers.get('cache-control'), 'no-cache', `${path} is never cached`);
  }
  const html = readFileSync(join(webRoot(), 'index.html'), 'utf8');
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  t.ok(script, 'the page loads a hashed script');
  const asset = await fetch(server.url + script);
  t.equal(asset.status, 200);
  t.match(asset.headers.get('cache-control'), /max-age=31536000.*immutable|immutable.*max-age=31536000/, 'hashed assets are cached for a year');
  t.match(asset.headers.get('content-type'), /javascript/);

  // Page loads do not use up the per-IP API limit (3 here).
  for (let i = 0; i < 5; i++) t.equal((await fetch(`${server.url}/`)).status, 200, `page load ${i + 1}`);
  for (const path of ['/health', '/docs/json', '/api/v1/grammar/']) t.match((await fetch(server.url + path)).headers.get('content-type'), /json/, `${path} is still the server's`);
  t.equal((await fetch(`${server.url}/nope`)).status, 404, 'other paths are not the app');
});

t.test('CORS: only the configured origins, none by default', async (t) => {
  const plain = await startServer(t);
  const none = await fetch(`${plain.url}/api/v1/grammar/`, { headers: { origin: 'https://app.example.com' } });
  t.equal(none.headers.get('access-control-allow-origin'), null, 'no CORS headers by default');

  const server = await startServer(t, { env: { CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' } });
  const ok = await fetch(`${server.url}/api/v1/grammar/`, { headers: { origin: 'https://app.example.com' } });
  t.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example.com');
  const preflight = await fetch(`${server.url}/api/v1/auth/me/`, {
    method: 'OPTIONS',
    headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });
  t.equal(preflight.status, 204);
  t.equal(preflight.headers.get('access-control-allow-origin'), 'http://localhost:5173');
  t.match(preflight.headers.get('access-control-allow-headers'), /authorization/);
  const other = await fetch(`${server.url}/api/v1/grammar/`, { headers: { origin: 'https://evil.example' } });
  t.equal(other.headers.get('access-control-allow-origin'), null, 'an origin not listed gets no CORS headers');

  await t.rejects(buildApp({ processEnv: false, env: { CORS_ORIGINS: 'app.example.com', PGLITE_DIR: 'memory://' } }), {
    name: 'ConfigError',
    message: /CORS_ORIGINS must be a comma-separated list of origins/,
  });
});

t.test('the AsyncAPI document of both sockets', async (t) => {
  const server = await startServer(t);
  const res = await fetch(`${server.url}/docs/asyncapi.json`);
  t.equal(res.status, 200);
  const doc = (await res.json()) as any;
  t.equal(doc.asyncapi, '3.0.0');
  t.equal(doc.channels.whiteboard.address, '/ws');
  t.equal(doc.channels.tutor.address, '/chat/{grammarId}/');
  for (const name of ['client.join_room', 'client.draw', 'server.room_state', 'server.draw', 'server.error']) t.ok(doc.channels.whiteboard.messages[name], name);
  for (const name of ['client.data', 'client.audio', 'server.delta', 'server.completed']) t.ok(doc.channels.tutor.messages[name], name);
  t.equal(doc.operations.whiteboardSend.action, 'send');
  const openapi = (await (await fetch(`${server.url}/docs/json`)).json()) as any;
  t.match(openapi.info.description, /\/docs\/asyncapi\.json/, '/docs links to it');
});
