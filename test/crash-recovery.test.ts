import pg from 'pg';
import t, { type Test } from 'tap';
import { login, request } from './helpers/http.js';
import { freePort, runEntry, serverOf, waitForHttp, type RunningProcess } from './helpers/process.js';
import { persistentDatabase, TEST_JWT_SECRET, type TestServer } from './helpers/server.js';
import { openSocket, type TestSocket } from './helpers/ws-client.js';
import { line, roomState } from './whiteboard/fixtures.js';

/** Environment of a server process on this test's database (PGlite directory or a PostgreSQL schema). */
async function processEnv(t: Test): Promise<Record<string, string>> {
  const database = persistentDatabase(t);
  const env: Record<string, string> = { ...database.env };
  if (database.schema) {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create schema "${database.schema}"`);
    await admin.end();
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.searchParams.set('options', `-c search_path=${database.schema}`);
    env.DATABASE_URL = url.href;
  }
  return {
    ...env,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_JWT_SECRET,
    MAIL_TRANSPORT: 'log',
    OTP_COOLDOWN: '1ms',
    API_RATE_LIMIT_PER_MINUTE: '100000',
    WS_CONNECTIONS_PER_IP_PER_MINUTE: '10000',
    WS_RATE_PER_SECOND: '10000',
    WS_RATE_BURST: '10000',
  };
}

async function start(t: Test, env: Record<string, string>): Promise<{ proc: RunningProcess; server: TestServer }> {
  const port = await freePort();
  const proc = runEntry('server.ts', { ...env, PORT: String(port) });
  t.teardown(() => void proc.child.kill('SIGKILL'));
  await waitForHttp(`http://127.0.0.1:${port}/health`, proc);
  return { proc, server: serverOf(proc, port) };
}

t.test('kill -9 under load, restart: every acknowledged drawing is there', async (t) => {
  const env = await processEnv(t);
  const first = await start(t, env);
  const owner = await login(first.server, 'crash-owner@example.com');
  const room = await request(first.server, 'POST', '/api/v1/rooms/', { token: owner.access, body: {} });
  const roomId: string = room.body.roomId;

  const acknowledged = new Map<string, string>(); // clientRef → drawing id
  const clients: TestSocket[] = [];
  for (let i = 0; i < 4; i++) {
    const sock = await openSocket(`${first.server.wsUrl}/ws?token=${encodeURIComponent(owner.access)}`);
    sock.send({ type: 'join_room', roomId });
    await roomState(sock, roomId);
    sock.ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type === 'draw' && msg.clientRef) acknowledged.set(msg.clientRef, msg.drawing.id);
    });
    clients.push(sock);
  }
  // Each client keeps 20 drawings in flight until the process dies.
  let sent = 0;
  const pump = setInterval(() => {
    for (const [c, sock] of clients.entries()) {
      for (let k = 0; k < 5 && sock.ws.readyState === 1; k++) sock.send(line(roomId, { clientRef: `c${c}-${sent++}` }));
    }
  }, 5);
  while (acknowledged.size < 200) await new Promise((r) => setTimeout(r, 10));
  first.proc.child.kill('SIGKILL');
  const { signal } = await first.proc.exited;
  clearInterval(pump);
  t.equal(signal, 'SIGKILL');
  const acked = new Map(acknowledged);
  t.ok(sent > acked.size, `killed with writes in flight (${sent} sent, ${acked.size} acknowledged)`);

  const second = await start(t, env);
  const sock = await openSocket(`${second.server.wsUrl}/ws?token=${encodeURIComponent(owner.access)}`);
  sock.send({ type: 'join_room', roomId });
  const state = await roomState(sock, roomId);
  const stored = new Set(state.drawings.map((d: { id: string }) => d.id));
  const missing = [...acked].filter(([, id]) => !stored.has(id));
  t.same(missing, [], `all ${acked.size} acknowledged drawings survived (${stored.size} stored)`);
  const seqs = state.drawings.map((d: { seq: number }) => d.seq);
  t.same(
    seqs,
    [...seqs].sort((a: number, b: number) => a - b),
    'in seq order',
  );
  t.equal(new Set(seqs).size, seqs.length, 'no seq twice');
  await sock.close();
  second.proc.child.kill('SIGTERM');
  await second.proc.exited;
});
