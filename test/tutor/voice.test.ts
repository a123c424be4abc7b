import t from 'tap';
import { request } from '../helpers/http.js';
import { newUser, openChat, pause, startTutor, turnFrames } from './tutor-helpers.js';

const { server, fake } = await startTutor(t, { env: { TUTOR_AUDIO_MAX_BYTES: 4096 } });
t.beforeEach(() => fake.reset());

const dataUrl = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString('base64')}`;
const WAV = Buffer.concat([Buffer.from('RIFF....WAVEfmt '), Buffer.alloc(1000, 3)]);

t.test('a spoken question is transcribed, shown, then answered as if typed', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  fake.transcription.text = '  How do I use "since"?  ';
  sock.send({ audio: dataUrl('audio/wav', WAV) });
  const frames = await turnFrames(sock);
  const id = frames[0].id;
  t.same(frames[0], { type: 'transcription', error: false, audio_text: 'How do I use "since"?', id });
  t.same(
    frames.slice(1).map((f) => f.type),
    ['delta', 'delta', 'delta', 'delta', 'completed'],
  );

  const upload = fake.requestsTo('/audio/transcriptions')[0]!.body as any;
  t.same(upload.fields, { model: 'gpt-4o-mini-transcribe' });
  t.match(upload.files, [{ name: 'file', filename: 'question.wav', contentType: 'audio/wav', size: WAV.length }]);
  const chat = fake.requestsTo('/chat/completions')[0]!.body as any;
  t.same(chat.messages.at(-1), { role: 'user', content: 'How do I use "since"?' });

  const stored = (await request(server, 'GET', '/api/v1/chat/history/1/', { token: s.access })).body.results;
  t.same(
    stored.map((m: any) => m.content),
    ['Hello there. How can I help?', 'How do I use "since"?'],
    'the transcript is stored, never the audio',
  );

  // Browsers' MediaRecorder adds codec parameters; other accepted formats map to their file names.
  for (const [type, file] of [
    ['audio/webm;codecs=opus', 'question.webm'],
    ['audio/mpeg', 'question.mp3'],
    ['audio/mp4', 'question.mp4'],
    ['audio/ogg', 'question.ogg'],
    ['audio/flac', 'question.flac'],
    ['audio/x-m4a', 'question.m4a'],
  ]) {
    sock.send({ audio: dataUrl(type!, WAV) });
    await turnFrames(sock);
    t.equal((fake.requestsTo('/audio/transcriptions').at(-1)!.body as any).files[0].filename, file, type!);
  }
});

t.test('bad audio is refused before anything reaches the provider', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  const cases = {
    'bad base64': 'data:audio/wav;base64,@@@not base64@@@',
    'truncated base64': 'data:audio/wav;base64,AAAAA',
    'wrong type': dataUrl('audio/aiff', WAV),
    'not audio': dataUrl('image/png', WAV),
    'not a data URL': 'https://example.com/question.wav',
    'too large': dataUrl('audio/wav', Buffer.alloc(4097, 1)),
    empty: 'data:audio/wav;base64,',
  };
  for (const [name, audio] of Object.entries(cases)) {
    sock.send({ audio, speak: true });
    const frames = await turnFrames(sock);
    t.same(
      frames.map((f) => [f.type, f.code]),
      [
        ['error', 'bad_audio'],
        ['completed', undefined],
      ],
      name,
    );
    t.type(frames[0].message, 'string');
  }
  sock.send({ audio: dataUrl('audio/wav', Buffer.alloc(4096, 1)) });
  t.notOk(
    (await turnFrames(sock)).some((f) => f.type === 'error'),
    'exactly the limit is accepted',
  );
  t.equal(fake.requestsTo('/audio/transcriptions').length, 1, 'only the valid recording was uploaded');
  t.equal(fake.requestsTo('/chat/completions').length, 1);
});

t.test('silence → no_speech; transcription failures map like chat ones', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  fake.transcription.text = '   ';
  sock.send({ audio: dataUrl('audio/webm', WAV) });
  let frames = await turnFrames(sock);
  t.same(
    frames.map((f) => [f.type, f.code]),
    [
      ['error', 'no_speech'],
      ['completed', undefined],
    ],
  );

  fake.transcription.text = 'ok';
  fake.transcription.fail = { status: 429 };
  sock.send({ audio: dataUrl('audio/webm', WAV) });
  frames = await turnFrames(sock);
  t.same(
    frames.map((f) => f.code ?? f.type),
    ['ai_rate_limited', 'completed'],
  );
  t.equal(fake.requestsTo('/chat/completions').length, 0, 'nothing was asked of the model');
});

t.test('speak:true: audio per sentence, in order, the first before the text ends, all before completed.', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  fake.chat.chunks = ['The present', ' perfect links', ' past and now. It', ' uses have', ' or has. Mr. Smith has', ' left!', ' Done'];
  fake.chat.chunkDelayMs = 120;
  fake.once('speech', { delayMs: 150 }); // the first sentence's speech is the slowest: order must still hold
  sock.send({ data: 'Explain', speak: true });
  const frames = await turnFrames(sock, undefined, 10_000);
  const audio = frames.filter((f) => f.type === 'audio');
  t.same(
    audio.map((f) => f.index),
    [0, 1, 2, 3],
  );
  t.same(
    audio.map((f) => Buffer.from(f.audio, 'base64').toString()),
    ['MP3:The present perfect links past and now.', 'MP3:It uses have or has.', 'MP3:Mr. Smith has left!', 'MP3:Done'],
  );
  for (const f of audio) t.match(f, { error: false, format: 'mp3', id: frames[0].id });
  const firstAudio = frames.findIndex((f) => f.type === 'audio');
  const lastDelta = frames.findLastIndex((f) => f.type === 'delta');
  t.ok(firstAudio < lastDelta, `first audio (frame ${firstAudio}) arrived before the last delta (frame ${lastDelta})`);
  t.equal(frames.at(-1).type, 'completed');
  t.match(fake.requestsTo('/audio/speech')[0]!.body, { model: 'gpt-4o-mini-tts', voice: 'alloy', response_format: 'mp3' });
});

t.test('without speak there is no audio; a speech failure is reported but the answer completes', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  sock.send({ data: 'Quiet please' });
  t.notOk((await turnFrames(sock)).some((f) => f.type === 'audio'));
  t.equal(fake.requestsTo('/audio/speech').length, 0);

  fake.speech.fail = { status: 500 };
  sock.send({ data: 'Speak', speak: true });
  const frames = await turnFrames(sock);
  t.same(
    frames
      .filter((f) => f.type === 'delta')
      .map((f) => f.message)
      .join(''),
    'Hello there. How can I help?',
  );
  t.match(
    frames.find((f) => f.type === 'error'),
    { code: 'ai_failed', id: frames[0].id },
  );
  t.notOk(frames.some((f) => f.type === 'audio'));
  const stored = (await request(server, 'GET', '/api/v1/chat/history/1/', { token: s.access })).body.results;
  t.equal(stored[0].status, 'completed');
});

t.test('stop while speaking: no audio after completed.', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  fake.chat.chunks = ['One. Two.', ' Three.'];
  fake.speech.delayMs = 300;
  sock.send({ data: 'Count', speak: true });
  const first = await sock.next('delta');
  const speech = await fake.waitForRequest('/audio/speech');
  sock.send({ command: 'stop' });
  await sock.next((m) => m.type === 'completed' && m.id === first.id);
  await fake.waitForClose(speech);
  t.equal(speech.aborted, true, 'pending speech requests are aborted too');
  await pause(400);
  t.same(
    sock.drain((m) => m.type === 'audio'),
    [],
  );
});

t.test('a long spoken answer keeps at most 3 speech requests in flight, audio still in order', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  const words = ['One', 'Two', 'Three', 'Four', 'Five', 'Six', 'Seven', 'Eight', 'Nine', 'Ten', 'Eleven', 'Twelve'];
  fake.chat.chunks = words.map((w) => `${w}. `);
  fake.speech.delayMs = 60;
  // Count the requests open at each arrival; a request stops counting once its connection closed.
  const closed = new Set<unknown>();
  let most = 0;
  const watching = (async () => {
    for (let k = 1; k <= words.length; k++) {
      const arrived = await fake.waitForRequest('/audio/speech', k, 5000);
      void fake.waitForClose(arrived, 5000).then(
        () => closed.add(arrived),
        () => {},
      );
      most = Math.max(most, fake.requestsTo('/audio/speech').filter((r) => !closed.has(r)).length);
    }
  })();
  sock.send({ data: 'Count to twelve', speak: true });
  const frames = await turnFrames(sock, undefined, 10_000);
  await watching;
  t.ok(most <= 3, `at most 3 speech requests at once (saw ${most})`);
  t.ok(most >= 2, `they still run side by side (saw ${most})`);
  const audio = frames.filter((f) => f.type === 'audio');
  t.same(
    audio.map((f) => f.index),
    words.map((_, i) => i),
  );
  t.same(
    audio.map((f) => Buffer.from(f.audio, 'base64').toString()),
    words.map((w) => `MP3:${w}.`),
  );
});

t.test('a failed turn aborts its speech requests and drops the queued ones', async (t) => {
  const s = await newUser(server);
  const sock = await openChat(server, 1, s);
  t.teardown(() => sock.close());
  fake.chat.chunks = ['One. Two. Three. Four. Five. Six. ', 'Seven.'];
  fake.chat.chunkDelayMs = 200;
  fake.chat.failAfterChunks = 1; // the chat stream is cut after the first chunk: the turn fails
  fake.speech.hang = true;
  sock.send({ data: 'Count', speak: true });
  const frames = await turnFrames(sock, undefined, 5000);
  t.ok(
    frames.some((f) => f.type === 'error'),
    'the turn failed',
  );
  const speech = fake.requestsTo('/audio/speech');
  t.equal(speech.length, 3, 'three sentences reached the provider, the other three waited');
  // Well under OPENAI_TIMEOUT (2s): the server aborted them, the SDK's timeout did not.
  for (const r of speech) t.equal((await fake.waitForClose(r, 1000)).aborted, true, 'in-flight speech aborted');
  await pause(200);
  t.equal(fake.requestsTo('/audio/speech').length, 3, 'the queued sentences were never requested');
  t.same(
    sock.drain((m) => m.type === 'audio'),
    [],
  );
});

// The tutor allows 8 MiB of audio while /ws keeps its 512 KiB frame limit on the same ws server.
t.test('a 1 MiB recording (within TUTOR_AUDIO_MAX_BYTES) is accepted', async (t) => {
  const world = await startTutor(t, { env: { TUTOR_AUDIO_MAX_BYTES: 8 * 1024 * 1024 } });
  const s = await newUser(world.server);
  const sock = await openChat(world.server, 1, s);
  t.teardown(() => sock.close());
  sock.send({ audio: dataUrl('audio/wav', Buffer.alloc(1024 * 1024, 1)) });
  const outcome = await Promise.race([turnFrames(sock).then((f) => f.at(-1).message), sock.closed.then((c) => `closed ${c.code}`)]);
  t.equal(outcome, 'completed.');
});
