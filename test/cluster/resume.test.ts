import t from 'tap';
import { clusterUnavailable, startCluster } from '../helpers/cluster.js';
import type { TestSocket } from '../helpers/ws-client.js';
import { connect, createRoom, joined, line, newUser, nothingMore, ordered, resume } from '../whiteboard/fixtures.js';

const skip = clusterUnavailable();
const seqs = (frames: any[]) => frames.map((f) => f.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Draws and waits for the drawer's own echo; returns its seq. */
async function draw(sock: TestSocket, roomId: string, clientRef: string): Promise<number> {
  sock.send(line(roomId, { clientRef }));
  return (await sock.next((m) => m.type === 'draw' && m.clientRef === clientRef, 20_000)).seq;
}

t.test('a client that dropped from one instance resumes on the other: exactly what it missed, then live events from both', { skip: skip ?? false }, async (t) => {
  const [a, b] = await startCluster(t, 2);
  const ann = await newUser(a!, 'ann');
  const bob = await newUser(a!, 'bob');
  const cat = await newUser(b!, 'cat');
  const roomId = await createRoom(a!, ann);
  const annOnA = await joined(a!, ann, roomId);
  const bobOnA = await joined(a!, bob, roomId);
  const catOnB = await joined(b!, cat, roomId);
  t.teardown(() => Promise.all([bobOnA.sock.close(), catOnB.sock.close()]));

  for (let i = 0; i < 3; i++) await draw(bobOnA.sock, roomId, `before${i}`);
  const applied = (await annOnA.sock.next((m) => m.type === 'draw' && m.seq === 3, 20_000)).seq;
  await annOnA.sock.close();

  // While Ann is away, both instances store events.
  for (let i = 0; i < 4; i++) {
    await draw(bobOnA.sock, roomId, `awayA${i}`);
    await draw(catOnB.sock, roomId, `awayB${i}`);
  }

  // Ann comes back through the other instance while both keep drawing.
  const back = await connect(b!, ann);
  t.teardown(() => back.close());
  for (let i = 0; i < 20; i++) {
    bobOnA.sock.send(line(roomId, { clientRef: `duringA${i}` }));
    catOnB.sock.send(line(roomId, { clientRef: `duringB${i}` }));
  }
  const answer = await resume(back, roomId, applied);
  t.equal(answer.kind, 'room_events', 'resumed on the other instance, not reloaded');
  const last = answer.frames[answer.frames.length - 1];
  t.match(last, { roomId, role: 'admin', complete: true });
  t.same(last.members.map((m: any) => m.id).sort(), [ann.user.id, bob.user.id, cat.user.id].sort(), 'members from both instances');
  t.same(seqs(answer.events), range(applied + 1, answer.frames[0].seq), 'every missed event, in seq order, once');

  const bobsLast = (await bobOnA.sock.next((m) => m.type === 'draw' && m.clientRef === 'duringA19', 20_000)).seq;
  const catsLast = (await catOnB.sock.next((m) => m.type === 'draw' && m.clientRef === 'duringB19', 20_000)).seq;
  const final = Math.max(bobsLast, catsLast);
  const live: any[] = [];
  while ((live.length === 0 ? answer.frames[0].seq : live[live.length - 1].seq) < final) live.push(await back.next(ordered, 20_000));
  t.same([...seqs(answer.events), ...seqs(live)], range(applied + 1, final), 'replay then live: no gap, no repeat');
  t.same(await nothingMore(back, ordered), [], 'nothing more');

  // Cat's own draws reached her with their clientRef; the others got (and a replay holds) them without.
  const broadcast = ({ clientRef: _, ...frame }: any) => frame;
  const seen = new Map(catOnB.sock.received.filter(ordered).map((f: any) => [f.seq, broadcast(f)]));
  t.same(
    answer.events,
    answer.events.map((e: any) => seen.get(e.seq)),
    'the replayed frames are the ones broadcast',
  );
});
