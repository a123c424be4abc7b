import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/** One run of N senders drawing into a room that M members (senders included) watch. */
export interface LoadOptions {
  /** ws://host:port/path?query for member i. */
  url: (member: number) => string;
  members: number;
  senders: number;
  /** Aggregate drawings per second across all senders. */
  rate: number;
  seconds: number;
  /** Sent before any drawing, and the frame that says the member is in (Inkwell's join). */
  join?: { message: (member: number) => unknown; joined: (frame: any) => boolean };
  /** Extra fields of every draw (Inkwell needs roomId). */
  drawFields: Record<string, unknown>;
  points: number;
  /** Latencies of drawings sent in the first warmupMs are not counted. */
  warmupMs: number;
  /** How long to wait after the last send for stragglers. */
  drainMs: number;
  /** Called once every member is in, before the first drawing (e.g. to read the server's counters). */
  onJoined?: () => Promise<void>;
  /** Called after the drain, before the sockets close (e.g. to read the server's counters). */
  onDrained?: () => Promise<void>;
}

export interface LoadResult {
  sent: number;
  receivers: number;
  /** Mean drawings received per receiver (senders excluded). */
  receivedPerReceiver: number;
  /** Drawings per second reaching each receiver: received / (last receipt − first send). */
  deliveredPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  samples: number;
  /** Frames of other types seen (error codes etc.), and close codes. */
  errors: Record<string, number>;
  closes: Record<string, number>;
  /** Draw frames whose seq was not above the previous one at that receiver. */
  outOfOrder: number;
}

interface Member {
  ws: WebSocket;
  received: number;
  lastSeq: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Where a draw frame keeps its points: Inkwell wraps them in `drawing`, the relay echoes them as sent. */
function pointsOf(frame: any): Array<{ x: number; y: number }> | undefined {
  return frame.drawing?.points ?? frame.points;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const perSender = Math.ceil((opts.rate * opts.seconds) / opts.senders);
  // sentAt[sender][n]: send time of that sender's n-th drawing, found again from its first point.
  const sentAt = Array.from({ length: opts.senders }, () => new Float64Array(perSender));
  const latencies = new Float64Array(perSender * opts.senders * (opts.members - opts.senders));
  let samples = 0;
  let firstSend = 0;
  let lastReceipt = 0;
  let warmupEnds = Infinity;
  const errors: Record<string, number> = {};
  const closes: Record<string, number> = {};
  let finished = false;
  let outOfOrder = 0;

  const members: Member[] = [];
  await Promise.all(
    Array.from({ length: opts.members }, (_, i) => {
      const ws = new WebSocket(opts.url(i), { perMessageDeflate: false });
      const member: Member = { ws, received: 0, lastSeq: 0 };
      members[i] = member;
      const isReceiver = i >= opts.senders;
      return new Promise<void>((resolve, reject) => {
        ws.once('error', reject);
        ws.on('close', (code) => {
          if (!finished) closes[code] = (closes[code] ?? 0) + 1;
        });
        ws.on('message', (data) => {
          const now = performance.now();
          const frame = JSON.parse(data.toString());
          if (frame.type === 'draw') {
            if (!isReceiver) return;
            member.received++;
            lastReceipt = now;
            // Inkwell promises strictly increasing seq per room; the relay has none to check.
            if (typeof frame.seq === 'number') {
              if (frame.seq <= member.lastSeq) outOfOrder++;
              member.lastSeq = frame.seq;
            }
            const first = pointsOf(frame)?.[0];
            if (!first) return;
            const t0 = sentAt[first.x]?.[first.y];
            if (t0 && t0 >= warmupEnds && samples < latencies.length) latencies[samples++] = now - t0;
          } else if (opts.join?.joined(frame)) {
            resolve();
          } else if (frame.type === 'error' || frame.error === true) {
            errors[frame.code ?? 'unknown'] = (errors[frame.code ?? 'unknown'] ?? 0) + 1;
          }
        });
        ws.once('open', () => {
          if (!opts.join) return resolve();
          ws.send(JSON.stringify(opts.join.message(i)));
        });
      });
    }),
  );

  await opts.onJoined?.();

  // Each sender sends what is due by now, every few milliseconds; a late tick catches up.
  const senderRate = opts.rate / opts.senders;
  const sentBy = new Array<number>(opts.senders).fill(0);
  const shape = (sender: number, n: number) => {
    const points = [{ x: sender, y: n }];
    for (let k = 1; k < opts.points; k++) points.push({ x: 100 + k * 3, y: 200 + ((n + k) % 50) });
    return points;
  };
  firstSend = performance.now();
  warmupEnds = firstSend + opts.warmupMs;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const elapsed = (now - firstSend) / 1000;
      let done = true;
      for (let s = 0; s < opts.senders; s++) {
        const due = Math.min(perSender, Math.floor(elapsed * senderRate) + 1);
        for (let n = sentBy[s]!; n < due; n++) {
          const at = performance.now();
          sentAt[s]![n] = at;
          members[s]!.ws.send(
            JSON.stringify({
              type: 'draw',
              ...opts.drawFields,
              shapeType: 'line',
              points: shape(s, n),
              color: '#336699',
              strokeWidth: 2,
              clientRef: `b${s}-${n}-${at.toFixed(3)}`,
            }),
          );
        }
        sentBy[s] = due;
        if (due < perSender) done = false;
      }
      if (done) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });

  const sent = sentBy.reduce((a, b) => a + b, 0);
  const receivers = members.slice(opts.senders);
  const deadline = performance.now() + opts.drainMs;
  while (performance.now() < deadline && receivers.some((m) => m.received < sent && m.ws.readyState === WebSocket.OPEN)) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await opts.onDrained?.();
  finished = true;
  for (const m of members) m.ws.terminate();

  const sorted = latencies.slice(0, samples).sort();
  const receivedPerReceiver = receivers.reduce((a, m) => a + m.received, 0) / Math.max(1, receivers.length);
  const spanSeconds = Math.max(1e-9, (lastReceipt - firstSend) / 1000);
  return {
    sent,
    receivers: receivers.length,
    receivedPerReceiver,
    deliveredPerSecond: receivedPerReceiver / spanSeconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    samples,
    errors,
    closes,
    outOfOrder,
  };
}
