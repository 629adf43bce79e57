/**
 * End-to-end: the customer's side of the desk in the chat widget, in real headless Chromium
 * against the real product (main.ts on an embedded PGlite database, the Slack stand-in as the
 * agents' workspace, the admin API for the agent's reply). The desk is off duty for the whole run
 * (working hours on another weekday), as on an evening or a weekend. Needs CHROMIUM_PATH.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { FakeSlack } from '../stand-ins/fake-slack.js';
import { imageBytes } from '../support/images.js';
import { describeInChromium, startWithChromium } from './support/chromium.js';
import { slackStandInEnv } from '../support/stand-in-env.js';

const KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge/', import.meta.url));
const ADMIN_TOKEN = 'e2e-admin-token-desk-0123456789';
const CHANNEL = 'CSUPPORT';
const WAIT = 20_000;
const TEST_TIMEOUT = 120_000;
const STORAGE_KEY = 'examplex-helpdesk';
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** A 4x4 red PNG. */
const PNG_4X4 = 'iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGO4YGAARwzEcQD4QxMBrujpGwAAAABJRU5ErkJggg==';

describeInChromium('screenshots, an e-mail for the answer and reply alerts in the widget, in headless Chromium', () => {
  let helpdesk: RunningHelpdesk | undefined;
  let slack: FakeSlack;
  let dataDir: string | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-e2e-desk-'));
    slack = await new FakeSlack().start();
    // Agents work one hour on the weekday three days from now: off duty now, whatever the time.
    const offDay = DAYS[(new Date().getUTCDay() + 3) % 7];
    [helpdesk, browser] = await startWithChromium(
      startHelpdesk({
        env: {
          PORT: '0',
          HOST: '127.0.0.1',
          DATA_DIR: dataDir,
          KNOWLEDGE_DIR,
          KB_WATCH: 'false',
          LOG_LEVEL: 'silent',
          ADMIN_TOKEN,
          HANDOFF_WORKING_HOURS: `${offDay} 09:00-10:00`,
          HANDOFF_TIMEZONE: 'UTC',
          ...slackStandInEnv(slack, CHANNEL),
        },
      }),
      (h) => h.stop(),
    );
    slack.appUrl = `${helpdesk?.url}/slack/events`;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await helpdesk?.stop();
    await slack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  afterEach(async () => {
    await context?.close();
    context = undefined;
    const errors = pageErrors;
    pageErrors = [];
    expect(errors, 'uncaught errors in the page').toEqual([]);
  });

  const url = () => (helpdesk as RunningHelpdesk).url;

  /**
   * Headless Chromium reports every page as visible (another tab in front or a minimised window
   * changes nothing there), so the page's visibility is set by the test: document.visibilityState
   * follows window.__testHidden, and a visibilitychange event is fired as a browser fires it.
   */
  async function openPage(locale: 'en-US' | 'zh-CN'): Promise<Page> {
    if (!browser) throw new Error('browser not launched');
    context = await browser.newContext({ locale, viewport: { width: 1024, height: 800 } });
    context.setDefaultTimeout(WAIT);
    await context.addInitScript(() => {
      Object.defineProperty(document, 'visibilityState', {
        configurable: true,
        get: () => ((window as { __testHidden?: boolean }).__testHidden ? 'hidden' : 'visible'),
      });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => Boolean((window as { __testHidden?: boolean }).__testHidden) });
    });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${url()}/`);
    await page.locator('[data-testid="message"][data-role="bot"][data-seq]').first().waitFor({ state: 'visible' });
    return page;
  }

  const setHidden = (page: Page, hidden: boolean) =>
    page.evaluate((value) => {
      (window as { __testHidden?: boolean }).__testHidden = value;
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);

  async function conversationId(page: Page): Promise<string> {
    const raw = await page.evaluate((key) => window.localStorage.getItem(key), STORAGE_KEY);
    return (JSON.parse(raw ?? '{}') as { id: string }).id;
  }

  async function escalate(page: Page, question: string): Promise<string> {
    await page.getByTestId('input').fill(question);
    await page.getByTestId('send').click();
    await page.locator('[data-testid="message"][data-role="customer"][data-seq]').first().waitFor();
    await page.getByTestId('human').click();
    await expect.poll(() => page.getByTestId('helpdesk-root').getAttribute('data-state'), { timeout: WAIT }).toBe('escalated');
    return conversationId(page);
  }

  /** What `look` finds, once it finds something. */
  const found = <T>(look: () => T | undefined): Promise<T> =>
    vi.waitFor(
      () => {
        const value = look();
        if (value === undefined) throw new Error('not there yet');
        return value;
      },
      { timeout: WAIT, interval: 50 },
    );

  async function admin(action: string, id: string, body: Record<string, unknown>): Promise<number> {
    const res = await fetch(`${url()}/api/admin/handoffs/${id}/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify(body),
    });
    return res.status;
  }

  it(
    'sends a screenshot picked in the widget, with a preview and a caption; it reaches the Slack thread and the admin files endpoint byte for byte, and the customer still sees it after a reload',
    async () => {
      const page = await openPage('en-US');
      const id = await escalate(page, 'My withdrawal failed with an error');
      const root = await found(() => slack.posted(CHANNEL).find((m) => !m.thread_ts && JSON.stringify(m.metadata ?? {}).includes(id))?.ts);
      // A picture a browser decodes (4x4 pixels), then bytes naming this run (after its end, as cameras and editors leave them).
      const bytes = Buffer.concat([Buffer.from(PNG_4X4, 'base64'), imageBytes('png', `e2e-${Date.now()}`)]);
      await page.getByTestId('file-input').setInputFiles({ name: 'withdrawal-error.png', mimeType: 'image/png', buffer: bytes });
      await page.getByTestId('attachment').waitFor({ state: 'visible' });
      expect(await page.getByTestId('attachment-name').innerText()).toContain('withdrawal-error.png');
      expect(await page.getByTestId('attachment-thumb').getAttribute('src')).toMatch(/^blob:/);
      await page.getByTestId('input').fill('This is the error');
      await page.getByTestId('send').click();
      const sent = page.locator('[data-testid="message"][data-role="customer"][data-seq]', { has: page.getByTestId('file') });
      await sent.waitFor({ state: 'visible' });
      expect(await sent.getByTestId('message-text').innerText()).toContain('This is the error');
      expect(await sent.getByTestId('message-text').innerText()).not.toContain('[photo]');
      await expect.poll(() => page.getByTestId('attachment').isHidden(), { timeout: WAIT }).toBe(true);
      const fileId = (await sent.getByTestId('file').getAttribute('data-file-id')) as string;

      // The agents' Slack thread gets the file itself.
      const shared = await found(() =>
        slack
          .thread(CHANNEL, root)
          .flatMap((m) => m.files ?? [])
          .find((f) => f.name === 'withdrawal-error.png'),
      );
      expect(slack.uploads.get(shared.id)?.data?.equals(bytes)).toBe(true);
      // And staff fetch it from the product.
      const res = await fetch(`${url()}/api/admin/conversations/${id}/files/${fileId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);

      // After a reload the page has no copy of its own: the widget fetches the picture back with the conversation's token.
      await page.reload();
      const again = page.locator(`[data-testid="file"][data-file-id="${fileId}"]`);
      const thumb = again.getByTestId('file-thumb');
      await thumb.waitFor({ state: 'visible' });
      expect(await thumb.getAttribute('src')).toMatch(/^blob:/);
      await expect.poll(() => thumb.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth), { timeout: WAIT }).toBe(4);
      // The picture drawn is the one sent: its red pixels.
      const pixel = await thumb.evaluate((img) => {
        const canvas = document.createElement('canvas');
        canvas.width = 4;
        canvas.height = 4;
        const context2d = canvas.getContext('2d') as CanvasRenderingContext2D;
        context2d.drawImage(img as HTMLImageElement, 0, 0);
        return Array.from(context2d.getImageData(1, 1, 1, 1).data);
      });
      expect(pixel).toEqual([0xd0, 0x30, 0x30, 255]);
    },
    TEST_TIMEOUT,
  );

  it('refuses, before uploading, a file that is not an image and one over 10 MB, politely and in Chinese', async () => {
    const page = await openPage('zh-CN');
    await page.getByTestId('file-input').setInputFiles({ name: 'shot.png', mimeType: 'image/png', buffer: Buffer.from('not really a png') });
    await expect.poll(() => page.getByTestId('error-text').innerText(), { timeout: WAIT }).toBe('这里只能发送图片：PNG、JPEG、WebP 或 GIF。');
    expect(await page.getByTestId('attachment').isHidden()).toBe(true);
    // 10 MB go to the browser through the DevTools protocol (as base64): slow on a loaded machine.
    await page
      .getByTestId('file-input')
      .setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: imageBytes('png', 'huge', 10 * 1024 * 1024 + 1) }, { timeout: 120_000 });
    await expect.poll(() => page.getByTestId('error-text').innerText(), { timeout: 60_000 }).toBe('图片超过 10 MB，请发送小一些的截图。');
    expect(await page.getByTestId('attachment').isHidden()).toBe(true);
  }, 240_000);

  it(
    'offers off hours to leave an e-mail address for the answer: a wrong one is refused, a good one recorded and shown to the agents',
    async () => {
      const page = await openPage('zh-CN');
      expect(await page.getByTestId('email-offer').isHidden()).toBe(true);
      const id = await escalate(page, '我的账户被冻结了，需要人工处理');
      const offer = page.getByTestId('email-offer');
      await offer.waitFor({ state: 'visible' });
      expect(await page.getByTestId('email-offer-text').innerText()).toContain('留下您的邮箱');
      await page.getByTestId('email-input').fill('not-an-address');
      await page.getByTestId('email-submit').click();
      await expect.poll(() => page.getByTestId('email-error').innerText(), { timeout: WAIT }).toBe('请输入有效的邮箱地址。');
      const email = `wang.${Date.now()}@mail.example`;
      await page.getByTestId('email-input').fill(email);
      await page.getByTestId('email-submit').click();
      await expect.poll(() => offer.isHidden(), { timeout: WAIT }).toBe(true);
      await page.locator('[data-testid="message"][data-role="bot"]', { hasText: email }).waitFor({ state: 'visible' });
      await expect
        .poll(() => slack.posted(CHANNEL).some((m) => m.text.includes('e-mail address for the answer') && m.text.includes(email)), { timeout: WAIT })
        .toBe(true);
      // The offer stays away after a reload: the conversation says an address was left.
      await page.reload();
      await page.locator('[data-testid="message"][data-role="bot"]', { hasText: email }).waitFor({ state: 'visible' });
      await expect.poll(() => page.getByTestId('helpdesk-root').getAttribute('data-state'), { timeout: WAIT }).toBe('escalated');
      await page.waitForTimeout(500);
      expect(await offer.isHidden()).toBe(true);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    },
    TEST_TIMEOUT,
  );

  it(
    'puts "(1) New reply" in the tab title when an agent replies while the tab is hidden, and the page title back once it is seen; the sound toggle is remembered',
    async () => {
      const page = await openPage('en-US');
      expect(await page.getByTestId('sound').getAttribute('aria-pressed')).toBe('false');
      await page.getByTestId('sound').click();
      expect(await page.getByTestId('sound').getAttribute('aria-pressed')).toBe('true');
      const id = await escalate(page, 'Someone logged into my account');
      const title = await page.title();
      await setHidden(page, true);
      await expect.poll(() => admin('claim', id, { agent: 'Alice', key: 'claim-title' }), { timeout: WAIT }).toBe(200);
      expect(await admin('reply', id, { agent: 'Alice', text: 'I am looking at your account now.', key: 'reply-title' })).toBe(200);
      await expect.poll(() => page.title(), { timeout: WAIT }).toBe('(1) New reply');
      expect(await admin('reply', id, { agent: 'Alice', text: 'Please check your e-mail for a reset link.', key: 'reply-title-2' })).toBe(200);
      await expect.poll(() => page.title(), { timeout: WAIT }).toBe('(2) New replies');
      await setHidden(page, false);
      await expect.poll(() => page.title(), { timeout: WAIT }).toBe(title);
      await page.locator('[data-testid="message"][data-role="agent"]', { hasText: 'reset link' }).waitFor({ state: 'visible' });
      // The choice is kept for the next visit.
      await page.reload();
      expect(await page.getByTestId('sound').getAttribute('aria-pressed')).toBe('true');
    },
    TEST_TIMEOUT,
  );
});
