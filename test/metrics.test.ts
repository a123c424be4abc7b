import t from 'tap';
import { request } from './helpers/http.js';
import { count, scrape, value } from './helpers/metrics.js';
import { startServer } from './helpers/server.js';
import { newUser as newLearner, openChat, startTutor, turnFrames } from './tutor/tutor-helpers.js';
import { createRoom, joined, line, newUser } from './whiteboard/fixtures.js';

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

t.test('commit batch size and duration, events delivered by type, send→deliver once per event', async (t) => {
  const server = await startServer(t, { env: { METRICS: 'true' } });
  const alice = await newUser(server, 'sender');
  const bob = await newUser(server, 'receiver');
  const roomId = await createRoom(server, alice);
  const a = await joined(server, alice, roomId);
  const b = await joined(server, bob, roomId);
  t.teardown(() => Promise.all([a.sock.close(), b.sock.close()]));
  await a.sock.next('member_joined');
  for (const ref of ['d1', 'd2', 'd3']) {
    a.sock.send(line(roomId, { clientRef: ref }));
    const drawn = await a.sock.next((m) => m.type === 'draw' && m.clientRef === ref);
    await b.sock.next((m) => m.type === 'draw' && m.drawing.id === drawn.drawing.id);
  }
  a.sock.send({ type: 'cursor', roomId, x: 5, y: 5 });
  await b.sock.next('cursor');

  const text = await scrape(server);
  const commits = value(text, 'inkwell_commits_total')!;
  t.ok(commits >= 1);
  t.equal(count(text, 'inkwell_commit_batch_size'), commits, 'one batch size per transaction');
  t.equal(value(text, 'inkwell_commit_batch_size_sum'), 3, 'the three draws, however they were batched');
  t.equal(count(text, 'inkwell_commit_duration_seconds'), commits, 'one duration per transaction');
  t.ok(value(text, 'inkwell_commit_duration_seconds_sum')! > 0);
  t.equal(value(text, 'inkwell_events_delivered_total{type="draw"}'), 6, 'three draws, each to both sockets');
  t.equal(value(text, 'inkwell_events_delivered_total{type="cursor"}'), 1, 'a cursor to the other socket only');
  t.equal(value(text, 'inkwell_events_delivered_total{type="member_joined"}'), 1);
  t.equal(count(text, 'inkwell_send_to_deliver_seconds'), 3, 'send→deliver: once per stored event, not once per receiver');
  t.ok(value(text, 'inkwell_send_to_deliver_seconds_sum')! > 0);
  t.equal(value(text, 'inkwell_writes_refused_total'), 0);
  // One instance has no room bus between instances: its figures are there, at zero.
  t.equal(value(text, 'inkwell_bus_messages_total{direction="published"}'), 0);
  t.equal(count(text, 'inkwell_bus_order_wait_seconds'), 0);
  t.equal(value(text, 'inkwell_bus_gap_reads_total{outcome="filled"}'), 0);
  t.equal(value(text, 'inkwell_bus_events_skipped_total'), 0);
  t.equal(value(text, 'inkwell_writes_forwarded_total{outcome="stored"}'), 0);
  for (const name of ['inkwell_commit_batch_size', 'inkwell_commit_duration_seconds', 'inkwell_send_to_deliver_seconds']) {
    t.match(text, new RegExp(`# HELP ${name} .+\\n# TYPE ${name} histogram`), `${name} is a histogram with its help`);
  }
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

t.test('tutor turns by outcome, first token and first audio, provider errors by capability and code; faults at warn, refusals never at error', async (t) => {
  const { server, fake } = await startTutor(t, { env: { METRICS: 'true', TUTOR_QUEUE_LIMIT: 1, TUTOR_QUESTIONS_PER_MINUTE: 5 } });
  const learner = await newLearner(server, 'metered');
  const sock = await openChat(server, 1, learner);
  t.teardown(() => sock.close());

  sock.send({ data: 'What is a gerund?' });
  t.equal((await turnFrames(sock)).at(-1).type, 'completed', 'answered');
  sock.send({ data: 'Say it aloud', speak: true });
  t.ok(
    (await turnFrames(sock)).some((f) => f.type === 'audio'),
    'answered with audio',
  );

  fake.once('chat', { fail: { status: 429, message: 'Rate limit reached for sk-live-abcdef0123456789 in organization org-123' } });
  sock.send({ data: 'a private question about my visa' });
  t.match(
    (await turnFrames(sock)).find((f) => f.type === 'error'),
    { code: 'ai_rate_limited' },
  );

  // One running (hung), one waiting, the third is refused as busy; stopping the first lets the second run.
  fake.once('chat', { hang: true });
  sock.send({ data: 'first' });
  await fake.waitForRequest('/chat/completions', 4);
  sock.send({ data: 'second' });
  sock.send({ data: 'third' });
  t.equal((await sock.next('error')).code, 'busy');
  sock.send({ command: 'stop' });
  await sock.next((m) => m.type === 'delta');
  await sock.next('completed');
  await sock.next('completed');
  // Five questions asked in the minute (the busy one was never counted): the sixth is rate limited.
  sock.send({ data: 'sixth' });
  t.equal((await sock.next('error')).code, 'rate_limited');
  await sock.next('completed');

  // A picture refused by the provider's content rules, one failed by a 500.
  const painter = await newUser(server, 'painter');
  const roomId = await createRoom(server, painter);
  const { sock: board } = await joined(server, painter, roomId);
  t.teardown(() => board.close());
  fake.once('images', { fail: { status: 400, code: 'moderation_blocked', message: 'Rejected by the safety system.' } });
  board.send({ type: 'ai_generate_image', roomId, prompt: 'a forbidden secret prompt' });
  t.match(await board.next('ai_message'), { error: true, code: 'moderation_blocked' });
  fake.once('images', { fail: { status: 500 } });
  board.send({ type: 'ai_generate_image', roomId, prompt: 'another picture' });
  t.match(await board.next('ai_message'), { error: true, code: 'ai_failed' });

  const text = await scrape(server);
  const turns = (outcome: string, code = '') => value(text, `inkwell_tutor_turns_total{outcome="${outcome}",code="${code}"}`);
  t.equal(turns('completed'), 3, 'completed: the plain, the spoken and the one that waited');
  t.equal(turns('stopped'), 1);
  t.equal(turns('failed', 'ai_rate_limited'), 1, 'failed, by the code the learner saw');
  t.equal(turns('refused', 'busy'), 1);
  t.equal(turns('refused', 'rate_limited'), 1);
  t.equal(count(text, 'inkwell_tutor_first_token_seconds'), 3, 'first token: once per answered turn');
  t.equal(count(text, 'inkwell_tutor_first_audio_seconds'), 1, 'first audio: the spoken turn');
  t.match(text, /# HELP inkwell_tutor_first_token_seconds .+\n# TYPE inkwell_tutor_first_token_seconds histogram/);
  t.equal(value(text, 'inkwell_provider_errors_total{capability="tutor",code="ai_rate_limited"}'), 1);
  t.equal(value(text, 'inkwell_provider_errors_total{capability="pictures",code="moderation_blocked"}'), 1);
  t.equal(value(text, 'inkwell_provider_errors_total{capability="pictures",code="ai_failed"}'), 1);

  const lines = server.logs.lines();
  const fault = lines.find((l) => l.msg === 'tutor turn failed');
  t.match(fault, { level: 40, code: 'ai_rate_limited', err: { status: 429 } }, 'a provider fault is a warning with its code');
  t.match(
    lines.filter((l) => l.msg === 'image generation failed').map((l) => [l.level, l.code]),
    [
      [40, 'moderation_blocked'],
      [40, 'ai_failed'],
    ],
  );
  const log = server.logs.text();
  t.notMatch(log, /abcdef0123456789|sk-test/, 'no key, not even the one the provider echoes');
  t.notMatch(log, /private question|forbidden secret prompt/, 'no question, no prompt');
  t.same(
    lines.filter((l) => l.level >= 50),
    [],
    'busy, rate limited and provider faults: nothing at error',
  );
});

t.test('a receiver that stopped reading is closed with 1013 and counted', async (t) => {
  const server = await startServer(t, { env: { METRICS: 'true', WS_SEND_BUFFER_LIMIT: 256 * 1024, WS_RATE_BURST: 10_000, WS_RATE_PER_SECOND: 10_000 } });
  const alice = await newUser(server, 'writer');
  const bob = await newUser(server, 'reader');
  const roomId = await createRoom(server, alice);
  const a = await joined(server, alice, roomId);
  const b = await joined(server, bob, roomId);
  t.equal(value(await scrape(server), 'inkwell_send_buffer_closes_total{kind="whiteboard"}'), 0, 'none before');
  b.sock.ws.pause();
  const points = Array.from({ length: 2000 }, (_, i) => ({ x: i, y: i }));
  let n = 0;
  while (b.sock.ws.readyState === b.sock.ws.OPEN && ![...server.app.websocketServer.clients].some((s) => s.readyState !== s.OPEN) && n < 2000) {
    a.sock.send(line(roomId, { clientRef: `g${n}`, points }));
    await a.sock.next((m) => m.type === 'draw' && m.clientRef === `g${n}`);
    n++;
  }
  b.sock.ws.resume();
  t.equal((await b.sock.closed).code, 1013);
  const text = await scrape(server);
  t.equal(value(text, 'inkwell_send_buffer_closes_total{kind="whiteboard"}'), 1, 'one close, counted once');
  t.equal(value(text, 'inkwell_send_buffer_closes_total{kind="tutor"}'), 0);
  await a.sock.close();
});
