import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/** M members (the first N of them senders) connected to one room of one server. */
export interface RoomOptions {
  /** ws://host:port/path?query for member i. */
  url: (member: number) => string;
  members: number;
  senders: number;
  /** Sent on open, and the frame that says the member is in (Inkwell's join); none for the relay. */
  join?: { message: (member: number) => unknown; joined: (frame: any) => boolean };
  /** Extra fields of every draw (Inkwell needs roomId). */
  drawFields: Record<string, unknown>;
  /** Points per drawing. */
  points: number;
  /** Which server member i is on, when the room spans several (latency is also reported for pairs on different ones). */
  serverOf?: (member: number) => number;
}

export interface LoadResult {
  sent: number;
  receivers: number;
  /** Mean drawings received per receiver (senders excluded). */
  receivedPerReceiver: number;
  /** Drawings per second reaching each receiver: received / Σ(last receipt − first send) over the measured bursts. */
  deliveredPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  samples: number;
  /** With serverOf: latency from a sender on one server to a receiver on another. */
  crossP50?: number;
  crossP99?: number;
  /** Frames of other types seen (error codes etc.), and close codes before the end. */
  errors: Record<string, number>;
  closes: Record<string, number>;
  /** Draw frames whose seq was not above the previous one at that receiver. */
  outOfOrder: number;
}

interface Member {
  index: number;
  ws: WebSocket;
  received: number;
  lastSeq: number;
}

/**
 * What a receiver needs of a draw frame, read without parsing all of it: the load generator shares
 * the cores with the servers it measures, and 50 sockets × 1,000 frames/s of JSON.parse was most
 * of its work. `seq` is the first one in the frame (Inkwell's frame puts it before `drawing`; the
 * relay's has none) and the first point (x: sender, y: the sender's count) is the first `points`,
 * whether Inkwell wraps them in `drawing` or the relay echoes them as sent.
 */
