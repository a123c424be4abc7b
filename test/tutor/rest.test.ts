import t from 'tap';
import { request } from '../helpers/http.js';
import { newUser, openChat, startTutor, turnFrames } from './tutor-helpers.js';

const { server, fake } = await startTutor(t);

t.test('grammar topics: list without auth (≥12 seeded), detail, 404', async (t) => {
  const list = await request(server, 'GET', '/api/v1/grammar/');
  t.equal(list.status, 200);
  const topics = list.body.results;
  t.ok(topics.length >= 12, `${topics.length} topics`);
  for (const title of ['Present perfect', 'Past perfect', 'Conditionals', 'Articles'])
    t.ok(
      topics.some((x: any) => x.title === title),
      title,
    );
  for (const topic of topics) {
    t.same(Object.keys(topic).sort(), ['description', 'id', 'title']);
    t.ok(topic.description.length > 40, `${topic.title} has a useful description`);
  }
  const one = await request(server, 'GET', `/api/v1/grammar/${topics[3].id}`);
  t.same(one.body, topics[3], 'detail, also without the trailing slash');
  t.equal((await request(server, 'GET', `/api/v1/grammar/${topics[3].id}/`)).status, 200);
  for (const id of ['99999', 'abc', '-1', '1.5']) {
    const missing = await request(server, 'GET', `/api/v1/grammar/${id}/`);
    t.equal(missing.status, 404, id);
    t.match(missing.body, { statusCode: 404, code: 'topic_not_found', message: String });
  }
  t.equal((await request(server, 'GET', '/api/v1/grammar')).status, 200);
});

t.test('history: own messages newest first, paged; delete only own', async (t) => {
  const alice = await newUser(server, 'alice');
  const bob = await newUser(server, 'bob');
  t.equal((await request(server, 'GET', '/api/v1/chat/history/1/')).status, 401, 'needs a token');
  t.equal((await request(server, 'DELETE', '/api/v1/chat/history/1/')).status, 401);
  t.equal((await request(server, 'GET', '/api/v1/chat/history/1/', { token: alice.refresh })).status, 401);

  const a = await openChat(server, 1, alice);
  const b = await openChat(server, 1, bob);
  const aGeneral = await openChat(server, 'general', alice);
  t.teardown(() => Promise.all([a.close(), b.close(), aGeneral.close()]));
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    fake.chat.chunks = [`answer ${i}`];
    a.send({ data: `question ${i}` });
    ids.push((await turnFrames(a))[0].id);
  }
  b.send({ data: 'bob asks' });
  await turnFrames(b);
  aGeneral.send({ data: 'general question' });
  await turnFrames(aGeneral);

  const page1 = await request(server, 'GET', '/api/v1/chat/history/1/?limit=4', { token: alice.access });
  t.equal(page1.status, 200);
  t.same(
    page1.body.results.map((m: any) => m.content),
    ['answer 2', 'question 2', 'answer 1', 'question 1'],
  );
  t.match(page1.body.results[0], { role: 'assistant', status: 'completed', feedback: null, grammarId: 1, responseId: ids[2] });
  t.match(page1.body.results[1], { role: 'user', responseId: ids[2] });
  t.ok(!Number.isNaN(Date.parse(page1.body.results[0].createdAt)));
  t.type(page1.body.nextCursor, 'number');
  const page2 = await request(server, 'GET', `/api/v1/chat/history/1/?limit=4&before=${page1.body.nextCursor}`, { token: alice.access });
  t.same(
    page2.body.results.map((m: any) => m.content),
    ['answer 0', 'question 0'],
  );
  t.equal(page2.body.nextCursor, null);
  t.equal((await request(server, 'GET', '/api/v1/chat/history/1/?limit=101', { token: alice.access })).status, 400);
  t.equal((await request(server, 'GET', '/api/v1/chat/history/1/?before=x', { token: alice.access })).status, 400);

  const general = await request(server, 'GET', '/api/v1/chat/history/general/', { token: alice.access });
  t.same(
    general.body.results.map((m: any) => [m.content, m.grammarId]),
    [
      ['answer 2', null],
      ['general question', null],
    ],
  );

  const del = await request(server, 'DELETE', '/api/v1/chat/history/1', { token: alice.access });
  t.equal(del.status, 204);
  t.same((await request(server, 'GET', '/api/v1/chat/history/1/', { token: alice.access })).body.results, []);
  t.equal((await request(server, 'GET', '/api/v1/chat/history/1/', { token: bob.access })).body.results.length, 2, "bob's messages are untouched");
  t.equal((await request(server, 'GET', '/api/v1/chat/history/general/', { token: alice.access })).body.results.length, 2, 'other topics untouched');

  // The deleted conversation is gone from the model's context too, even on the still-open socket.
  a.send({ data: 'fresh start' });
  await turnFrames(a);
  const body = fake.requestsTo('/chat/completions').at(-1)!.body as any;
  t.same(body.messages.slice(1), [{ role: 'user', content: 'fresh start' }]);
});

t.test('the routes are in the OpenAPI document', async (t) => {
  const doc = (await request(server, 'GET', '/docs/json')).body;
  for (const path of ['/api/v1/grammar', '/api/v1/grammar/{id}/', '/api/v1/chat/history/{grammarId}/']) t.ok(doc.paths[path], path);
});
