// Clients written for the old Django Channels tutor: open ws://…/chat/<id>/?token=… exactly as a
// browser WebSocket (or Python's `websockets`) does — no headers, no subprotocol — send {"data": …},
// print every frame's `message`, and stop reading at the first "completed.".
import { createServer } from 'node:net';
import t from 'tap';
import WebSocket from 'ws';
import { buildApp } from '../../app.js';
import { startFakeOpenAI } from '../helpers/fake-openai.js';
import { login } from '../helpers/http.js';
import { LogCapture } from '../helpers/log-capture.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';
import { TEST_JWT_SECRET, type TestServer } from '../helpers/server.js';
import { newUser, startTutor } from './tutor-helpers.js';

interface OldClientRun {
  printed: unknown[];
  heard: unknown[];
}

/** The old example client, line for line in spirit: one question per `completed.`, then hang up. */
function oldClient(url: string, questions: object[]): Promise<OldClientRun> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const run: OldClientRun = { printed: [], heard: [] };
    const pending = [...questions];
    const timer = setTimeout(() => reject(new Error(`no "completed." within 5 s; printed ${JSON.stringify(run.printed)}`)), 5000);
    ws.onopen = () => ws.send(JSON.stringify(pending.shift()));
    ws.onmessage = (event) => {
      const data = JSON.parse(String(event.data));
      if (data.audio_text !== undefined) run.heard.push(data.audio_text);
      run.printed.push(data.message);
      if (data.message !== 'completed.') return;
      const next = pending.shift();
      if (next) return ws.send(JSON.stringify(next));
      clearTimeout(timer);
      ws.close();
      resolve(run);
    };
    ws.onerror = (event) => {
      clearTimeout(timer);
      reject(event.error ?? new Error('socket error'));
    };
  });
}

t.test('old clients on a test port', async (t) => {
  const { server, fake } = await startTutor(t);
  const s = await newUser(server);
  // Reached by name, as the old examples do (the test server listens on 127.0.0.1).
  const origin = `ws://localhost:${server.port}`;
  const url = (id: string | number) => `${origin}/chat/${id}/?token=${s.access}`;

  const run = await oldClient(url(1), [{ data: 'What is the present simple?' }, { data: 'And the negative?' }]);
  t.same(run.printed, ['Hello', ' there', '. How', ' can I help?', 'completed.', 'Hello', ' there', '. How', ' can I help?', 'completed.']);

  const noSlash = await oldClient(`${origin}/chat/1?token=${s.access}`, [{ data: 'Hi' }]);
  t.equal(noSlash.printed.at(-1), 'completed.', 'trailing slash optional');

  fake.transcription.text = 'Is "I have went" correct?';
  const spoken = await oldClient(url(2), [{ audio: `data:audio/webm;base64,${Buffer.from('webm bytes').toString('base64')}` }]);
  t.same(spoken.heard, ['Is "I have went" correct?'], 'audio_text carries the transcript');
  t.equal(spoken.printed.at(-1), 'completed.');

  fake.chat.fail = { status: 500 };
  const failed = await oldClient(url(1), [{ data: 'Break?' }]);
  t.equal(failed.printed.length, 2, 'an error frame, then completed.');
  t.match(failed.printed[0], /could not answer/, 'the error has a readable message');
  t.equal(failed.printed[1], 'completed.');
});

/** Whether something already listens on localhost:9080 (then the default-port test cannot run here). */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, 'localhost', () => probe.close(() => resolve(false)));
  });
}

const taken = await portTaken(9080);
const skip = taken ? 'port 9080 is taken on this machine (another server is running); the default-port test cannot run' : false;

t.test('the default address and port: ws://localhost:9080/chat/1/', { skip }, async (t) => {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const logs = new LogCapture();
  const app = await buildApp({
    processEnv: false,
    logStream: logs,
    pgliteTemplate: process.env.TEST_DATABASE_URL ? undefined : await pgliteTemplate(),
    env: {
      NODE_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      MAIL_TRANSPORT: 'log',
      PGLITE_DIR: 'memory://',
      DATABASE_URL: process.env.TEST_DATABASE_URL ?? '',
      PORT: 9080,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
    },
    dbSchema: process.env.TEST_DATABASE_URL ? `t_port9080_${process.pid}` : undefined,
    dropSchemaOnClose: Boolean(process.env.TEST_DATABASE_URL),
  });
  t.teardown(() => app.close());
  t.equal(app.settings.http.host, 'localhost', 'HOST defaults to localhost');
  t.equal(app.settings.http.port, 9080);
  try {
    await app.listen({ host: app.settings.http.host, port: app.settings.http.port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      t.comment('port 9080 was taken after the check; the default-port test cannot run');
      return;
    }
    throw err;
  }
  const server = { url: 'http://localhost:9080', logs } as unknown as TestServer;
  const s = await login(server, 'old-client@example.com');
  const run = await oldClient(`ws://localhost:9080/chat/1/?token=${s.access}`, [{ data: 'Hello tutor' }]);
  t.same(run.printed, ['Hello', ' there', '. How', ' can I help?', 'completed.']);
});
