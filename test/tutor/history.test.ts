import t from 'tap';
import { TutorHistory, type StoredTurn } from '../../src/tutor/history.js';
import { startServer, testDatabase } from '../helpers/server.js';
import { newUser } from './tutor-helpers.js';

const server = await startServer(t);

t.test('a context loaded while a turn is being stored holds that turn once', async (t) => {
  const { user } = await newUser(server, 'history');
  const history = new TutorHistory(server.app.db, server.app.clock, 20);
  const turn = (n: number): StoredTurn => ({
    userId: user.id,
    grammarId: null,
    turnId: `00000000-0000-4000-8000-00000000000${n}`,
    question: `question ${n}`,
    answer: `answer ${n}`,
    status: 'completed',
    askedAt: server.app.clock.now(),
  });
  await history.save(turn(1));
  // Nothing cached yet: this load runs while the insert is in flight (on one connection it runs right
  // after the insert, so it reads the committed turn) — and save() then extends the same cached context.
  // On a PostgreSQL pool it may run beside the insert and read before the commit: that is correct too.
  const saving = history.save(turn(2));
  const loading = history.context(user.id, null);
  await saving;
  const expected = ['question 1', 'answer 1', 'question 2', 'answer 2'];
  const loaded = (await loading).map((m) => m.content);
  t.ok(
    [expected, expected.slice(0, 2)].some((e) => JSON.stringify(e) === JSON.stringify(loaded)),
    `the load read the turn being stored, or not yet (${loaded.join(', ')})`,
  );
  if (testDatabase === 'pglite') t.same(loaded, expected, 'one connection: the load runs after the insert');
  t.same(
    (await history.context(user.id, null)).map((m) => m.content),
    expected,
    'the cached context too',
  );
  t.same(Object.keys((await history.context(user.id, null))[0]!).sort(), ['content', 'role'], 'only what the model reads');

  await history.save(turn(3));
  t.same(
    (await history.context(user.id, null)).map((m) => m.content),
    [...expected, 'question 3', 'answer 3'],
    'later turns are still appended',
  );
});
