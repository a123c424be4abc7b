import t from 'tap';
import { startServer } from '../helpers/server.js';
import { newUser as newLearner, openChat, startTutor } from '../tutor/tutor-helpers.js';
import { createRoom, joined, line, newUser } from '../whiteboard/fixtures.js';

t.test('whiteboard: text that is not well-formed Unicode or holds NUL is refused, so safe retries stay safe', async (t) => {
  const server = await startServer(t);
  const user = await newUser(server, 'unicode');
  const roomId = await createRoom(server, user);
  const { sock } = await joined(server, user, roomId);
  t.teardown(() => sock.close());

  for (const frame of [
    line(roomId, { clientRef: '\ud800' }),
    line(roomId, { clientRef: '\ud800' }),
    line(roomId, { clientRef: '\ud801' }),
    line(roomId, { clientRef: 'ok', text: 'a\udc00' }),
    line(roomId, { clientRef: 'ok', text: 'a\u0000b' }),
    line(roomId, { clientRef: 'ok', unknownExtra: 'x\u0000' }),
    { type: 'join_room', roomId: `${roomId}\u0000` },
    { type: 'cursor', roomId, x: 1, y: 2, '\ud800': 1 },
  ]) {
    sock.send(frame);
    const err = await sock.next('error');
    t.equal(err.code, 'invalid_message', JSON.stringify(frame).slice(0, 100));
    t.match(err.message, /NUL|surrogate/);
  }
  sock.send({ type: 'ping' });
  await sock.next('pong');

  // The same clientRef twice echoes the one stored drawing; well-formed astral text round-trips.
  sock.send(line(roomId, { clientRef: '🎨', text: '😀' }));
  const first = await sock.next((m) => m.type === 'draw' && m.clientRef === '🎨');
  sock.send(line(roomId, { clientRef: '🎨', text: '😀' }));
  const retry = await sock.next((m) => m.type === 'draw' && m.clientRef === '🎨');
  t.equal(retry.drawing.id, first.drawing.id, 'the retry echoes the stored drawing');
  t.equal(first.drawing.text, '😀');
});

t.test('tutor: a question with NUL or a lone surrogate is refused before it reaches the provider', async (t) => {
  const { server, fake } = await startTutor(t);
  const s = await newLearner(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  for (const frame of [
    { data: 'a\u0000b' },
    { data: 'a\ud800b' },
    { audio: 'data:audio/wav;base64,\u0000' },
    { command: 'thumb-up', responseId: 'x\udfff' },
    { data: 'hi', extra: '\u0000' },
  ]) {
    sock.send(frame);
    const err = await sock.next('error');
    t.equal(err.code, 'invalid_message', JSON.stringify(frame));
    t.match(err.message, /NUL|surrogate/);
  }
  sock.send({ command: 'ping' });
  await sock.next('pong');
  t.equal(fake.requests.length, 0, 'nothing reached the provider');
});
