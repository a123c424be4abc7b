import { type IntervalHistogram, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/** What delayed a server's event loop during a measured burst: its delay and the garbage collector's pauses. */
export interface LoopStats {
  /** Event-loop delay percentiles and maximum, ms (sampled every 1 ms by perf_hooks). */
  delayP50: number;
  delayP99: number;
  delayMax: number;
  /** Garbage-collection pauses: how many, their total, the longest, and how many took over 5 ms. */
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
  gcOver5ms: number;
  /** CPU time the whole process used (every thread, user + system), ms. */
  cpuMs: number;
}

/** One line for a report: the delay's percentiles, the GC pauses and the CPU time. */
export function describeLoop(l: LoopStats): string {
  return (
    `event-loop delay p50 ${l.delayP50.toFixed(2)} / p99 ${l.delayP99.toFixed(2)} / max ${l.delayMax.toFixed(1)} ms; ` +
    `GC ${l.gcCount} pauses, ${l.gcTotalMs.toFixed(0)} ms in all, longest ${l.gcMaxMs.toFixed(1)} ms, ${l.gcOver5ms} over 5 ms; CPU ${l.cpuMs.toFixed(0)} ms`
  );
}

/** The worst of each figure over a server's measured bursts (p99 as the highest burst's), GC and CPU summed. */
export function worst(bursts: LoopStats[]): LoopStats | undefined {
  if (bursts.length === 0) return undefined;
  const max = (k: keyof LoopStats) => Math.max(...bursts.map((b) => b[k]));
  const sum = (k: keyof LoopStats) => bursts.reduce((n, b) => n + b[k], 0);
  return {
    delayP50: max('delayP50'),
    delayP99: max('delayP99'),
    delayMax: max('delayMax'),
    gcCount: sum('gcCount'),
    gcTotalMs: sum('gcTotalMs'),
    gcMaxMs: max('gcMaxMs'),
    gcOver5ms: sum('gcOver5ms'),
    cpuMs: sum('cpuMs'),
  };
}

export function loopRow(label: string, bursts: LoopStats[]): string {
  const w = worst(bursts);
  if (!w) return `${label}: not measured`;
  return `${label.padEnd(22)} ${describeLoop(w)}`;
}

/** Watches this process's event loop and garbage collector between `reset()` and `read()`. */
export class LoopMonitor {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  private gc = { count: 0, total: 0, max: 0, over5: 0 };
  private cpu = process.cpuUsage();
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      this.gc.count++;
      this.gc.total += entry.duration;
      this.gc.max = Math.max(this.gc.max, entry.duration);
      if (entry.duration > 5) this.gc.over5++;
    }
  });

  constructor() {
    this.delay.enable();
    this.observer.observe({ entryTypes: ['gc'] });
  }

  reset(): void {
    this.delay.reset();
    this.gc = { count: 0, total: 0, max: 0, over5: 0 };
    this.cpu = process.cpuUsage();
  }

  read(): LoopStats {
    const ms = (ns: number) => ns / 1e6;
    const cpu = process.cpuUsage(this.cpu);
    return {
      delayP50: ms(this.delay.percentile(50)),
      delayP99: ms(this.delay.percentile(99)),
      delayMax: ms(this.delay.max),
      gcCount: this.gc.count,
      gcTotalMs: this.gc.total,
      gcMaxMs: this.gc.max,
      gcOver5ms: this.gc.over5,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  }
}
