/**
 * End-to-end: the support lead's dashboard in real headless Chromium against the real product
 * (in-process, embedded PGlite). The scripted history of test/support/stats-history.ts is written
 * through the conversation store before the product starts (content sealed at rest under the
 * product's master key); a lead signs in and the dashboard shows its figures, drawn and tabled,
 * filtered by channel, in English and Chinese, with the CSV export. Screenshots go to
 * test-results/dashboard/ (not committed).
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateMasterKeyText, loadContentKeys } from '../../src/adapters/postgres/db/content-keys.js';
import { openDatabase } from '../../src/adapters/postgres/db/database.js';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { writeHistory } from '../support/stats-history.js';
import { describeInChromium, startWithChromium } from './support/chromium.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge/', import.meta.url));
const SHOTS = join(ROOT, 'test-results', 'dashboard');
const WAIT = 20_000;
const LEAD = { user: 'lena', password: 'lena-password-12' };
const RANGE = '#/dashboard?from=2026-03-02&to=2026-03-04';
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: WAIT, interval: 100 });

function addLead(env: Record<string, string>) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin-user.ts', 'add', LEAD.user, '--role', 'lead', '--password', LEAD.password], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** A table's cells, row by row, as the page shows them. */
const cells = (table: Locator) =>
  table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent?.trim() ?? '')));

/** Whether a chart's canvas has been drawn on (it differs from a blank canvas of its size). */
const drawn = (canvas: Locator) =>
  canvas.evaluate((el) => {
    const c = el as HTMLCanvasElement;
    const blank = document.createElement('canvas');
    blank.width = c.width;
    blank.height = c.height;
    return c.width > 0 && c.height > 0 && c.toDataURL() !== blank.toDataURL();
  });

