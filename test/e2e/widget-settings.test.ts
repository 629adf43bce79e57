/**
 * End-to-end (headless Chromium, the real product on PGlite): the widget shows the exchange's name
 * and stops at the message limit that the product is configured with (EXCHANGE_NAME, MAX_MESSAGE_CHARS).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { type HostPage, startHostPage } from './support/host-page.js';
import { describeInChromium, launchChromium } from './support/chromium.js';

const KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge/', import.meta.url));
const WAIT = 15_000;
const NAME = 'Acme & <Co>';
const LIMIT = 200;

describeInChromium("the widget follows the product's settings (headless Chromium)", () => {
  let helpdesk: RunningHelpdesk | undefined;
  let browser: Browser | undefined;
  let dataDir: string | undefined;
  let host: HostPage | undefined;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-widget-settings-'));
    helpdesk = await startHelpdesk({
      env: {
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        KNOWLEDGE_DIR,
        KB_WATCH: 'false',
        LOG_LEVEL: 'silent',
        EXCHANGE_NAME: NAME,
        MAX_MESSAGE_CHARS: String(LIMIT),
      },
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await helpdesk?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  afterEach(() => {
    const errors = pageErrors;
    pageErrors = [];
    expect(errors, 'uncaught errors in the page').toEqual([]);
  });

  async function openPage(locale: 'en-US' | 'zh-CN', url: string): Promise<Page> {
    if (!browser) throw new Error('not started');
    const context = await browser.newContext({ locale });
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
    return page;
  }

  it("names the configured exchange in the page, the header and the assistant's messages, in both languages", async () => {
    if (!helpdesk) throw new Error('not started');
    const served = await (await fetch(`${helpdesk.url}/`)).text();
    expect(served).toContain('<title>Acme &#38; &#60;Co&#62; Support · Acme &#38; &#60;Co&#62; 客服</title>');
    expect(served).not.toContain('ExampleX');

    const page = await openPage('en-US', `${helpdesk.url}/`);
    const greeting = page.locator('[data-testid="message"][data-role="bot"]').first();
    await greeting.waitFor({ state: 'visible' });
    expect(await page.locator('.exh-title').textContent()).toBe(`${NAME} Support`);
    expect(await page.title()).toBe(`${NAME} Support`);
    expect(await greeting.locator('.exh-author').textContent()).toBe(`${NAME} Assistant`);
    expect(await greeting.getByTestId('message-text').textContent()).toContain(NAME);

    await page.getByTestId('lang-toggle').click();
    await expect.poll(() => page.locator('.exh-title').textContent(), { timeout: WAIT }).toBe(`${NAME} 客服`);
    expect(await greeting.locator('.exh-author').textContent()).toBe(`${NAME} 智能助手`);
    await page.context().close();
  }, 90_000);

  it('stops the composer at the configured message limit and counts up to it', async () => {
    if (!helpdesk) throw new Error('not started');
    const page = await openPage('en-US', `${helpdesk.url}/`);
    const input = page.getByTestId('input');
    const counter = page.getByTestId('counter');
    expect(await input.getAttribute('maxlength')).toBe(String(LIMIT));

    await input.fill('a'.repeat(170));
    expect(await counter.isHidden()).toBe(true);
    await input.fill('a'.repeat(180));
    await expect.poll(() => counter.textContent(), { timeout: WAIT }).toBe(`180 / ${LIMIT}`);
    expect(await counter.getAttribute('class')).not.toContain('exh-counter-max');

    await input.fill('');
    await input.pressSequentially('b'.repeat(LIMIT + 10));
    expect((await input.inputValue()).length).toBe(LIMIT);
    await expect.poll(() => counter.textContent(), { timeout: WAIT }).toBe(`${LIMIT} / ${LIMIT}`);
    expect(await counter.getAttribute('class')).toContain('exh-counter-max');
    expect(await page.getByTestId('send').isEnabled()).toBe(true);
    await page.context().close();
  }, 90_000);

  it("labels the embedded launcher with the configured exchange's name", async () => {
    if (!helpdesk) throw new Error('not started');
    host = await startHostPage(`<script src="${helpdesk.url}/widget.js" async></script>`);
    const page = await openPage('zh-CN', host.url);
    const launcher = page.getByTestId('launcher');
    await launcher.waitFor({ state: 'visible' });
    expect(await launcher.getAttribute('aria-label')).toBe(`打开 ${NAME} 在线客服`);
    await launcher.click();
    await page.getByTestId('panel').waitFor({ state: 'visible' });
    expect(await page.locator('.exh-title').textContent()).toBe(`${NAME} 客服`);
    await page.context().close();
  }, 90_000);
});
