import t from 'tap';
import { request } from '../helpers/http.js';
import { startServer } from '../helpers/server.js';
import { newUser, openChat, startTutor, turnFrames } from '../tutor/tutor-helpers.js';

const WAV = `data:audio/wav;base64,${Buffer.from('RIFF....WAVEfmt ').toString('base64')}`;

t.test('audio types are looked up without inherited keys: audio/constructor is bad_audio and reaches no provider', async (t) => {
  const { server, fake } = await startTutor(t);
  const sock = await openChat(server, 1, await newUser(server));
  t.teardown(() => sock.close());
  for (const subtype of ['constructor', 'CONSTRUCTOR', 'hasownproperty', 'valueof']) {
    sock.send({ audio: `data:audio/${subtype};base64,AAAA` });
    const frames = await turnFrames(sock);
    t.same(
      frames.map((f) => [f.type, f.code]),
      [
        ['error', 'bad_audio'],
        ['completed', undefined],
      ],
      subtype,
    );
  }
  t.equal(fake.requests.length, 0, 'nothing reached the provider');
});

t.test('without an OpenAI key: the recording is checked first, and failed turns are stored', async (t) => {
  const server = await startServer(t);
  const s = await newUser(server);
  const sock = await openChat(server, 2, s);
  t.teardown(() => sock.close());
  for (const audio of ['data:audio/constructor;base64,AAAA', 'data:audio/wav;base64,!!!!', 'data:audio/midi;base64,AAAA']) {
    sock.send({ audio });
    t.same(
      (await turnFrames(sock)).map((f) => f.code ?? f.type),
      ['bad_audio', 'completed'],
      audio,
    );
  }
  sock.send({ audio: WAV });
  t.same(
    (await turnFrames(sock)).map((f) => f.code ?? f.type),
    ['ai_unavailable', 'completed'],
    'a good recording is told the tutor is not configured',
  );

  sock.send({ data: 'Is anyone there?' });
  const turn = await turnFrames(sock);
  t.same(
    turn.map((f) => f.code ?? f.type),
    ['ai_unavailable', 'completed'],
  );
  const history = await request(server, 'GET', '/api/v1/chat/history/2/', { token: s.access });
  t.match(
    history.body.results,
    [
      { role: 'assistant', status: 'failed', responseId: turn[0].id },
      { role: 'user', status: 'failed', content: 'Is anyone there?', responseId: turn[0].id },
    ],
    'the failed turn is in the history',
  );
});
