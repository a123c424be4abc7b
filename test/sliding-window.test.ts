import t from 'tap';
import { SlidingWindowCounter } from '../src/sliding-window.js';

t.test('a rolling window per key', async (t) => {
  let now = 1_000;
  const w = new SlidingWindowCounter(2, 60_000, () => now);
  t.same(w.take('a'), { ok: true });
  now += 10_000;
  t.same(w.take('a'), { ok: true });
  t.same(w.take('a'), { ok: false, retryAfterMs: 50_000 }, 'the oldest event frees a slot 60 s after it');
  t.same(w.take('b'), { ok: true }, 'keys are independent');
  now += 50_001;
  t.same(w.take('a'), { ok: true }, 'the window moved past the first event');
  t.same(w.take('a'), { ok: false, retryAfterMs: 9_999 }, 'refused events were never recorded');
  now += 200_000;
  t.same(w.take('a'), { ok: true }, 'quiet keys are swept and start afresh');
});
