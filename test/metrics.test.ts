import t from 'tap';
import { request } from './helpers/http.js';
import { startServer } from './helpers/server.js';
import { createRoom, joined, line, newUser } from './whiteboard/fixtures.js';

/** The value of one sample in Prometheus text, e.g. value(text, 'inkwell_rooms_active'). */
function value(text: string, sample: string): number | undefined {
  const row = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return row === undefined ? undefined : Number(row.slice(sample.length + 1));
}

t.test('off unless METRICS=true', async (t) => {
  const server = await startServer(t);
  t.equal((await request(server, 'GET', '/metrics')).status, 404);
});

t.test('after real traffic, a scrape shows sockets, rooms, stored events and HTTP by route and status', async (t) => {
  const server = await startServer(t, { env: { METRICS: 'true', API_RATE_LIMIT_PER_MINUTE: 30 } });
  const alice = await newUser(server, 'metrics');
  const roomId = await createRoom(server, alice);
  const { sock } = await joined(server, alice, roomId);
  for (const ref of ['m1', 'm2', 'm3']) {
    sock.send(line(roomId, { clientRef: ref }));
    await sock.next((m) => m.type === 'draw' && m.clientRef === ref);
  }
  await request(server, 'GET', '/api/v1/rooms/no-such-room/', { token: alice.access });

  const res = await fetch(`${server.url}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  t.equal(value(text, 'inkwell_open_sockets{kind="whiteboard"}'), 1, 'one whiteboard socket open');
  t.equal(value(text, 'inkwell_open_sockets{kind="tutor"}'), 0);
  t.equal(value(text, 'inkwell_rooms_active'), 1);
  t.equal(value(text, 'inkwell_events_stored_total'), 3, 'three drawings stored');
  t.ok(value(text, 'inkwell_commits_total')! >= 1);
  t.equal(value(text, 'inkwell_http_requests_total{method="POST",route="/api/v1/rooms",status="201"}'), 1, 'the room creation, by route and status');
  t.equal(value(text, 'inkwell_http_requests_total{method="GET",route="/api/v1/rooms/:idOrSlug/",status="404"}'), 1, 'a 404, by route pattern not raw path');
  t.match(text, /inkwell_process_cpu_seconds_total/, 'process figures too');

  await sock.close();
  // Prometheus scrapes often: never rate limited (the limit here is 30 a minute).
  let last = 0;
  for (let i = 0; i < 40; i++) last = (await fetch(`${server.url}/metrics`)).status;
  t.equal(last, 200, 'never behind the API rate limit');
  const after = await (await fetch(`${server.url}/metrics`)).text();
  t.equal(value(after, 'inkwell_open_sockets{kind="whiteboard"}'), 0, 'the closed socket is no longer counted');
});

t.test('METRICS_TOKEN makes it a bearer-token route', async (t) => {
  const server = await startServer(t, { env: { METRICS: 'true', METRICS_TOKEN: 'scrape-secret' } });
  const none = await request(server, 'GET', '/metrics');
  t.equal(none.status, 401);
  t.match(none.body.message, /METRICS_TOKEN/);
  t.equal((await request(server, 'GET', '/metrics', { token: 'wrong' })).status, 401);
  const ok = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer scrape-secret' } });
  t.equal(ok.status, 200);
  t.match(await ok.text(), /inkwell_http_requests_total/);
});
