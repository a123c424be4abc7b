import t, { type Test } from 'tap';
import { openSocket, type TestSocket } from '../helpers/ws-client.js';
import { chatUrl, newUser, startTutor } from './tutor-helpers.js';

// Both sockets keep the frames that arrive while the token is checked; they must bound those in bytes,
// not only in count, or an unauthenticated client makes the server hold megabytes per connection.
// TUTOR_AUDIO_MAX_BYTES 3 KiB makes the tutor's frame limit 4 KiB + 1 MiB, so its early cap is about 2 MiB.
const { server } = await startTutor(t, { env: { TUTOR_AUDIO_MAX_BYTES: 3072 } });
const session = await newUser(server, 'early');
const frameLimit = server.app.wsFrameLimits.tutor;

/** Holds every socket's authentication (the account lookup) until `open()`: what arrives meanwhile is "early". */
function holdAuthentication(t: Test) {
  const accounts = server.app.accounts;
  const original = accounts.findById;
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  accounts.findById = async (id) => {
    await gate;
    return original.call(accounts, id);
  };
  t.teardown(() => {
    open();
    accounts.findById = original;
  });
  return open;
}

/** The close, or 'still open' when none came: the short wait only proves that no close arrived. */
const closeOf = (sock: TestSocket, ms = 1500) => Promise.race([sock.closed, new Promise<string>((r) => setTimeout(() => r('still open'), ms))]);

const padded = (bytes: number, fields: object) => {
  const head = JSON.stringify({ ...fields, pad: '' });
  return head.replace('"pad":""', `"pad":"${'x'.repeat(bytes - head.length)}"`);
};

t.test('/ws: more than 1 MiB before authentication → 4029', async (t) => {
  holdAuthentication(t);
  const sock = await openSocket(`${server.wsUrl}/ws?token=${session.access}`);
  t.teardown(() => sock.close());
  const frame = padded(400 * 1024, { type: 'ping' }); // under WS_MAX_PAYLOAD, three are over 1 MiB
  for (let i = 0; i < 3; i++) sock.ws.send(frame);
  t.match(await closeOf(sock), { code: 4029, reason: /bytes before authentication/ });
});

t.test('/ws: under 1 MiB early frames are kept and replayed', async (t) => {
  const open = holdAuthentication(t);
  const sock = await openSocket(`${server.wsUrl}/ws?token=${session.access}`);
  t.teardown(() => sock.close());
  const frame = padded(400 * 1024, { type: 'ping' });
  sock.ws.send(frame);
  sock.ws.send(frame);
  sock.send({ type: 'ping' });
  await new Promise((r) => setTimeout(r, 100)); // let them arrive while authentication waits
  open();
  await sock.next('pong');
  t.equal(sock.ws.readyState, sock.ws.OPEN);
});

t.test('/chat: more than twice the tutor frame limit before authentication → 4029', async (t) => {
  holdAuthentication(t);
  const sock = await openSocket(chatUrl(server, 1, session.access));
  t.teardown(() => sock.close());
  const frame = padded(frameLimit - 1024, { data: 'hello' }); // each within the frame limit, three over 2×
  for (let i = 0; i < 3; i++) sock.ws.send(frame);
  t.match(await closeOf(sock), { code: 4029, reason: /bytes before authentication/ });
});

t.test('/chat: within the cap early frames are kept and replayed', async (t) => {
  const open = holdAuthentication(t);
  const sock = await openSocket(chatUrl(server, 1, session.access));
  t.teardown(() => sock.close());
  sock.ws.send(padded(frameLimit - 1024, { command: 'ping' }));
  sock.send({ command: 'ping' });
  await new Promise((r) => setTimeout(r, 100)); // let them arrive while authentication waits
  open();
  await sock.next((m) => m?.type === 'pong' || m?.message === 'pong');
  t.equal(sock.ws.readyState, sock.ws.OPEN);
});
