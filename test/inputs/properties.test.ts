import fc from 'fast-check';
import t, { type Test } from 'tap';
import { login, request } from '../helpers/http.js';
import { startServer } from '../helpers/server.js';
import type { TestSocket } from '../helpers/ws-client.js';
import { newUser as newLearner, openChat, startTutor } from '../tutor/tutor-helpers.js';
import { createRoom, joined, newUser } from '../whiteboard/fixtures.js';

/*
 * Property-based tests against the public protocols: hostile values for every message of both
 * sockets and every REST body, query and path. Each frame must get a documented answer, never
 * `internal` or a 500, and the connection must carry on (a ping right after it is answered).
 * Runs are moderate (one server per socket, many frames per server) so the suite stays quick.
 */

// Hundreds of round trips: room for a loaded machine beyond the suite's per-file default.
t.setTimeout(300_000);
// PROPERTY_RUNS=200 for a longer hunt.
const RUNS = Number(process.env.PROPERTY_RUNS ?? 25);
let generated = 0;

// A number JSON.stringify cannot write; swapped into the raw frame text.
const HUGE = '__HUGE_NUMBER__';
const toText = (value: unknown) => JSON.stringify(value).replaceAll(`"${HUGE}"`, '1e400');

const badText = fc.oneof(
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83d', '\udc00\ud800', `${'\u0000'.repeat(3)}`),
  fc.tuple(fc.string(), fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc01'), fc.string()).map(([a, b, c]) => a + b + c),
);
const hostileText = fc.oneof(
  badText,
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', 'x'.repeat(5000), '../../etc', '<script>', 'constructor', '__proto__'),
);
const hostileNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(HUGE, -0, 2 ** 31, 2 ** 53 + 1, 1e6 + 1, -1e6 - 1));
const hostileLeaf = fc.oneof(hostileText, hostileNumber, fc.boolean(), fc.constant(null));
const hostile = fc.oneof(hostileLeaf, fc.array(hostileLeaf, { maxLength: 4 }), fc.dictionary(hostileText, hostileLeaf, { maxKeys: 3 }));

/** Whether a generated value holds text or a number no server may take (the oracle for invalid_message / 400). */
function unstorable(value: unknown): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
  if (typeof value === 'string') return value === HUGE || /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
  if (Array.isArray(value)) return value.some(unstorable);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => unstorable(k) || unstorable(v));
  return false;
}

/** Either a valid value or a hostile one, for one field. */
const field = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 2, arbitrary: valid }, { weight: 3, arbitrary: hostile });
/** An object with some of these fields and maybe one unknown extra field. */
const frame = (fixed: Record<string, unknown>, fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc
    .tuple(fc.record(fields, { requiredKeys: [] }), fc.option(fc.tuple(hostileText, hostile), { freq: 4 }))
    .map(([rec, extra]) => ({ ...(extra ? { [extra[0]]: extra[1] } : {}), ...rec, ...fixed }));

let probes = 0;
/**
 * Sends one frame, then a probe whose refusal names it (a frame of unknown type or command), and
 * returns what came back before that refusal: the server handles a socket's frames in order.
 */
async function exchange(sock: TestSocket, text: string, probe: (name: string) => unknown): Promise<any[]> {
  const name = `probe-${++probes}`;
  sock.drain();
  const before = sock.received.length;
  sock.send(text);
  sock.send(probe(name));
  await sock.next((m) => m?.type === 'error' && typeof m.message === 'string' && m.message.includes(`"${name}"`), 20_000);
  return sock.received.slice(before, -1);
}

/** The connection carries on: a ping still gets its pong. */
async function stillAnswers(sock: TestSocket, ping: unknown): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  sock.drain();
  sock.send(ping);
  await sock.next((m) => m?.type === 'pong', 20_000);
}

/**
 * One property per message kind on one socket: each generated frame gets only documented error
 * codes, an unstorable value is always refused with invalid_message, and a ping answers afterwards.
 */
async function fuzzSocket(
  t: Test,
  sock: TestSocket,
  kinds: Record<string, fc.Arbitrary<Record<string, unknown>>>,
  opts: { documented: Set<string>; probe: (name: string) => unknown; ping: unknown },
): Promise<void> {
  for (const [kind, arbitrary] of Object.entries(kinds)) {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (msg) => {
        generated++;
        const answers = await exchange(sock, toText(msg), opts.probe);
        const errors = answers.filter((m) => m?.type === 'error');
        const undocumented = errors.find((e) => !opts.documented.has(e.code));
        if (undocumented) throw new Error(`${kind}: undocumented error ${JSON.stringify(undocumented)}`);
        if (unstorable(msg) && !errors.some((e) => e.code === 'invalid_message')) throw new Error(`${kind}: unstorable value not refused: ${JSON.stringify(answers)}`);
      }),
      { numRuns: RUNS },
    );
    await stillAnswers(sock, opts.ping);
    t.pass(`${kind}: ${RUNS} hostile frames answered as documented; a ping still answers`);
  }
}

