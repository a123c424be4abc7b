import type { Buckets } from './server-process.js';

/** Inkwell's own histograms (its /metrics), as the `histograms` command returns them. */
export interface Histograms {
  /** Group-commit transaction, start → commit. */
  commit: Buckets;
  /** Receipt of a write → its event handed to every socket (of the instance that received it). */
  deliver: Buckets;
  /** An ordered event reaching an instance → its delivery there (several instances only: 0 unless it waited for earlier seqs). */
  order: Buckets;
}

/** Share of the window's observations within each bound from `from` (1 ms) to 50 ms: `after − before`, cumulative. */
export function shares(before: Buckets, after: Buckets, from = 0.001): string {
  const total = (after.at(-1)?.[1] ?? 0) - (before.at(-1)?.[1] ?? 0);
  if (total <= 0) return 'none observed';
  const cells = after
    .filter(([le]) => le >= from && le <= 0.05)
    .map(([le, n]) => `≤${le * 1000} ms ${((100 * (n - (before.find(([b]) => b === le)?.[1] ?? 0))) / total).toFixed(1)}%`);
  return `${cells.join(', ')} (of ${total})`;
}

/** Several instances' histograms as one (the same bounds on every instance). */
export function summed(all: Histograms[]): Histograms {
  const add = (key: keyof Histograms): Buckets => all[0]![key].map(([le], i) => [le, all.reduce((n, h) => n + (h[key][i]?.[1] ?? 0), 0)]);
  return { commit: add('commit'), deliver: add('deliver'), order: add('order') };
}
