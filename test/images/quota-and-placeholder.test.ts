import t from 'tap';
import { ManualClock } from '../helpers/clock.js';
import { startServer } from '../helpers/server.js';
import { ImageQuotaError } from '../../src/images/image-studio.js';
import { userWithRoom } from './fixtures.js';

async function quotaCode(fn: () => Promise<unknown>): Promise<string | null> {
  try {
    await fn();
    return null;
  } catch (err) {
    if (err instanceof ImageQuotaError) return err.code;
    throw err;
  }
}

// No OPENAI_API_KEY: the studio is in placeholder mode, which is also where quota is easiest to watch.
t.test('without a key: placeholders, one in flight and AI_IMAGES_PER_MINUTE per user', async (t) => {
  const clock = new ManualClock();
  const server = await startServer(t, { clock, env: { OPENAI_API_KEY: '', AI_IMAGES_PER_MINUTE: 3 } });
  const studio = server.app.imageStudio;
  const { session, roomId } = await userWithRoom(server, 'placeholder@example.com');
  const ctx = { userId: session.user.id, roomId };

  t.test('the placeholder is a stable Picsum URL per prompt', async (t) => {
    const a = await studio.generate('a red fox in the snow', ctx);
    const again = await studio.generate('a red fox in the snow', ctx);
    const other = await studio.generate('a blue whale', ctx);
    t.match(a, { placeholder: true, imageId: null });
    t.match(a.imageUrl, /^https:\/\/picsum\.photos\/seed\/[0-9a-f]+\/512\/512$/);
    t.equal(again.imageUrl, a.imageUrl, 'same prompt, same picture');
    t.not(other.imageUrl, a.imageUrl, 'another prompt, another picture');
    const stored = await server.app.db.selectFrom('images').select('id').execute();
    t.equal(stored.length, 0, 'placeholders store nothing');
  });

  t.test('a second claim while one is in flight is ai_busy; release frees it', async (t) => {
    const first = await studio.claim('user-busy');
    t.equal(await quotaCode(() => studio.claim('user-busy')), 'ai_busy');
    t.equal(await quotaCode(async () => (await studio.claim('someone-else')).release()), null, 'other users are not affected');
    first.release();
    first.release(); // twice is harmless
    t.equal(await quotaCode(async () => (await studio.claim('user-busy')).release()), null, 'free again after release');
  });

  t.test('more than AI_IMAGES_PER_MINUTE starts in a rolling minute is rate_limited', async (t) => {
    const user = 'user-rate';
    for (let i = 0; i < 3; i++) {
      (await studio.claim(user)).release();
      clock.advance(10_000);
    }
    // starts at t0, t0+10s, t0+20s; now t0+30s
    let err: unknown;
    try {
      await studio.claim(user);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ImageQuotaError);
    t.equal((err as ImageQuotaError).code, 'rate_limited');
    t.match((err as ImageQuotaError).message, /try again in 30 s/);
    t.equal(await quotaCode(async () => (await studio.claim('user-other')).release()), null, 'the limit is per user');

    clock.advance(29_000); // t0+59s: the first start is still inside the minute
    t.equal(await quotaCode(() => studio.claim(user)), 'rate_limited');
    clock.advance(1_001); // t0+60.001s: the first start has left the window
    const claim = await studio.claim(user);
    t.equal(await quotaCode(() => studio.claim(user)), 'ai_busy', 'busy is checked while the new one runs');
    claim.release();
    t.equal(await quotaCode(() => studio.claim(user)), 'rate_limited', 'and the budget is spent again');
  });
});
