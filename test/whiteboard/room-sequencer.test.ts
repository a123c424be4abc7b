import t from 'tap';
import type { OrderedFrame, RoomEventLog } from '../../src/whiteboard/event-log.js';
import { frame } from '../../src/whiteboard/protocol.js';
import { type RoomEvent, roomEvent } from '../../src/whiteboard/room-bus.js';
import { RoomSequencer } from '../../src/whiteboard/room-sequencer.js';

const ROOM = 'r1';
const stored = (seq: number): OrderedFrame => frame('delete_drawing', { roomId: ROOM, seq, drawingId: `d${seq}` });
const event = (seq: number, origin?: string): RoomEvent =>
  roomEvent({
    message: stored(seq),
    seq,
    ...(origin ? { origin: { connectionId: origin, message: stored(seq) } } : {}),
  });
const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
};

/** A sequencer over a fake log that holds seqs 1..`logged` (null for what is before `keptFrom`). */
function setup(opts: { start?: number; logged?: number; keptFrom?: number; grace?: number; failures?: number } = {}) {
  const delivered: RoomEvent[] = [];
  const asked: Array<[number, number]> = [];
  const warnings: string[] = [];
  const observed = { waits: [] as number[], reads: [] as string[], skipped: [] as number[] };
  let failures = opts.failures ?? 0;
  const log: RoomEventLog = {
    async between(_roomId, after, upto) {
      asked.push([after, upto]);
      if (failures-- > 0) throw new Error('database away');
      if (after + 1 < (opts.keptFrom ?? 1)) return null;
      const frames: OrderedFrame[] = [];
      for (let s = after + 1; s <= Math.min(upto, opts.logged ?? 1000); s++) frames.push(stored(s));
      return frames;
    },
  };
  const seq = new RoomSequencer({
    roomId: ROOM,
    log,
    latestSeq: async () => opts.start ?? 0,
    deliver: (e) => delivered.push(e),
    gapGraceMs: () => opts.grace ?? 5,
    warn: (_obj, msg) => warnings.push(msg),
    observer: {
      ordered: (seconds) => observed.waits.push(seconds),
      gapRead: (outcome) => observed.reads.push(outcome),
      skipped: (events) => observed.skipped.push(events),
    },
  });
  const seqs = () => delivered.filter((e) => e.seq !== undefined).map((e) => (e.echoOnly ? `echo ${e.seq}` : e.seq));
  return { seq, delivered, asked, warnings, seqs, observed };
}

t.test('in order: delivered at once; a repeat is dropped', async (t) => {
  const s = setup();
  await s.seq.ready();
  for (const n of [1, 2, 2, 3, 1]) s.seq.offer(event(n));
  t.same(s.seqs(), [1, 2, 3]);
  t.same(s.asked, [], 'the log is not read');
});

t.test('out of order within the grace: held, then delivered in order without reading the log', async (t) => {
  const s = setup({ grace: 200 });
  await s.seq.ready();
  s.seq.offer(event(1));
  s.seq.offer(event(3));
  s.seq.offer(event(4));
  t.same(s.seqs(), [1], '3 and 4 wait for 2');
  s.seq.offer(event(2));
  t.same(s.seqs(), [1, 2, 3, 4]);
  await new Promise((r) => setTimeout(r, 250));
  t.same(s.asked, [], 'the gap closed by itself');
});

t.test('a gap is filled from the log, then what was held follows', async (t) => {
  const s = setup();
  await s.seq.ready();
  s.seq.offer(event(1));
  s.seq.offer(event(5));
  await until(() => s.seqs().length === 5);
  t.same(s.seqs(), [1, 2, 3, 4, 5]);
  t.same(s.asked, [[1, 4]], 'only the missing seqs are asked for');
  t.same(JSON.parse(s.delivered[1]!.text), stored(2), 'the frame as the log has it');
  s.seq.offer(event(3));
  t.same(s.seqs(), [1, 2, 3, 4, 5], 'a late copy of a filled seq is dropped');
});

t.test("a sender's own copy arriving after the log delivered it still gets its echo, to the sender only", async (t) => {
  const s = setup();
  await s.seq.ready();
  s.seq.offer(event(2));
  await until(() => s.seqs().length === 2);
  s.seq.offer(event(1, 'conn-a'));
  t.same(s.seqs(), [1, 2, 'echo 1']);
});

