import t from 'tap';
import { ManualClock } from '../helpers/clock.js';
import { request } from '../helpers/http.js';
import { persistentDatabase, startServer } from '../helpers/server.js';
import { newUser, openChat, pause, startTutor, turnFrames } from './tutor-helpers.js';

const { server, fake } = await startTutor(t, { env: { OPENAI_TIMEOUT: '1s' } });
t.beforeEach(() => fake.reset());

async function history(session: { access: string }, grammarId: number) {
  return (await request(server, 'GET', `/api/v1/chat/history/${grammarId}/`, { token: session.access })).body.results;
}

t.test('stop mid-stream aborts the provider request and completes the turn once, stored as stopped', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 4, s);
  t.teardown(() => sock.close());
  fake.chat.chunks = ['The', ' answer', ' goes', ' on', ' and on.'];
  fake.chat.chunkDelayMs = 150;
  sock.send({ data: 'Tell me everything' });
  const first = await sock.next('delta');
  const req = await fake.waitForRequest('/chat/completions');
  sock.send({ command: 'stop' });
  const done = await sock.next('completed');
  t.equal(done.id, first.id);
  await fake.waitForClose(req);
  t.equal(req.aborted, true, 'the provider request was aborted');
  await pause(400);
  const after = sock.drain((m) => m.id === first.id);
  t.same(
    after.filter((m) => m.type === 'completed'),
    [],
    'exactly one completed.',
  );
  t.same(after, [], 'nothing of the turn after completed.');

  const stored = await history(s, 4);
  t.same(
    stored.map((m: any) => [m.role, m.status]),
    [
      ['assistant', 'stopped'],
      ['user', 'stopped'],
    ],
  );
  t.match(stored[0].content, /^The/);
  t.notMatch(stored[0].content, /and on\./);
  t.equal(stored[0].responseId, first.id);
});

t.test('stop before the first byte aborts the waiting request', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 4, s);
  t.teardown(() => sock.close());
  fake.chat.hang = true;
  sock.send({ data: 'Hello?' });
  const req = await fake.waitForRequest('/chat/completions');
  sock.send({ command: 'stop' });
  const frames = await turnFrames(sock);
  t.same(
    frames.map((f) => f.type),
    ['completed'],
  );
  await fake.waitForClose(req);
  t.equal(req.aborted, true);
  sock.send({ command: 'stop' }); // nothing running: harmless
  sock.send({ command: 'ping' });
  t.equal((await sock.next('pong')).message, 'pong');
});

const providerCases = [
  { name: '429', chat: { fail: { status: 429, message: 'Slow down' } }, code: 'ai_rate_limited', deltas: [] },
  { name: '500', chat: { fail: { status: 500 } }, code: 'ai_failed', deltas: [] },
  { name: 'timeout before first byte', chat: { firstByteDelayMs: 2000 }, code: 'ai_timeout', deltas: [] },
  { name: 'stalled stream', chat: { chunks: ['Hello', ' stalled'], chunkDelayMs: 2000 }, code: 'ai_timeout', deltas: ['Hello'] },
  { name: 'connection cut mid-stream', chat: { failAfterChunks: 2 }, code: 'ai_failed', deltas: ['Hello', ' there'] },
];

for (const c of providerCases) {
  t.test(`provider failure: ${c.name} → ${c.code}, then completed.`, async (t) => {
    const s = await newUser(server);
    const sock = await openChat(server, 5, s);
    t.teardown(() => sock.close());
    Object.assign(fake.chat, c.chat);
    sock.send({ data: 'Why?' });
    const frames = await turnFrames(sock);
    const id = frames[0].id;
    t.same(
      frames.filter((f) => f.type === 'delta').map((f) => f.message),
      c.deltas,
    );
    const error = frames.find((f) => f.type === 'error');
    t.match(error, { type: 'error', error: true, code: c.code, id, message: String });
    t.notMatch(error.message, /Slow down|Fake OpenAI/, 'provider text is not passed through');
    t.same(frames.at(-1), { type: 'completed', error: false, message: 'completed.', id });
    t.equal(frames.filter((f) => f.type === 'completed').length, 1);
    const stored = await history(s, 5);
    t.same(
      stored.map((m: any) => m.status),
      ['failed', 'failed'],
    );
    t.equal(stored[0].content, c.deltas.join(''), 'the partial answer is kept');

    fake.reset();
    sock.send({ data: 'And now?' });
    t.equal((await turnFrames(sock)).at(-1).message, 'completed.', 'the socket carries on');
  });
}

