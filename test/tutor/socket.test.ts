import t from 'tap';
import { TestSocket } from '../helpers/ws-client.js';
import { chatUrl, newUser, openChat, pause, startTutor, turnFrames } from './tutor-helpers.js';

const { server, fake } = await startTutor(t);
t.beforeEach(() => fake.reset());

t.test('a question streams deltas in order, then exactly one completed. with the same id', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  sock.send({ data: 'What is the present simple?' });
  const frames = await turnFrames(sock);
  const id = frames[0].id;
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a random UUID, not a timestamp');
  t.same(
    frames.map((f) => [f.type, f.message]),
    [
      ['delta', 'Hello'],
      ['delta', ' there'],
      ['delta', '. How'],
      ['delta', ' can I help?'],
      ['completed', 'completed.'],
    ],
  );
  for (const f of frames) t.same({ id: f.id, error: f.error }, { id, error: false });
  await pause(50);
  t.same(sock.drain(), [], 'nothing after completed.');

  sock.send({ data: 'Again?' });
  const second = await turnFrames(sock);
  t.not(second[0].id, id, 'each turn has its own id');
});

t.test('deltas are relayed as the model produces them, not buffered', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  fake.chat.chunks = ['One', ' two', ' three'];
  fake.chat.chunkDelayMs = 300;
  sock.send({ data: 'Count' });
  const first = await sock.next('delta');
  t.equal(first.message, 'One');
  t.same(
    sock.drain((m) => m.type === 'completed'),
    [],
    'the first piece arrives while the model is still writing',
  );
  await turnFrames(sock, first.id);
});

t.test('context: topic in the system message, history across connections, proper roles', async (t) => {
  const s = await newUser(server);
  const topics = ((await (await fetch(`${server.url}/api/v1/grammar/`)).json()) as any).results;
  const topic = topics.find((x: any) => x.title === 'Present perfect');

  const a = await openChat(server, topic.id, s);
  fake.chat.chunks = ['It links', ' past and now.'];
  a.send({ data: 'When do I use it?' });
  await turnFrames(a);
  await a.close();

  const b = await openChat(server, topic.id, s);
  t.teardown(() => b.close());
  fake.chat.chunks = ['Sure.'];
  b.send({ data: 'Give me an example.' });
  await turnFrames(b);

  const body = fake.requestsTo('/chat/completions')[1]!.body as any;
  t.equal(body.stream, true);
  t.equal(body.model, 'gpt-4.1-mini');
  t.equal(body.messages[0].role, 'system');
  t.match(body.messages[0].content, 'Present perfect');
  t.match(body.messages[0].content, topic.description);
  t.same(body.messages.slice(1), [
    { role: 'user', content: 'When do I use it?' },
    { role: 'assistant', content: 'It links past and now.' },
    { role: 'user', content: 'Give me an example.' },
  ]);

  // Another topic does not see this conversation; an unknown id is general help.
  const c = await openChat(server, 'not-a-number', s);
  t.teardown(() => c.close());
  c.send({ data: 'Hi' });
  await turnFrames(c);
  const general = fake.requestsTo('/chat/completions')[2]!.body as any;
  t.match(general.messages[0].content, /general English/);
  t.notMatch(general.messages[0].content, 'Present perfect');
  t.equal(general.messages.length, 2);
});

t.test('only the last TUTOR_HISTORY_MESSAGES stored messages are sent', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 2, s);
  t.teardown(() => sock.close());
  fake.chat.chunks = ['ok'];
  for (let i = 0; i < 12; i++) {
    sock.send({ data: `q${i}` });
    await turnFrames(sock);
  }
  const last = fake.requestsTo('/chat/completions').at(-1)!.body as any;
  t.equal(last.messages.length, 1 + 20 + 1, 'system + 20 history + the question');
  t.same(last.messages[1], { role: 'user', content: 'q1' });
  t.same(last.messages.at(-1), { role: 'user', content: 'q11' });
});

t.test('bad token: accepted then closed 4001; Bearer header works', async (t) => {
  const bad = new TestSocket(`${server.wsUrl}/chat/1/?token=nope`);
  await bad.opened;
  t.equal((await bad.closed).code, 4001);
  const none = new TestSocket(`${server.wsUrl}/chat/1/`);
  t.equal((await none.closed).code, 4001);
  const refresh = new TestSocket(chatUrl(server, 1, (await newUser(server)).refresh));
  t.equal((await refresh.closed).code, 4001, 'a refresh token is not an access token');

  const s = await newUser(server);
  const header = new TestSocket(`${server.wsUrl}/chat/1`, { headers: { authorization: `Bearer ${s.access}` } });
  t.teardown(() => header.close());
  await header.opened;
  header.send({ command: 'ping' });
  t.same(await header.next('pong'), { type: 'pong', error: false, message: 'pong' });
  t.notOk(
    server.logs.raw.some((l) => l.includes(s.access)),
    'the token never reaches the log',
  );
});

