/**
 * End-to-end: the knowledge-base console in real headless Chromium against the real product
 * (in-process, embedded PGlite, the repository's knowledge base, offline answers): an editor
 * signs in, edits an entry and sees the preview, publishes, hit-tests it, turns a gap cluster
 * into an entry, and a customer then gets the new answer in the widget. Screenshots at 1280 and
 * 390 px are written to test-results/console/ (not committed).
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { describeInChromium, startWithChromium } from './support/chromium.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge/', import.meta.url));
const SHOTS = join(ROOT, 'test-results', 'console');
const WAIT = 20_000;
const EDITOR = { user: 'editor', password: 'editor-password-1' };
/** Waits for a value in the page, as long as a step may take on a loaded machine. */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: WAIT, interval: 100 });
const GAP_QUESTIONS = [
  'Can I pay my electricity bill with a Lightning gift voucher?',
  'can i pay electricity bills with the lightning gift voucher',
  'Is a Lightning gift voucher accepted for electricity bills?',
];

/** The account command, as an operator runs it before starting the product. */
function addAccount(dataDir: string) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/admin-user.ts', 'add', EDITOR.user, '--role', 'kb_editor', '--password', EDITOR.password],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describeInChromium('knowledge-base console in headless Chromium', () => {
  let helpdesk: RunningHelpdesk | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let dataDir: string | undefined;
  let knowledgeDir: string | undefined;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-console-e2e-'));
    knowledgeDir = await mkdtemp(join(tmpdir(), 'helpdesk-console-kb-'));
    await cp(KNOWLEDGE_DIR, knowledgeDir, { recursive: true });
    await mkdir(SHOTS, { recursive: true });
    const added = await addAccount(dataDir);
    expect(added.code, added.output).toBe(0);
    [helpdesk, browser] = await startWithChromium(
      startHelpdesk({ env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, KNOWLEDGE_DIR: knowledgeDir, KB_WATCH: 'false', LOG_LEVEL: 'silent' } }),
      (h) => h.stop(),
    );
    // Customers asked something the knowledge base does not cover: the gap report's material.
    for (const text of GAP_QUESTIONS) {
      const base = helpdesk?.url ?? '';
      const res = await fetch(`${base}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"language":"en"}' });
      const { id, token } = (await res.json()) as { id: string; token: string };
      const reply = await fetch(`${base}/api/conversations/${id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ text }),
      });
      expect(reply.ok).toBe(true);
    }
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await helpdesk?.stop();
    for (const dir of [dataDir, knowledgeDir]) if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  afterEach(async () => {
    await context?.close();
    context = undefined;
    const errors = pageErrors;
    pageErrors = [];
    expect(errors, 'uncaught errors in the page').toEqual([]);
  });

  async function openPage(locale: 'en-US' | 'zh-CN', width: number): Promise<Page> {
    if (!browser) throw new Error('browser not launched');
    context = await browser.newContext({ locale, viewport: { width, height: width > 500 ? 900 : 844 } });
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // An injected script that ran would set this.
    await page.addInitScript(() => Object.defineProperty(window, '__injected', { value: false, writable: true }));
    return page;
  }

  const url = (path: string) => `${helpdesk?.url ?? ''}${path}`;

  /** Signs in with the keyboard only: type, Tab, type, Enter. */
  async function signIn(page: Page): Promise<void> {
    await page.goto(url('/admin'));
    await page.getByTestId('login-form').waitFor();
    await page.keyboard.type(EDITOR.user);
    await page.keyboard.press('Tab');
    await page.keyboard.type(EDITOR.password);
    await page.keyboard.press('Enter');
    await page.getByTestId('signed-in').waitFor();
  }

  it('lets an editor sign in, edit an entry with a live preview, publish it and hit-test it (English, 1280 px)', async () => {
    const page = await openPage('en-US', 1280);
    await page.goto(url('/admin'));
    await page.getByTestId('login-form').waitFor();
    await page.screenshot({ path: join(SHOTS, 'login-en-1280.png') });
    // A wrong password: the message is shown, the form stays.
    await page.fill('#login-user', EDITOR.user);
    await page.fill('#login-password', 'wrong-password-1');
    await page.keyboard.press('Enter');
    await poll(() => page.getByTestId('login-error').innerText()).toContain('Wrong user name or password');
    await page.fill('#login-password', EDITOR.password);
    await page.keyboard.press('Enter');
    await poll(() => page.getByTestId('signed-in').innerText()).toContain('editor');
    await page.getByTestId('entry-row').first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'entries-en-1280.png'), fullPage: true });

    // Search narrows the list.
    const all = await page.getByTestId('entry-row').count();
    await page.getByTestId('entry-search').fill('2FA');
    await page.keyboard.press('Enter');
    await poll(() => page.getByTestId('entry-row').count()).toBeLessThan(all);
    await page.locator('[data-entry-id="2fa-lost-en"] a').click();

    const side = page.getByTestId('side-en');
    const body = side.getByTestId('field-body');
    await body.waitFor();
    // Script injected into the answer: refused inline on publish, and inert in the preview.
    await body.fill('Hello <img src=x onerror="window.__injected=true"> <script>window.__injected=true</script>');
    await side.getByTestId('publish').click();
    await poll(() => side.getByTestId('issue').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringMatching(/HTML/i)]));
    expect(await page.evaluate(() => (window as unknown as { __injected: boolean }).__injected)).toBe(false);

    const answer = 'To reset 2FA without your old device, open **Security → Reset 2FA** and verify with a selfie. It takes up to 24 hours.';
    await body.fill(answer);
    const preview = side.getByTestId('preview');
    await poll(() => preview.locator('[data-testid="chat-preview"]').evaluate((host) => host.shadowRoot?.textContent ?? '')).toContain('verify with a selfie');
    // Bold is rendered as bold, not as asterisks.
    expect(await preview.locator('[data-testid="chat-preview"]').evaluate((host) => host.shadowRoot?.querySelector('strong')?.textContent ?? '')).toBe(
      'Security → Reset 2FA',
    );
    await page.screenshot({ path: join(SHOTS, 'editor-en-1280.png'), fullPage: true });
    // Ctrl+Enter publishes from the form.
    await body.focus();
    await page.keyboard.press('Control+Enter');
    await poll(() => page.getByTestId('toast').innerText()).toMatch(/Published/i);

    await page.goto(url('/admin#/hit-test'));
    const input = page.getByTestId('hit-input');
    await input.fill('How do I reset 2FA without my old phone?');
    await input.press('Control+Enter');
    const result = page.getByTestId('hit-result').first();
    await result.waitFor();
    expect(await result.getAttribute('data-decision')).toBe('answer');
    expect(await result.getByTestId('hit-row').first().getAttribute('data-entry-id')).toBe('2fa-lost-en');
    await poll(() => result.locator('[data-testid="chat-preview"]').evaluate((host) => host.shadowRoot?.textContent ?? '')).toContain('verify with a selfie');
    await page.screenshot({ path: join(SHOTS, 'hit-test-en-1280.png'), fullPage: true });

    await page.goto(url('/admin#/history/2fa-lost-en'));
    await page.getByTestId('revision').first().waitFor();
    expect(await page.getByTestId('revision').count()).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: join(SHOTS, 'history-en-1280.png'), fullPage: true });
  }, 180_000);

  it('turns a gap cluster into an entry, and a customer then gets its answer in the widget', async () => {
    const page = await openPage('en-US', 1280);
    await signIn(page);
    await page.goto(url('/admin#/gaps'));
    const cluster = page
      .getByTestId('gap-cluster')
      .filter({ hasText: /voucher/i })
      .first();
    await cluster.waitFor();
    await page.screenshot({ path: join(SHOTS, 'gaps-en-1280.png'), fullPage: true });
    await cluster.getByTestId('gap-create').click();

    const side = page.getByTestId('side-en');
    await side.getByTestId('field-id').waitFor();
    expect(await side.getByTestId('field-questions').inputValue()).toMatch(/voucher/i);
    await side.getByTestId('field-id').fill('lightning-voucher-en');
    await side.getByTestId('field-title').fill('Can I pay bills with a Lightning gift voucher?');
    await side
      .getByTestId('field-body')
      .fill('Lightning gift vouchers can only be redeemed for crypto on ExampleX. They cannot pay electricity or other bills.');
    await side.getByTestId('publish').click();
    await poll(() => page.getByTestId('toast').innerText()).toMatch(/Published/i);

    // The customer, in the widget on the product's page.
    const customer = await openPage('en-US', 1280);
    await customer.goto(url('/'));
    const launcher = customer.getByTestId('launcher');
    if (await launcher.isVisible().catch(() => false)) await launcher.click();
    await customer.getByTestId('input').fill(GAP_QUESTIONS[0] as string);
    await customer.getByTestId('send').click();
    const reply = customer.locator('[data-testid="message"][data-role="bot"][data-seq]').filter({ hasText: 'redeemed for crypto' });
    await reply.waitFor({ timeout: 30_000 });
    expect(await reply.locator('[data-testid="citation"]').first().getAttribute('data-citation-id')).toBe('lightning-voucher-en');

    // The same cluster's questions added as phrasings of an existing entry, saved as a draft.
    await page.goto(url('/admin#/gaps'));
    const again = page
      .getByTestId('gap-cluster')
      .filter({ hasText: /voucher/i })
      .first();
    await again.getByTestId('gap-add').click();
    await page.getByTestId('gap-entry-picker').selectOption('deposit-fiat-card-en');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const target = page.getByTestId('side-en');
    await poll(() => target.getByTestId('field-questions').inputValue()).toMatch(/voucher/i);
    await target.getByTestId('field-body').focus();
    await page.keyboard.press('Control+s');
    await poll(() => page.getByTestId('toast').innerText()).toMatch(/Draft saved/i);
  }, 180_000);

  it('works in Chinese on a 390 px phone: navigation, entry list, editor and gap report', async () => {
    const page = await openPage('zh-CN', 390);
    await page.goto(url('/admin'));
    await page.getByTestId('login-form').waitFor();
    expect(await page.locator('h1').innerText()).toContain('登录');
    await page.screenshot({ path: join(SHOTS, 'login-zh-390.png'), fullPage: true });
    await signIn(page);
    await poll(() => page.locator('nav').innerText()).toContain('知识库');
    await page.getByTestId('entry-row').first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'entries-zh-390.png'), fullPage: true });
    await page.goto(url('/admin#/entries/2fa-lost-zh'));
    await page.getByTestId('side-zh').getByTestId('field-body').waitFor();
    // Chinese and English side by side (stacked on a phone), each with its translation state.
    expect(await page.getByTestId('translation-state').count()).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: join(SHOTS, 'editor-zh-390.png'), fullPage: true });
    await page.goto(url('/admin#/gaps'));
    await page.getByTestId('gaps-summary').waitFor();
    await page.screenshot({ path: join(SHOTS, 'gaps-zh-390.png'), fullPage: true });
    // Nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // Switching the language on the page.
    await page.getByTestId('ui-language').selectOption('en');
    await poll(() => page.locator('nav').innerText()).toContain('Knowledge base');
  }, 180_000);
});