t.test('turns run in order; at most TUTOR_QUEUE_LIMIT (4) wait, more → busy', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 6, s);
  t.teardown(() => sock.close());
  fake.once('chat', { hang: true });
  for (let i = 0; i < 6; i++) sock.send({ data: `question ${i}` });
  const busy = await sock.next('error');
  t.match(busy, { code: 'busy', error: true, id: String });
  t.same(await sock.next((m) => m.id === busy.id), { type: 'completed', error: false, message: 'completed.', id: busy.id }, 'a refused question still completes');

  await fake.waitForRequest('/chat/completions');
  sock.send({ command: 'stop' });
  const completedIds: string[] = [];
  while (completedIds.length < 5) completedIds.push((await sock.next('completed')).id);
  t.equal(new Set([...completedIds, busy.id]).size, 6, 'six distinct turn ids');
  const asked = fake.requestsTo('/chat/completions').map((r) => (r.body as any).messages.at(-1).content);
  t.same(asked, ['question 0', 'question 1', 'question 2', 'question 3', 'question 4'], 'in order; question 5 never reached the model');
});

t.test('closing the socket stops the running answer and stores it', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 7, s);
  fake.chat.chunks = ['Part one.', ' Part two.'];
  fake.chat.chunkDelayMs = 1000;
  sock.send({ data: 'Long one' });
  await sock.next('delta');
  const req = await fake.waitForRequest('/chat/completions');
  await sock.close();
  await fake.waitForClose(req);
  t.equal(req.aborted, true);
  let stored: any[] = [];
  for (let i = 0; i < 50 && stored.length === 0; i++) {
    stored = await history(s, 7);
    if (stored.length === 0) await pause(20);
  }
  t.same(
    stored.map((m: any) => [m.role, m.status, m.content]),
    [
      ['assistant', 'stopped', 'Part one.'],
      ['user', 'stopped', 'Long one'],
    ],
  );
});

t.test('shutdown closes with 1001 and still stores the answer being streamed', async (t) => {
  const database = persistentDatabase(t);
  const first = await startTutor(t, { database });
  const s = await newUser(first.server);
  const sock = await openChat(first.server, 8, s);
  first.fake.chat.chunks = ['Half an answer.', ' The other half.'];
  first.fake.chat.chunkDelayMs = 5000;
  sock.send({ data: 'Shut down now' });
  await sock.next('delta');
  await first.server.close();
  t.equal((await sock.closed).code, 1001);

  const second = await startServer(t, { database });
  const stored = (await request(second, 'GET', '/api/v1/chat/history/8/', { token: s.access })).body.results;
  t.same(
    stored.map((m: any) => [m.role, m.status, m.content]),
    [
      ['assistant', 'stopped', 'Half an answer.'],
      ['user', 'stopped', 'Shut down now'],
    ],
  );
});

t.test('20 questions per user per minute across sockets (rate_limited), window slides', async (t) => {
  const clock = new ManualClock();
  const world = await startTutor(t, { clock, env: { TUTOR_QUESTIONS_PER_MINUTE: 3 } });
  const s = await newUser(world.server);
  const a = await openChat(world.server, 1, s);
  const b = await openChat(world.server, 2, s);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  for (const sock of [a, a, b]) {
    sock.send({ data: 'q' });
    t.notOk((await turnFrames(sock)).some((f) => f.type === 'error'));
  }
  b.send({ data: 'one too many' });
  const frames = await turnFrames(b);
  t.same(
    frames.map((f) => [f.type, f.code]),
    [
      ['error', 'rate_limited'],
      ['completed', undefined],
    ],
  );
  t.equal(world.fake.requestsTo('/chat/completions').length, 3);

  const other = await newUser(world.server);
  const c = await openChat(world.server, 1, other);
  t.teardown(() => c.close());
  c.send({ data: 'another user is not limited' });
  t.notOk((await turnFrames(c)).some((f) => f.type === 'error'));

  clock.advance(61_000);
  a.send({ data: 'a minute later' });
  t.notOk((await turnFrames(a)).some((f) => f.type === 'error'));
});

t.test('no OpenAI key: every turn gets ai_unavailable, then completed.', async (t) => {
  const bare = await startServer(t, { env: { OPENAI_API_KEY: '' } });
  const s = await newUser(bare);
  const sock = await openChat(bare, 1, s);
  t.teardown(() => sock.close());
  for (const question of [{ data: 'Hello?' }, { audio: 'data:audio/wav;base64,AAAA', speak: true }]) {
    sock.send(question);
    const frames = await turnFrames(sock);
    t.same(
      frames.map(({ type, code, message }) => ({ type, code, message })),
      [
        { type: 'error', code: 'ai_unavailable', message: 'The AI tutor is not configured on this server' },
        { type: 'completed', code: undefined, message: 'completed.' },
      ],
    );
  }
  const topics = await request(bare, 'GET', '/api/v1/grammar/');
  t.ok(topics.body.results.length >= 12, 'topics still work');
});
