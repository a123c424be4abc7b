import t from 'tap';
import { sql } from 'kysely';
import { startServer } from '../helpers/server.js';
import { connect, createRoom, joined, line, newUser } from './fixtures.js';

t.test('every bad frame gets an error frame and the connection stays open', async (t) => {
  const server = await startServer(t);
  const user = await newUser(server, 'errors');
  const roomId = await createRoom(server, user);
  const { sock } = await joined(server, user, roomId);

  const expectError = async (frame: unknown, code: string) => {
    sock.send(frame);
    const err = await sock.next('error');
    t.equal(err.code, code, `${JSON.stringify(frame).slice(0, 80)} → ${code}`);
    t.type(err.message, 'string');
    t.ok(err.message.length > 10, 'a sentence');
    return err;
  };

  await expectError('{not json', 'bad_json');
  await expectError('[1,2]', 'invalid_message');
  await expectError('{"roomId":"x"}', 'invalid_message');
  const unknown = await expectError({ type: 'paint', roomId }, 'unknown_type');
  t.match(unknown.message, /paint/);

  sock.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  t.match(await sock.next('error'), { code: 'binary_not_supported' });

  const other = await createRoom(server, user);
  await expectError(line(other), 'not_in_room');
  t.match(await expectError({ type: 'cursor', roomId: other, x: 1, y: 1 }, 'not_in_room'), { roomId: other });
  t.match(await expectError({ type: 'join_room', roomId: 'no-such-room' }, 'room_not_found'), { roomId: 'no-such-room' });

  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ color: 'red' }, /"color".*#rrggbb/],
    [{ color: '#12345' }, /"color"/],
    [{ strokeWidth: 0 }, /"strokeWidth".*>= 1/],
    [{ strokeWidth: 65 }, /"strokeWidth".*<= 64/],
    [{ shapeType: 'star' }, /"shapeType".*line, rectangle, circle, arrow, text, hand, image/],
    [{ x: 1e7 }, /"x".*1,000,000/],
    [{ y: -1e6 - 1 }, /"y"/],
    [
      {
        points: [
          { x: 1, y: 2 },
          { x: 'a', y: 2 },
        ],
      },
      /"points\[1\]\.x".*number/,
    ],
    [{ points: [{ x: 1 }] }, /"points\[0\]\.y" is required/],
    [{ points: Array.from({ length: 5001 }, () => ({ x: 0, y: 0 })) }, /"points".*5000/],
    [{ text: 'x'.repeat(2001) }, /"text".*2000/],
    [{ imageUrl: 'javascript:alert(1)' }, /"imageUrl".*https:\/\//],
    [{ imageUrl: 'data:image/png;base64,AAAA' }, /"imageUrl"/],
    [{ imageUrl: '/etc/passwd' }, /"imageUrl"/],
    [{ clientRef: 'r'.repeat(65) }, /"clientRef".*64/],
    [{ roomId: 42 }, /"roomId".*string/],
  ];
  for (const [patch, sentence] of cases) {
    const err = await expectError(line(roomId, patch), 'invalid_message');
    t.match(err.message, sentence);
  }
  // 1e400 is valid JSON that parses to Infinity: coordinates must be finite
  sock.send(`{"type":"draw","roomId":"${roomId}","x":1e400}`);
  t.match(await sock.next('error'), { code: 'invalid_message', message: /"x"/ });
  const withRef = await expectError(line(roomId, { color: 'blue', clientRef: 'my-ref' }), 'invalid_message');
  t.equal(withRef.ref, 'my-ref', 'the error names the message through its clientRef');
  t.equal(withRef.roomId, roomId);

  for (const url of ['https://example.com/a.png', 'http://example.com/a.png', '/api/v1/images/abc_DEF-123']) {
    sock.send(line(roomId, { shapeType: 'image', imageUrl: url, clientRef: url }));
    t.equal((await sock.next('draw')).drawing.imageUrl, url, `${url} is accepted`);
  }

  await expectError({ type: 'ai_generate_image', roomId, prompt: '   ' }, 'invalid_message');
  await expectError({ type: 'ai_generate_image', roomId, prompt: 'p'.repeat(1001) }, 'invalid_message');
  await expectError({ type: 'ai_generate_image', roomId }, 'invalid_message');
  await expectError({ type: 'delete_drawing', roomId }, 'invalid_message');
  await expectError({ type: 'cursor', roomId, x: 1 }, 'invalid_message');

  sock.send({ type: 'ping' });
  t.same(await sock.next('pong'), { type: 'pong' }, 'still open and answering after all that');

  // Over the size limit (default 512 KiB): closed with 1009.
  sock.send(line(roomId, { text: 'x'.repeat(513 * 1024) }));
  t.equal((await sock.closed).code, 1009);
});

t.test('per-socket rate limit: rate_limited, then 4029 for persistent excess', async (t) => {
  const server = await startServer(t, { env: { WS_RATE_BURST: 10, WS_RATE_PER_SECOND: 1 } });
  const user = await newUser(server, 'flood');
  const sock = await connect(server, user);
  for (let i = 0; i < 10; i++) sock.send({ type: 'ping' });
  for (let i = 0; i < 10; i++) await sock.next('pong');
  sock.send({ type: 'ping' });
  const limited = await sock.next('error');
  t.equal(limited.code, 'rate_limited');
  t.match(limited.message, /limit/);
  t.equal(sock.ws.readyState, sock.ws.OPEN, 'one excess message only earns an error');
  for (let i = 0; i < 30; i++) sock.send({ type: 'ping' });
  const closed = await sock.closed;
  t.equal(closed.code, 4029);
  t.ok(sock.received.filter((m) => m.code === 'rate_limited').length >= 2);
});

t.test('a database failure answers internal, keeps the socket, and the room recovers', async (t) => {
  const server = await startServer(t);
  const user = await newUser(server, 'dbfail');
  const roomId = await createRoom(server, user);
  const { sock } = await joined(server, user, roomId);
  await sql`alter table drawings rename to drawings_away`.execute(server.app.db);
  sock.send(line(roomId, { clientRef: 'lost' }));
  const err = await sock.next('error');
  t.match(err, { code: 'internal', ref: 'lost', roomId });
  t.notMatch(err.message, /drawings_away|relation|sql/i, 'no database detail leaks to the client');
  t.ok(
    server.logs.raw.some((l) => l.includes('storing a room event failed')),
    'the failure is logged',
  );
  await sql`alter table drawings_away rename to drawings`.execute(server.app.db);
  sock.send(line(roomId, { clientRef: 'lost' }));
  const ok = await sock.next('draw');
  t.equal(ok.clientRef, 'lost');
  t.equal(ok.seq, 1, 'the failed write took no seq');
  await sock.close();
});
