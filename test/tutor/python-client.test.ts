import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { repoRoot } from '../helpers/process.js';
import { newUser, startTutor } from './tutor-helpers.js';

// Debian's python3 with python3-websockets (.ci/run installs it when it can).
const python = '/usr/bin/python3';
const hasWebsockets = spawnSync(python, ['-c', 'import websockets'], { stdio: 'ignore' }).status === 0;

t.test('the old Python example client works unchanged', { skip: hasWebsockets ? false : `${python} with the websockets package is not installed` }, async (t) => {
  const { server } = await startTutor(t);
  const s = await newUser(server);
  const script = join(repoRoot, 'test', 'fixtures', 'old_tutor_client.py');
  const url = `ws://localhost:${server.port}/chat/1/?token=${s.access}`;
  const child = spawn(python, [script, url, 'What is the present simple?'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 0, err);
  t.same(out.split('\n').filter(Boolean), ['Hello', ' there', '. How', ' can I help?', 'completed.'], 'it printed each piece, then completed.');
});