t.test('frames sent right after opening are not lost', async (t) => {
  const s = await newUser(server);
  const sock = new TestSocket(chatUrl(server, 1, s.access));
  t.teardown(() => sock.close());
  sock.ws.on('open', () => {
    sock.send({ command: 'ping' });
    sock.send({ data: 'early question' });
  });
  t.equal((await sock.next('pong')).message, 'pong');
  const frames = await turnFrames(sock);
  t.equal(frames.at(-1).message, 'completed.');
  t.match((fake.requests[0]!.body as any).messages.at(-1), { content: 'early question' });
});

t.test('bad JSON and unknown shapes get error frames; the socket stays open', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  const mark = server.logs.raw.length;
  sock.send('{"data": "secret question"');
  t.match(await sock.next('error'), { error: true, code: 'bad_json' });
  const logged = server.logs.raw.slice(mark).join('\n');
  t.match(logged, /not valid JSON/);
  t.notMatch(logged, /secret question/, 'the content is not logged');

  for (const bad of [
    [],
    'text',
    { hello: 1 },
    { data: '' },
    { data: '   ' },
    { data: 'x'.repeat(4001) },
    { data: 5 },
    { command: 'dance' },
    { command: 'thumb-up' },
    { audio: 7 },
  ]) {
    sock.send(JSON.stringify(bad));
    const err = await sock.next('error');
    t.equal(err.code, 'invalid_message', JSON.stringify(bad).slice(0, 40));
    t.type(err.message, 'string');
  }
  sock.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  t.equal((await sock.next('error')).code, 'invalid_message');
  sock.send({ data: 'still here?', extra: 'ignored' });
  t.equal((await turnFrames(sock)).at(-1).message, 'completed.');
  t.equal(fake.requestsTo('/chat/completions').length, 1, 'nothing invalid reached the provider');
});

t.test("feedback is stored on the user's own answer and acknowledged", async (t) => {
  const s = await newUser(server);
  const other = await newUser(server);
  const sock = await openChat(server, 3, s);
  t.teardown(() => sock.close());
  sock.send({ data: 'Rate me' });
  const id = (await turnFrames(sock))[0].id;
  sock.send({ command: 'thumb-up', responseId: id });
  t.same(await sock.next('feedback'), { type: 'feedback', error: false, responseId: id, value: 'thumb-up' });
  sock.send({ command: 'thumb-down', responseId: id });
  t.equal((await sock.next('feedback')).value, 'thumb-down');

  const history = await fetch(`${server.url}/api/v1/chat/history/3/`, { headers: { authorization: `Bearer ${s.access}` } });
  const answer = ((await history.json()) as any).results.find((m: any) => m.role === 'assistant');
  t.equal(answer.feedback, 'thumb-down');

  sock.send({ command: 'thumb-up', responseId: 'no-such-answer' });
  t.match(await sock.next('error'), { code: 'not_found', error: true });

  const theirs = await openChat(server, 3, other);
  t.teardown(() => theirs.close());
  theirs.send({ command: 'thumb-up', responseId: id });
  t.equal((await theirs.next('error')).code, 'not_found', "another user cannot rate this user's answer");
});

t.test('heartbeat: a peer that stops answering pings is dropped, its answer stopped', async (t) => {
  const world = await startTutor(t, { env: { WS_HEARTBEAT_INTERVAL: '150ms' } });
  const s = await newUser(world.server);
  const healthy = await openChat(world.server, 1, s);
  t.teardown(() => healthy.close());
  const dead = new TestSocket(chatUrl(world.server, 1, s.access), { autoPong: false });
  await dead.opened;
  world.fake.chat.hang = true;
  dead.send({ data: 'Are you there?' });
  const req = await world.fake.waitForRequest('/chat/completions');
  t.equal((await dead.closed).code, 1006, 'terminated without a close frame');
  await world.fake.waitForClose(req);
  t.equal(req.aborted, true, 'the answer it was getting is stopped');
  healthy.send({ command: 'ping' });
  t.equal((await healthy.next('pong')).message, 'pong', 'a socket that answers pings stays');
});
