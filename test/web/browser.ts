import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { webRoot } from '../../plugins/web-app.js';
import { codeFromLog } from '../helpers/http.js';
import { repoRoot } from '../helpers/process.js';
import type { TestServer } from '../helpers/server.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function browserMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `Chromium is not installed at ${CHROMIUM} (.ci/run installs the Debian package)`;
}

/** Builds the web app once when a checkout has not built it yet (npm install normally has). */
export function ensureBuilt(): void {
  if (existsSync(join(webRoot(), 'index.html'))) return;
  execFileSync('npm', ['run', 'build:web'], { stdio: 'inherit' });
}

/** One headless Chromium for a whole test file, closed in its teardown. */
export async function launch(t: Test, extraArgs: string[] = []): Promise<Browser> {
  ensureBuilt();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
      ...extraArgs,
    ],
    timeout: 60_000,
  });
  t.teardown(() => browser.close());
  return browser;
}

/** A fresh browser profile (its own storage) with generous timeouts for a loaded machine. */
export async function newPage(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  return { context, page };
}

/** Signs in through the page, reading the code from the server's mail log as a person would read the e-mail. */
export async function signIn(page: Page, server: TestServer, email: string, path = '/'): Promise<void> {
  await page.goto(server.url + path);
  const mark = server.logs.raw.length;
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByRole('button', { name: 'Send code' }).click();
  const code = await codeFromLog(server, email, mark);
  await page.getByRole('textbox', { name: 'Code' }).fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** The RGBA of the drawing surface at a board (world) point, with the default view. */
export async function pixelAt(page: Page, x: number, y: number): Promise<number[]> {
  return page.getByLabel('Whiteboard').evaluate((canvas: any, [px, py]) => [...canvas.getContext('2d')!.getImageData(px!, py!, 1, 1).data], [Math.round(x), Math.round(y)]);
}

/** A hash of every pixel of the drawing surface, to see that it changed. */
export async function surfaceHash(page: Page): Promise<string> {
  return page.getByLabel('Whiteboard').evaluate(async (canvas: any) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const digest = await crypto.subtle.digest('SHA-256', data);
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  });
}

/** Waits until the board shows this many drawings (after its canvas has caught up). */
export async function waitForDrawings(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => (globalThis as any).document.querySelector('canvas[aria-label="Whiteboard"]')?.getAttribute('data-drawings') === String(n), count, {
    timeout: 30_000,
  });
}

/** Drags the mouse across the board from one board point to another. */
export async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  const box = (await page.getByLabel('Whiteboard').boundingBox())!;
  await page.mouse.move(box.x + from.x, box.y + from.y);
  await page.mouse.down();
  await page.mouse.move(box.x + (from.x + to.x) / 2, box.y + (from.y + to.y) / 2, { steps: 4 });
  await page.mouse.move(box.x + to.x, box.y + to.y, { steps: 4 });
  await page.mouse.up();
}

/** Writes docs/screenshots/<name> when SCREENSHOTS=1 (`npm run screenshots`), not on every test run. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  if (process.env.SCREENSHOTS !== '1') return;
  await page.screenshot({ path: join(repoRoot, 'docs', 'screenshots', name) });
}