const SEQ = /"seq":(\d+)/;
const FIRST_POINT = /"points":\[\{"x":(\d+),"y":(\d+)/;
const DRAW = '{"type":"draw"';

function drawOf(text: string): { seq?: number; first?: { x: number; y: number } } {
  const seq = SEQ.exec(text);
  const point = FIRST_POINT.exec(text);
  return { seq: seq ? Number(seq[1]) : undefined, first: point ? { x: Number(point[1]), y: Number(point[2]) } : undefined };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * When the senders' drawings are due (`--arrivals=`, or BENCH_ARRIVALS):
 * - `poisson` (the default): each sender draws at random moments, independently of the others, at
 *   its share of the rate (random gaps, from a fixed seed so every run and server gets the same
 *   schedule): the arrivals of independent people.
 * - `even`: the drawings evenly spaced in time, the senders taking them in turn.
 * - `lockstep`: every sender's n-th drawing due at the same instant, so the server gets one drawing
 *   per sender at once (the only shape before 5 December 2026).
 */
export type Arrivals = 'poisson' | 'even' | 'lockstep';
export const ARRIVALS: Arrivals = (() => {
  const raw = process.argv.find((a) => a.startsWith('--arrivals='))?.split('=')[1] ?? process.env.BENCH_ARRIVALS ?? 'poisson';
  if (raw !== 'poisson' && raw !== 'even' && raw !== 'lockstep') throw new Error(`--arrivals must be poisson, even or lockstep (got "${raw}")`);
  return raw;
})();
export const sendPattern = {
  poisson: 'arrivals: each sender at random moments (Poisson), independently',
  even: 'arrivals: evenly spaced, senders in turn',
  lockstep: 'arrivals: senders in lockstep (one drawing per sender due at once)',
}[ARRIVALS];

/** A small seeded generator (mulberry32): the same random schedule in every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seconds from the start of a burst at which each of a sender's `count` drawings is due. */
function schedule(sender: number, senders: number, senderRate: number, count: number, burst: number): number[] {
  if (ARRIVALS === 'lockstep') return Array.from({ length: count }, (_, j) => j / senderRate);
  if (ARRIVALS === 'even') return Array.from({ length: count }, (_, j) => (j + sender / senders) / senderRate);
  // A Poisson process with `count` arrivals in the burst's time is that many uniform moments, sorted:
  // random gaps, and still exactly the asked rate over the burst.
  const random = seeded(burst * 7919 + sender + 1);
  const seconds = count / senderRate;
  return Array.from({ length: count }, () => random() * seconds).sort((a, b) => a - b);
}

/**
 * The load generator's side of one room. Latency is receipt − send for every drawing at every
 * receiver: a drawing's first point is (sender, n), which finds its send time again, whatever
 * the server adds or leaves out of the frame. The clientRef carries the send time too.
 */
export class LoadRoom {
  private readonly members: Member[] = [];
  /** sentAt[sender][n]: send time of that sender's n-th drawing. */
  private readonly sentAt: number[][];
  private latencies: number[] = [];
  private crossLatencies: number[] = [];
  private measuring = false;
  private measuredSent = 0;
  private measuredReceived = 0;
  private measuredMs = 0;
  private lastReceipt = 0;
  private outOfOrder = 0;
  private closing = false;
  /** Bursts so far: each has a schedule of its own (the same in every run). */
  private bursts = 0;
  private readonly errors: Record<string, number> = {};
  private readonly closes: Record<string, number> = {};

  private constructor(private readonly opts: RoomOptions) {
    this.sentAt = Array.from({ length: opts.senders }, () => []);
  }

  /** Connects every member and, for Inkwell, waits until each has its room_state. */
  static async open(opts: RoomOptions): Promise<LoadRoom> {
    const room = new LoadRoom(opts);
    await Promise.all(Array.from({ length: opts.members }, (_, i) => room.connect(i)));
    return room;
  }

  private connect(i: number): Promise<void> {
    const ws = new WebSocket(this.opts.url(i), { perMessageDeflate: false, skipUTF8Validation: true });
    const member: Member = { index: i, ws, received: 0, lastSeq: 0 };
    this.members[i] = member;
    const isReceiver = i >= this.opts.senders;
    return new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('close', (code) => {
        if (!this.closing) this.closes[code] = (this.closes[code] ?? 0) + 1;
      });
      ws.on('message', (data) => {
        const now = performance.now();
        const text = data.toString();
        if (text.startsWith(DRAW)) {
          if (isReceiver) this.receive(member, drawOf(text), now);
          return;
        }
        const frame = JSON.parse(text);
        if (this.opts.join?.joined(frame)) {
          resolve();
        } else if (frame.type === 'error' || frame.error === true) {
          this.errors[frame.code ?? 'unknown'] = (this.errors[frame.code ?? 'unknown'] ?? 0) + 1;
        }
      });
      ws.once('open', () => {
        if (!this.opts.join) return resolve();
        ws.send(JSON.stringify(this.opts.join.message(i)));
      });
    });
  }

  private receive(member: Member, frame: { seq?: number; first?: { x: number; y: number } }, now: number): void {
    member.received++;
    this.lastReceipt = now;
    // Inkwell promises strictly increasing seq per room; the relay has none to check.
    if (typeof frame.seq === 'number') {
      if (frame.seq <= member.lastSeq) this.outOfOrder++;
      member.lastSeq = frame.seq;
    }
    if (!this.measuring) return;
    this.measuredReceived++;
    const first = frame.first;
    const t0 = first ? this.sentAt[first.x]?.[first.y] : undefined;
    if (t0 === undefined) return;
    this.latencies.push(now - t0);
    const serverOf = this.opts.serverOf;
    if (serverOf && serverOf(first!.x) !== serverOf(member.index)) this.crossLatencies.push(now - t0);
  }

  private get receivers(): Member[] {
    return this.members.slice(this.opts.senders);
  }

  private get sentSoFar(): number {
    return this.sentAt.reduce((a, s) => a + s.length, 0);
  }

  /**
   * Senders draw at `rate` per second in all for `seconds`, each sending what is due (see ARRIVALS)
   * every few milliseconds (a late tick catches up); then waits up to drainMs for every receiver to have
   * everything. Measured bursts count towards the result; the others only warm up.
   */
  async burst(rate: number, seconds: number, drainMs: number, measured: boolean): Promise<void> {
    this.measuring = measured;
    const perSender = Math.ceil((rate * seconds) / this.opts.senders);
    const senderRate = rate / this.opts.senders;
    const start = performance.now();
    const base = this.sentAt.map((s) => s.length);
    const burst = this.bursts++;
    const due = Array.from({ length: this.opts.senders }, (_, s) => schedule(s, this.opts.senders, senderRate, perSender, burst));
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = (performance.now() - start) / 1000;
        let done = true;
        for (let s = 0; s < this.opts.senders; s++) {
          const times = this.sentAt[s]!;
          const at = due[s]!;
          while (times.length - base[s]! < perSender && at[times.length - base[s]!]! <= elapsed) this.send(s, times.length);
          if (times.length - base[s]! < perSender) done = false;
        }
        if (done) {
          clearInterval(timer);
          resolve();
        }
      }, 2);
    });
    const sent = this.sentSoFar;
    const deadline = performance.now() + drainMs;
    while (performance.now() < deadline && this.receivers.some((m) => m.received < sent && m.ws.readyState === WebSocket.OPEN)) {
      await sleep(5);
    }
    if (measured) {
      this.measuredSent += sent - base.reduce((a, b) => a + b, 0);
      this.measuredMs += Math.max(0, this.lastReceipt - start);
    }
    this.measuring = false;
  }

  private send(sender: number, n: number): void {
    const points = [{ x: sender, y: n }];
    for (let k = 1; k < this.opts.points; k++) points.push({ x: 100 + k * 3, y: 200 + ((n + k) % 50) });
    const at = performance.now();
    this.sentAt[sender]!.push(at);
    this.members[sender]!.ws.send(
      JSON.stringify({
        type: 'draw',
        ...this.opts.drawFields,
        shapeType: 'line',
        points,
        color: '#336699',
        strokeWidth: 2,
        clientRef: `b${sender}-${n}-${at.toFixed(3)}`,
      }),
    );
  }

  result(): LoadResult {
    const sorted = Float64Array.from(this.latencies).sort();
    const cross = Float64Array.from(this.crossLatencies).sort();
    const receivers = this.receivers.length;
    const receivedPerReceiver = this.measuredReceived / Math.max(1, receivers);
    return {
      sent: this.measuredSent,
      receivers,
      receivedPerReceiver,
      deliveredPerSecond: receivedPerReceiver / Math.max(1e-9, this.measuredMs / 1000),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1]! : NaN,
      samples: sorted.length,
      ...(this.opts.serverOf ? { crossP50: percentile(cross, 50), crossP99: percentile(cross, 99) } : {}),
      errors: { ...this.errors },
      closes: { ...this.closes },
      outOfOrder: this.outOfOrder,
    };
  }

  close(): void {
    this.closing = true;
    for (const m of this.members) m.ws.terminate();
  }
}