describeInChromium('the support lead dashboard in headless Chromium', () => {
  let helpdesk: RunningHelpdesk | undefined;
  let browser: Browser | undefined;
  let dataDir: string | undefined;
  let knowledgeDir: string | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-dashboard-e2e-'));
    knowledgeDir = await mkdtemp(join(tmpdir(), 'helpdesk-dashboard-kb-'));
    await cp(KNOWLEDGE_DIR, knowledgeDir, { recursive: true });
    await mkdir(SHOTS, { recursive: true });
    const masterKey = generateMasterKeyText(1);
    const database = await openDatabase({ dataDir, contentKeys: loadContentKeys({ text: masterKey }).keys });
    try {
      await database.migrate();
      await writeHistory(database);
    } finally {
      await database.close();
    }
    const env = { DATA_DIR: dataDir, CONTENT_MASTER_KEY: masterKey };
    const added = await addLead(env);
    expect(added.code, added.output).toBe(0);
    [helpdesk, browser] = await startWithChromium(
      startHelpdesk({ env: { ...env, PORT: '0', HOST: '127.0.0.1', KNOWLEDGE_DIR: knowledgeDir, KB_WATCH: 'false', LOG_LEVEL: 'silent' } }),
      (h) => h.stop(),
    );
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await helpdesk?.stop();
    for (const dir of [dataDir, knowledgeDir]) if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  async function signedIn(locale: 'en-US' | 'zh-CN'): Promise<Page> {
    if (!browser) throw new Error('browser not launched');
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${helpdesk?.url ?? ''}/admin`);
    await page.fill('#login-user', LEAD.user);
    await page.fill('#login-password', LEAD.password);
    await page.keyboard.press('Enter');
    await page.getByTestId('signed-in').waitFor();
    return page;
  }

  it('shows a lead the figures of the scripted history, drawn and tabled, filtered by channel, with the CSV export', async () => {
    const page = await signedIn('en-US');
    // The lead's navigation leads to the dashboard.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByTestId('dash-conversations').waitFor();
    await page.goto(`${helpdesk?.url ?? ''}/admin${RANGE}`);
    await poll(() => page.getByTestId('dash-conversations-detail').innerText()).toBe('2026-03-02 – 2026-03-04');

    expect(await page.getByTestId('dash-conversations-value').innerText()).toBe('7');
    expect(await page.getByTestId('dash-deflection-value').innerText()).toBe('28.6%');
    expect(await page.getByTestId('dash-deflection-detail').innerText()).toBe('2 of 7 without a human');
    expect(await page.getByTestId('dash-escalations-value').innerText()).toBe('5');
    expect(await page.getByTestId('dash-rating-value').innerText()).toBe('4');
    expect(await page.getByTestId('dash-rating-detail').innerText()).toBe('3 ratings');
    expect(await page.getByTestId('dash-first-reply-detail').innerText()).toBe('p50 3 min · p90 8.2 min · 4 measured');
    expect(await page.getByTestId('dash-resolution-detail').innerText()).toBe('p50 20 min · p90 28 min · 3 measured');

    expect(await cells(page.getByTestId('dash-per-day'))).toEqual([
      ['2026-03-02', 'Telegram', 'Chinese', '1'],
      ['2026-03-02', 'Web', 'English', '2'],
      ['2026-03-03', 'Telegram', 'English', '2'],
      ['2026-03-03', 'Web', 'Chinese', '1'],
      ['2026-03-04', 'Web', 'English', '2'],
    ]);
    expect(await cells(page.getByTestId('dash-reasons'))).toEqual([
      ['Low confidence', '2'],
      ['Asked for a human', '1'],
      ['Not satisfied', '1'],
      ['Scam report', '1'],
    ]);
    expect(await cells(page.getByTestId('dash-priorities'))).toEqual([
      ['Normal', '4'],
      ['Urgent', '1'],
    ]);
    expect(await cells(page.getByTestId('dash-ratings'))).toEqual([
      ['1 ★', '0'],
      ['2 ★', '0'],
      ['3 ★', '1'],
      ['4 ★', '1'],
      ['5 ★', '1'],
    ]);
    expect(await cells(page.getByTestId('dash-rating-trend'))).toEqual([
      ['2026-03-02', '1', '5'],
      ['2026-03-03', '1', '3'],
      ['2026-03-04', '1', '4'],
    ]);
    expect(await cells(page.getByTestId('dash-agents'))).toEqual([
      ['Alice', '2', '7 min', '9.4 min', '1', '30 min', '30 min', '1', '5'],
      ['Bob', '2', '1.5 min', '1.9 min', '2', '15 min', '19 min', '2', '3.5'],
    ]);
    expect(await cells(page.getByTestId('dash-cited'))).toEqual([
      ['faq-kyc', '2'],
      ['faq-withdrawal', '2'],
      ['faq-fees', '1'],
    ]);
    for (const chart of ['dash-per-day-chart', 'dash-reasons-chart', 'dash-ratings-chart', 'dash-rating-trend-chart']) {
      await poll(() => drawn(page.getByTestId(chart))).toBe(true);
    }
    await page.getByTestId('dash-gaps-link').waitFor();
    await page.screenshot({ path: join(SHOTS, 'dashboard-en-1280.png'), fullPage: true });

    // The CSV export carries the same figures for the same filters.
    const href = (await page.getByTestId('dash-csv').getAttribute('href')) ?? '';
    expect(href).toBe('/api/admin/stats?from=2026-03-02&to=2026-03-04&format=csv');
    const csv = await page.evaluate(async (path) => (await fetch(path, { credentials: 'same-origin' })).text(), href);
    expect(csv).toContain('conversations,,,,,7');
    expect(csv).toContain('ratings,,,,5,1');

    // The channel filter: Telegram only.
    await page.getByTestId('dash-channel').selectOption('telegram');
    await page.getByRole('button', { name: 'Show' }).click();
    await poll(() => page.getByTestId('dash-conversations-value').innerText()).toBe('2');
    expect(page.url()).toContain('channel=telegram');
    expect(await cells(page.getByTestId('dash-reasons'))).toEqual([['Scam report', '1']]);
    expect(await page.getByTestId('dash-csv').getAttribute('href')).toContain('channel=telegram');
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('shows the dashboard in Chinese', async () => {
    const page = await signedIn('zh-CN');
    await page.goto(`${helpdesk?.url ?? ''}/admin${RANGE}`);
    await poll(() => page.locator('h1').innerText()).toBe('数据看板');
    expect(await page.getByTestId('dash-deflection-detail').innerText()).toBe('7 个中有 2 个无需人工');
    expect(await page.getByTestId('dash-first-reply-detail').innerText()).toBe('p50 3 分钟 · p90 8.2 分钟 · 共 4 次');
    expect((await cells(page.getByTestId('dash-reasons')))[0]).toEqual(['把握不足', '2']);
    await page.screenshot({ path: join(SHOTS, 'dashboard-zh-1280.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 120_000);
});
