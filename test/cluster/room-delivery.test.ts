import t from 'tap';
import { clusterUnavailable, startCluster, type Instance } from '../helpers/cluster.js';
import { count, scrape, value } from '../helpers/metrics.js';
import type { TestSocket } from '../helpers/ws-client.js';
import { createRoom, joined, line, newUser } from '../whiteboard/fixtures.js';

const skip = clusterUnavailable();
const fast = { WS_RATE_BURST: 10_000, WS_RATE_PER_SECOND: 10_000 };

/** The seqs of the ordered events a socket received in one room, in arrival order. */
const seqs = (s: TestSocket, roomId: string) =>
  s.received
    .filter((m) => m && m.roomId === roomId && ['draw', 'delete_drawing', 'clear_canvas', 'ai_message'].includes(m.type) && m.seq !== undefined)
    .map((m) => m.seq as number);
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Waits until the socket has `n` ordered events in the room (or the time runs out). */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** On each instance: two sockets that draw (and receive) and one that only receives, all in one room. */
async function seat(instances: Instance[], roomId: string) {
  const senders: TestSocket[][] = [];
  const everyone: TestSocket[] = [];
  for (const [i, server] of instances.entries()) {
    const here: TestSocket[] = [];
    for (const k of [0, 1]) here.push((await joined(server, await newUser(server, `s${i}-${k}`), roomId)).sock);
    const receiver = (await joined(server, await newUser(server, `r${i}`), roomId)).sock;
    senders.push(here);
    everyone.push(...here, receiver);
  }
  t.teardown(() => Promise.all(everyone.map((s) => s.close())));
  return { senders, everyone };
}

for (const count of [2, 3]) {
  t.test(`${count} instances: senders on every instance at once, every receiver gets 1..N once and in order`, { skip: skip ?? false }, async (t) => {
    const instances = await startCluster(t, count, { env: fast });
    const admin = await newUser(instances[0]!, 'admin');
    const roomId = await createRoom(instances[0]!, admin);
    const { senders, everyone } = await seat(instances, roomId);
    const PER_SENDER = 100;
    const total = PER_SENDER * 2 * count;

    for (let i = 0; i < PER_SENDER; i++) for (const [k, s] of senders.flat().entries()) s.send(line(roomId, { clientRef: `s${k}-${i}` }));
    const done = await until(() => everyone.every((s) => seqs(s, roomId).length >= total), 60_000);
    t.ok(done, 'every socket received every event');
    for (const [i, s] of everyone.entries()) t.same(seqs(s, roomId), upTo(total), `socket ${i} (instance ${Math.floor(i / 3)}): 1..${total}, no gap, no repeat`);
    senders.flat().forEach((s, k) => {
      const refs = s.received.filter((m) => m.type === 'draw' && m.clientRef).map((m) => m.clientRef);
      t.equal(refs.length, PER_SENDER, `sender ${k} got its ${PER_SENDER} echoes`);
    });
  });
}

t.test('Redis cut from one instance mid-load: it keeps delivering its own; after restore every receiver has everything in order', { skip: skip ?? false }, async (t) => {
  const [a, b] = await startCluster(t, 2, { env: { ...fast, METRICS: 'true' } });
  const admin = await newUser(a!, 'admin');
  const roomId = await createRoom(a!, admin);
  const { senders, everyone } = await seat([a!, b!], roomId);
  const [onA, onB] = [everyone.slice(0, 3), everyone.slice(3)];
  const burst = async (tag: string, n: number) => {
    for (let i = 0; i < n; i++) for (const [k, s] of senders.flat().entries()) s.send(line(roomId, { clientRef: `${tag}-${k}-${i}` }));
  };

  await burst('before', 25);
  t.ok(await until(() => everyone.every((s) => seqs(s, roomId).length >= 100), 30_000), 'the first 100 reach everyone');

  b!.redisProxy.cut();
  const cutAt = Date.now();
  await burst('during', 25);
  // B's own drawings still reach B's sockets, with the sender's echo, while Redis is away.
  const bEchoes = () => senders[1]!.flatMap((s) => s.received.filter((m) => m.type === 'draw' && String(m.clientRef).startsWith('during-')));
  t.ok(await until(() => bEchoes().length === 50, 30_000), "instance B's senders get every echo of what they drew during the cut");
  const bHas = onB.map((s) => seqs(s, roomId).length);
  const aHas = onA.map((s) => seqs(s, roomId).length);
  t.comment(`during the cut (${Date.now() - cutAt} ms in): events seen on A ${aHas.join('/')}, on B ${bHas.join('/')} (200 stored)`);
  for (const s of onB) t.ok(seqs(s, roomId).length >= 150, 'B delivered at least its own 50 and what it filled from the database');
  for (const s of everyone) {
    const got = seqs(s, roomId);
    t.same(got, upTo(got.length), 'what anyone has so far is 1..n: in order, no gap, no repeat');
  }

  b!.redisProxy.restore();
  const restoredAt = Date.now();
  t.ok(await until(() => everyone.every((s) => seqs(s, roomId).length >= 200), 30_000), 'after restore everyone catches up without a new event');
  t.comment(`every receiver had all 200 events ${Date.now() - restoredAt} ms after restore`);
  await burst('after', 10);
  t.ok(await until(() => everyone.every((s) => seqs(s, roomId).length >= 240), 30_000));
  for (const [i, s] of everyone.entries()) t.same(seqs(s, roomId), upTo(240), `socket ${i}: 1..240 in order, no gap, no repeat`);

  // What an operator sees of it on GET /metrics.
  for (const [name, server] of [
    ['A', a!],
    ['B', b!],
  ] as const) {
    const text = await scrape(server);
    t.ok(value(text, 'inkwell_bus_messages_total{direction="published"}')! > 0, `${name} counts the messages it sent the other instance`);
    t.ok(value(text, 'inkwell_bus_messages_total{direction="received"}')! > 0, `${name} counts the messages it got`);
    t.ok(count(text, 'inkwell_bus_order_wait_seconds')! >= 120, `${name} timed the ordering of every event that reached it`);
  }
  const bMetrics = await scrape(b!);
  t.ok(value(bMetrics, 'inkwell_bus_gap_reads_total{outcome="filled"}')! > 0, "B counts the reads of the event log that filled in A's drawings during the cut");
  t.equal(value(bMetrics, 'inkwell_bus_events_skipped_total'), 0, 'and no event was given up');
});
