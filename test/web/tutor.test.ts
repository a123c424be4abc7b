import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startTutor } from '../tutor/tutor-helpers.js';
import { browserMissing, launch, newPage, saveScreenshot, signIn } from './browser.js';
import { toneWav } from './media.js';

const skip = browserMissing() ?? false;

t.test('the tutor page: streamed answers, Stop, spoken answers, a recorded question', { skip }, async (t) => {
  const { server, fake } = await startTutor(t);
  const dir = join(tmpdir(), `inkwell-mic-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const wav = join(dir, 'question.wav');
  writeFileSync(wav, toneWav(3));
  const browser = await launch(t, ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`]);
  const { page } = await newPage(browser);
  await signIn(page, server, 'learner@example.com', '/tutor/general');
  const log = page.getByRole('log', { name: 'Conversation' });
  await page.getByRole('combobox', { name: 'Topic' }).waitFor();

  // A slow answer shows its first piece while the rest is still coming.
  fake.chat.chunks = ['We use the present perfect', ' for past actions', ' that matter now.'];
  fake.chat.chunkDelayMs = 700;
  await page.getByRole('textbox', { name: 'Question' }).fill('When do I use the present perfect?');
  await page.getByRole('button', { name: 'Ask' }).click();
  await log.getByText('We use the present perfect', { exact: false }).waitFor();
  t.equal(await log.locator('.message.assistant[aria-busy="true"]').count(), 1, 'the first piece is shown before the answer ends');
  await log.locator('.message.assistant[data-done]').first().waitFor();
  await log.getByText('We use the present perfect for past actions that matter now.').waitFor();

  // Stop ends a long answer before its end.
  fake.chat.chunks = ['This answer', ' goes on', ' and on', ' and on', ' and on', ' for a long time.'];
  fake.chat.chunkDelayMs = 1000;
  await page.getByRole('textbox', { name: 'Question' }).fill('Tell me everything.');
  await page.getByRole('button', { name: 'Ask' }).click();
  await log.getByText('This answer', { exact: false }).waitFor();
  await page.getByRole('button', { name: 'Stop' }).click();
  await log.locator('.message.assistant[data-done]').nth(1).waitFor();
  t.notMatch(await log.locator('.message.assistant').nth(1).textContent(), /for a long time/, 'the stopped answer did not finish');

  // Speak answers: the audio frames are played one after another.
  fake.chat.chunkDelayMs = 0;
  fake.chat.chunks = ['One sentence here.', ' Another sentence there.'];
  await page.getByRole('checkbox', { name: 'Speak answers' }).check();
  await page.getByRole('textbox', { name: 'Question' }).fill('Say something.');
  await page.getByRole('button', { name: 'Ask' }).click();
  await page.waitForFunction(() => Number((globalThis as any).document.querySelector('[role=log]')?.dataset.audioPlayed) >= 2, undefined, { timeout: 30_000 });
  t.ok((await fake.requestsTo('/audio/speech')).length >= 2, 'two sentences were spoken');
  await page.getByRole('checkbox', { name: 'Speak answers' }).uncheck();

  // A recorded question (Chromium's fake microphone) comes back as its transcription.
  fake.transcription.text = 'Is I have went correct?';
  await page.getByRole('button', { name: 'Record' }).click();
  await page.locator('button[aria-pressed="true"]', { hasText: 'Record' }).waitFor();
  await page.waitForTimeout(1500); // the length of the recording
  await page.getByRole('button', { name: 'Record' }).click();
  await log.getByText('Is I have went correct?').waitFor();
  const sent = (await fake.waitForRequest('/audio/transcriptions')) as any;
  t.ok(sent, 'the recording reached speech-to-text');
  await log.locator('.message.assistant[data-done]').nth(3).waitFor();

  // Thumbs are stored; the history comes back on a new visit.
  await log.getByRole('button', { name: 'Good answer' }).first().click();
  await log.locator('button[aria-label="Good answer"][aria-pressed="true"]').first().waitFor();
  await page.reload();
  await log.getByText('When do I use the present perfect?').waitFor();
  await log.locator('button[aria-label="Good answer"][aria-pressed="true"]').first().waitFor();
  await saveScreenshot(page, 'tutor.png');
  t.pass('history and feedback survive a reload');
});

t.test('sign-in, sign-out, and a session ended elsewhere', { skip }, async (t) => {
  const { server } = await startTutor(t);
  const browser = await launch(t);
  const { page } = await newPage(browser);
  await signIn(page, server, 'sam@example.com');
  await page.getByRole('button', { name: 'New room' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('textbox', { name: 'Email' }).waitFor();
  t.equal(await page.evaluate(() => (globalThis as any).localStorage.getItem('inkwell.session')), null, 'nothing of the login is kept');

  // Signed in on a board, the login is ended from elsewhere (logout over REST): back to sign-in.
  await signIn(page, server, 'sam@example.com');
  await page.getByRole('button', { name: 'New room' }).click();
  await page.locator('.connection[data-synced="true"]').waitFor();
  const refresh = await page.evaluate(() => JSON.parse((globalThis as any).localStorage.getItem('inkwell.session')).tokens.refresh as string);
  const res = await fetch(`${server.url}/api/v1/auth/logout/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh }) });
  t.equal(res.status, 204);
  await page.getByRole('textbox', { name: 'Email' }).waitFor({ timeout: 30_000 });
  t.match(await page.getByRole('status').first().textContent(), /session/i, 'the page says the session ended');
});