t.test('a held copy with the echo wins over the log', async (t) => {
  const s = setup({ grace: 0 });
  await s.seq.ready();
  s.seq.offer(event(3));
  s.seq.offer(event(2, 'conn-a'));
  await until(() => s.seqs().length === 3);
  t.same(s.seqs(), [1, 2, 3]);
  t.equal(s.delivered[1]!.origin?.connectionId, 'conn-a');
});

t.test('the log answers null (too old): what comes next is delivered', async (t) => {
  const s = setup({ start: 10, keptFrom: 50 });
  await s.seq.ready();
  s.seq.offer(event(14));
  s.seq.offer(event(15));
  await until(() => s.seqs().length === 2);
  t.same(s.seqs(), [14, 15]);
  t.match(s.warnings, [/room events skipped/]);
  s.seq.offer(event(16));
  t.same(s.seqs(), [14, 15, 16], 'and on from there');
});

t.test('the log failing is retried; nothing is delivered out of order meanwhile', async (t) => {
  const s = setup({ failures: 2 });
  await s.seq.ready();
  s.seq.offer(event(3));
  await until(() => s.seqs().length === 3);
  t.same(s.seqs(), [1, 2, 3]);
  t.equal(s.asked.length, 3, 'two failures, then the answer');
});

t.test('events before the starting point is read wait for it; those it already covers are dropped', async (t) => {
  const s = setup({ start: 5 });
  s.seq.offer(event(6));
  s.seq.offer(event(4));
  s.seq.offer(roomEvent({ message: frame('cursor', { roomId: ROOM, userId: 'u', x: 1, y: 2 }), volatile: true }));
  t.equal(s.delivered.length, 1, 'a cursor passes straight through');
  await s.seq.ready();
  t.same(s.seqs(), [6]);
});

t.test('catchUp reads what the database has beyond the last delivered seq, with no event to trigger it', async (t) => {
  const s = setup({ start: 2 });
  await s.seq.ready();
  s.seq.catchUp(2);
  t.same(s.asked, [], 'nothing missing');
  s.seq.catchUp(6);
  await until(() => s.seqs().length === 4);
  t.same(s.seqs(), [3, 4, 5, 6]);
});

t.test('a disposed sequencer delivers nothing more', async (t) => {
  const s = setup({ grace: 20 });
  await s.seq.ready();
  s.seq.offer(event(2));
  s.seq.dispose();
  s.seq.offer(event(1));
  await new Promise((r) => setTimeout(r, 50));
  t.same(s.seqs(), []);
});

t.test('the observer hears how long each arriving event waited, and what the log was asked', async (t) => {
  const s = setup({ grace: 1000 });
  await s.seq.ready();
  s.seq.offer(event(1));
  s.seq.offer(event(3));
  await new Promise((r) => setTimeout(r, 40));
  s.seq.offer(event(2));
  t.same(s.seqs(), [1, 2, 3]);
  t.equal(s.observed.waits.length, 3, 'once per event that arrived');
  const [first, second, third] = s.observed.waits as [number, number, number];
  t.ok(third >= 0.035, `3 waited for 2, about 40 ms (${third} s)`);
  t.ok(third - Math.max(first, second) >= 0.035, `1 and 2 went as they came (${first} s, ${second} s)`);
  t.same(s.observed.reads, [], 'no gap was left to read');

  // A gap read fails once (retried after 500 ms), then fills; events from the log are not timed.
  const s2 = setup({ failures: 1 });
  await s2.seq.ready();
  s2.seq.offer(event(3));
  await until(() => s2.seqs().length === 3);
  t.same(s2.observed.reads, ['failed', 'filled']);
  t.equal(s2.observed.waits.length, 1, 'only 3 arrived by itself');
  t.ok(s2.observed.waits[0]! >= 0.4, 'it waited for the retried read');

  // The log no longer holds the missing events: they are given up, and counted.
  const s3 = setup({ start: 10, keptFrom: 50 });
  await s3.seq.ready();
  s3.seq.offer(event(14));
  await until(() => s3.seqs().length === 1);
  t.same(s3.observed.reads, ['gone']);
  t.same(s3.observed.skipped, [3], '11, 12 and 13');
});