t.test('whiteboard socket: every message type with hostile values', async (t) => {
  const server = await startServer(t, { env: { WS_RATE_BURST: 100_000, WS_RATE_PER_SECOND: 100_000 } });
  const user = await newUser(server, 'fuzz');
  const roomId = await createRoom(server, user);
  const { sock } = await joined(server, user, roomId);
  t.teardown(() => sock.close());
  const documented = new Set([
    'bad_json',
    'invalid_message',
    'unknown_type',
    'binary_not_supported',
    'not_in_room',
    'room_not_found',
    'forbidden',
    'rate_limited',
    'room_full',
    'ai_busy',
  ]);
  const room = field(fc.constant(roomId));
  const coord = field(fc.integer({ min: -1000, max: 1000 }));
  const text = field(fc.string({ maxLength: 20 }));
  const types: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
    join_room: frame({ type: 'join_room' }, { roomId: room }),
    leave_room: frame({ type: 'leave_room' }, { roomId: field(fc.constant('not-my-room')) }),
    draw: frame(
      { type: 'draw' },
      {
        roomId: room,
        shapeType: field(fc.constantFrom('line', 'rectangle', 'circle', 'arrow', 'text', 'hand', 'image')),
        points: field(fc.array(fc.record({ x: coord, y: coord }), { maxLength: 4 })),
        color: field(fc.constantFrom('#ff0000', '#00AA11')),
        strokeWidth: field(fc.integer({ min: 1, max: 64 })),
        x: coord,
        y: coord,
        width: coord,
        height: coord,
        radius: coord,
        text,
        imageUrl: field(fc.constantFrom('https://example.com/a.png', '/api/v1/images/abc')),
        clientRef: text,
      },
    ),
    delete_drawing: frame({ type: 'delete_drawing' }, { roomId: room, drawingId: text }),
    clear_canvas: frame({ type: 'clear_canvas' }, { roomId: room }),
    clear_room: frame({ type: 'clear_room' }, { roomId: room }),
    ai_generate_image: frame({ type: 'ai_generate_image' }, { roomId: room, prompt: text, x: coord, y: coord, width: coord, height: coord }),
    cursor: frame({ type: 'cursor' }, { roomId: room, x: coord, y: coord }),
    ping: frame({ type: 'ping' }, {}),
  };
  await fuzzSocket(t, sock, types, { documented, probe: (name) => ({ type: name }), ping: { type: 'ping' } });
  t.equal(sock.ws.readyState, sock.ws.OPEN, 'the socket is still open');
});

t.test('tutor socket: every frame kind with hostile values', async (t) => {
  const { server, fake } = await startTutor(t, { env: { TUTOR_QUESTIONS_PER_MINUTE: 100_000 } });
  fake.chat.chunks = ['Hi.'];
  const sock = await openChat(server, 1, await newLearner(server));
  t.teardown(() => sock.close());
  const documented = new Set([
    'bad_json',
    'invalid_message',
    'bad_audio',
    'no_speech',
    'busy',
    'rate_limited',
    'not_found',
    'ai_unavailable',
    'ai_timeout',
    'ai_rate_limited',
    'ai_failed',
  ]);
  const kinds: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
    data: frame({}, { data: field(fc.string({ minLength: 1, maxLength: 30 })), speak: field(fc.boolean()) }).map((m) => ({ data: 'q', ...m })),
    audio: frame(
      {},
      { audio: field(fc.constantFrom('data:audio/wav;base64,AAAA', 'data:audio/constructor;base64,AAAA', 'data:audio/webm;base64,!!')), speak: field(fc.boolean()) },
    ).map((m) => ({ audio: '', ...m })),
    ping: frame({ command: 'ping' }, {}),
    stop: frame({ command: 'stop' }, {}),
    'thumb-up': frame({ command: 'thumb-up' }, { responseId: field(fc.uuid()) }),
    'thumb-down': frame({ command: 'thumb-down' }, { responseId: field(fc.uuid()) }),
  };
  await fuzzSocket(t, sock, kinds, { documented, probe: (name) => ({ command: name }), ping: { command: 'ping' } });
  // Let running turns finish, so nothing of this test outlives the server.
  sock.send({ command: 'stop' });
  t.equal(sock.ws.readyState, sock.ws.OPEN, 'the socket is still open');
});

