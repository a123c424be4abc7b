import type { TestServer } from './server.js';

/** The value of one sample in Prometheus text, e.g. value(text, 'inkwell_rooms_active'). */
export function value(text: string, sample: string): number | undefined {
  const row = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return row === undefined ? undefined : Number(row.slice(sample.length + 1));
}

/** A histogram's sample count, e.g. count(text, 'inkwell_tutor_first_token_seconds'). */
export const count = (text: string, histogram: string) => value(text, `${histogram}_count`);

/** GET /metrics of a server started with METRICS=true. */
export async function scrape(server: TestServer): Promise<string> {
  const res = await fetch(`${server.url}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return res.text();
}
