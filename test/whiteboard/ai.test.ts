import t from 'tap';
import { startFakeOpenAI } from '../helpers/fake-openai.js';
import { startServer } from '../helpers/server.js';
import { createRoom, joined, line, newUser, nothingMore } from './fixtures.js';

t.test('AI pictures without a key: a placeholder, stored as an image drawing with its seq', async (t) => {
  const server = await startServer(t, { env: { OPENAI_API_KEY: '', ROOM_MAX_DRAWINGS: 3 } });
  const admin = await newUser(server, 'ai');
  const bob = await newUser(server, 'aiviewer');
  const roomId = await createRoom(server, admin);
  const a = await joined(server, admin, roomId);
  const b = await joined(server, bob, roomId);
  a.sock.send(line(roomId));
  await b.sock.next('draw');

  a.sock.send({ type: 'ai_generate_image', roomId, prompt: ' a cat ' });
  for (const s of [a.sock, b.sock]) t.match(await s.next('ai_generating'), { roomId, requestId: String, prompt: 'a cat', userId: admin.user.id });
  const done = await b.sock.next('ai_message');
  t.match(done, { type: 'ai_message', roomId, content: 'Generated image for: "a cat"', placeholder: true, seq: 2 });
  t.match(done.imageUrl, /^https:\/\/picsum\.photos\/seed\/[^/]+\/512\/512$/);
  t.match(done.drawing, { shapeType: 'image', imageUrl: done.imageUrl, x: 100, y: 100, width: 512, height: 512, seq: 2, userId: admin.user.id });
  t.same(await a.sock.next('ai_message'), done);
  a.sock.send({ type: 'ai_generate_image', roomId, prompt: 'a cat' });
  const again = await a.sock.next('ai_message');
  t.equal(again.imageUrl, done.imageUrl, 'the placeholder is stable for a prompt');
  t.equal(again.seq, 3);

  // The room is full now (ROOM_MAX_DRAWINGS=3): the picture cannot be placed, everyone is told with
  // an ai_message code a client may see, and the requester also gets the `room_full` error.
  a.sock.send({ type: 'ai_generate_image', roomId, prompt: 'a dog' });
  const full = { roomId, error: true, code: 'ai_failed', content: /room is full/ };
  t.match(await b.sock.next((m) => m.type === 'ai_message' && m.error), full);
  t.match(await a.sock.next((m) => m.type === 'ai_message' && m.error), full);
  t.match(await a.sock.next('error'), { code: 'room_full', roomId });
  t.same(await nothingMore(b.sock, (m) => m.type === 'error'), [], 'only the requester gets the error');
  const late = await joined(server, bob, roomId);
  t.same(
    late.state.drawings.map((d: any) => d.shapeType),
    ['line', 'image', 'image'],
  );
  for (const s of [a.sock, b.sock, late.sock]) await s.close();
});

t.test('AI pictures through the fake provider: refusal, busy, and the room carries on', async (t) => {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const server = await startServer(t, { env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.baseURL, OPENAI_MAX_RETRIES: 0 } });
  const admin = await newUser(server, 'aifake');
  const bob = await newUser(server, 'aifakeviewer');
  const roomId = await createRoom(server, admin);
  const a = await joined(server, admin, roomId);
  const b = await joined(server, bob, roomId);

  fake.images.fail = { status: 400, code: 'moderation_blocked', message: 'Rejected by the safety system.' };
  a.sock.send({ type: 'ai_generate_image', roomId, prompt: 'something refused' });
  await b.sock.next('ai_generating');
  const refused = await b.sock.next('ai_message');
  t.match(refused, { roomId, requestId: String, error: true, code: 'moderation_blocked', content: String });
  t.notOk('seq' in refused, 'a failure takes no seq');
  a.sock.send(line(roomId, { clientRef: 'after-refusal' }));
  t.equal((await a.sock.next('draw')).seq, 1, 'the room carries on');

  fake.images.fail = undefined;
  fake.images.delayMs = 300;
  a.sock.send({ type: 'ai_generate_image', roomId, prompt: 'slow one' });
  await a.sock.next('ai_generating');
  a.sock.send({ type: 'ai_generate_image', roomId, prompt: 'impatient' });
  t.match(await a.sock.next('error'), { code: 'ai_busy', roomId });
  const ok = await b.sock.next((m) => m.type === 'ai_message' && !m.error);
  t.match(ok, { placeholder: false, seq: 2, drawing: { shapeType: 'image' } });
  t.match(ok.imageUrl, /^\/api\/v1\/images\//);
  t.same(await nothingMore(b.sock, (m) => m.type === 'ai_generating' && m.prompt === 'impatient'), [], 'the refused request was never announced');
  for (const s of [a.sock, b.sock]) await s.close();
});