t.test('REST: every body, query and path with hostile values', async (t) => {
  const server = await startServer(t);
  const s = await login(server, 'rest-fuzz@example.com');
  const roomId = (await request(server, 'POST', '/api/v1/rooms/', { token: s.access, body: {} })).body.roomId as string;
  const allowed = new Set([200, 201, 204, 400, 401, 404, 409, 414, 429]);
  const asText = (v: unknown) => (typeof v === 'string' ? v.replaceAll(HUGE, '1e400') : (toText(v) ?? 'undefined'));
  const segment = (v: unknown) => {
    try {
      return encodeURIComponent(asText(v));
    } catch {
      return '%ED%A0%80'; // a lone surrogate, as UTF-8 bytes
    }
  };
  const queryValue = fc.oneof(hostileText, fc.constantFrom('1e400', '1e309', '-1e309', '2147483648', '2147483647', '0x10', '1.5', '-1', 'NaN', 'Infinity'));
  const routes: Array<[string, fc.Arbitrary<[string, string, unknown]>]> = [
    ['generate-otp', frame({}, { email: field(fc.emailAddress()) }).map((b) => ['POST', '/api/v1/auth/generate-otp/', b])],
    ['verify-otp', frame({}, { email: field(fc.emailAddress()), otp_code: field(fc.stringMatching(/^\d{6}$/)) }).map((b) => ['POST', '/api/v1/auth/verify-otp/', b])],
    ['token refresh', frame({}, { refresh: field(fc.string({ minLength: 1, maxLength: 64 })) }).map((b) => ['POST', '/api/v1/auth/token/refresh/', b])],
    ['logout', frame({}, { refresh: field(fc.string({ minLength: 1, maxLength: 64 })) }).map((b) => ['POST', '/api/v1/auth/logout/', b])],
    ['PATCH me', frame({}, { name: field(fc.string({ minLength: 1, maxLength: 64 })) }).map((b) => ['PATCH', '/api/v1/auth/me/', b])],
    ['create room', frame({}, { slug: field(fc.stringMatching(/^[a-z0-9-]{3,20}$/)) }).map((b) => ['POST', '/api/v1/rooms/', b])],
    ['get room', field(fc.constant(roomId)).map((id) => ['GET', `/api/v1/rooms/${segment(id)}/`, { path: asText(id) }])],
    [
      'drawings',
      fc
        .tuple(field(fc.constant(roomId)), fc.option(queryValue), fc.option(queryValue))
        .map(([id, after, limit]) => [
          'GET',
          `/api/v1/rooms/${segment(id)}/drawings/?${after === null ? '' : `after=${segment(after)}&`}${limit === null ? '' : `limit=${segment(limit)}`}`,
          { path: asText(id), after: after === null ? null : asText(after), limit: limit === null ? null : asText(limit) },
        ]),
    ],
    [
      'chat history',
      fc
        .tuple(field(fc.constantFrom('1', 'general')), fc.option(queryValue), fc.option(queryValue))
        .map(([id, before, limit]) => [
          'GET',
          `/api/v1/chat/history/${segment(id)}/?${before === null ? '' : `before=${segment(before)}&`}${limit === null ? '' : `limit=${segment(limit)}`}`,
          { path: asText(id), before: before === null ? null : asText(before), limit: limit === null ? null : asText(limit) },
        ]),
    ],
  ];
  for (const [name, arbitrary] of routes) {
    await fc.assert(
      fc.asyncProperty(arbitrary, async ([method, path, sent]) => {
        generated++;
        const body = method === 'GET' ? undefined : toText(sent);
        const res = await request(server, method, path, { token: s.access, body });
        if (!allowed.has(res.status)) throw new Error(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
        if (unstorable(sent) && res.status !== 400 && res.status !== 414) throw new Error(`${name}: unstorable value answered ${res.status}`);
      }),
      { numRuns: RUNS },
    );
    t.pass(`${name}: ${RUNS} hostile requests answered as documented`);
  }
  const me = await request(server, 'GET', '/api/v1/auth/me/', { token: s.access });
  t.equal(me.status, 200, 'the server still answers');
});

t.teardown(() => {
  console.log(`# property tests: ${generated} generated inputs`);
});
