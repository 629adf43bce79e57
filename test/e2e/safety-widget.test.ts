/**
 * End-to-end (headless Chromium, the real product on PGlite): the widget's anti-impersonation form
 * and the secret firewall as a customer sees them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { describeInChromium, launchChromium } from './support/chromium.js';

const KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge/', import.meta.url));
const WAIT = 15_000;

describeInChromium('safety in the chat widget (headless Chromium)', () => {
  let helpdesk: RunningHelpdesk | undefined;
  let browser: Browser | undefined;
  let dataDir: string | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-safety-e2e-'));
    helpdesk = await startHelpdesk({
      env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, KNOWLEDGE_DIR, KB_WATCH: 'false', LOG_LEVEL: 'silent' },
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await helpdesk?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  async function openPage(locale: 'en-US' | 'zh-CN'): Promise<Page> {
    if (!browser || !helpdesk) throw new Error('not started');
    const context = await browser.newContext({ locale });
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${helpdesk.url}/`);
    return page;
  }

  it('names the official channels and tells an official handle from a lookalike', async () => {
    const page = await openPage('en-US');
    await page.getByTestId('verify').click();
    await expect.poll(() => page.getByTestId('official-channels').textContent(), { timeout: WAIT }).toContain('@ExampleXSupportBot');
    await page.getByTestId('verify-input').fill('@ExampleX_Support');
    await page.getByTestId('verify-check').click();
    const result = page.getByTestId('verify-result');
    await expect.poll(() => result.textContent(), { timeout: WAIT }).toContain('NOT an official');
    expect(await result.getAttribute('data-official')).toBe('false');
    expect(await result.textContent()).toContain('@ExampleXSupportBot');
    await page.getByTestId('verify-input').fill('https://t.me/ExampleXSupportBot');
    await page.getByTestId('verify-check').click();
    await expect.poll(() => result.getAttribute('data-official'), { timeout: WAIT }).toBe('true');
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('answers the check in Chinese for a Chinese customer', async () => {
    const page = await openPage('zh-CN');
    await page.getByTestId('verify').click();
    await page.getByTestId('verify-input').fill('+86 400 123 4567');
    await page.getByTestId('verify-check').click();
    await expect.poll(() => page.getByTestId('verify-result').textContent(), { timeout: WAIT }).toContain('不是');
    expect(await page.getByTestId('verify-result').textContent()).toContain('没有电话客服');
    await page.context().close();
  }, 90_000);

  it('shows the customer their message with the recovery phrase removed and the warning', async () => {
    const page = await openPage('en-US');
    const phrase = 'abandon ability able about above absent absorb abstract absurd abuse access accident';
    await page.getByTestId('input').fill(`support asked for my phrase: ${phrase}`);
    await page.getByTestId('send').click();
    const mine = page.locator('[data-testid="message"][data-role="customer"][data-seq]');
    await expect.poll(() => mine.first().textContent(), { timeout: WAIT }).toContain('[recovery phrase removed]');
    expect(await mine.first().textContent()).not.toContain('absurd');
    await expect
      .poll(() => page.locator('[data-testid="message"][data-role="bot"]').allTextContents(), { timeout: WAIT })
      .toEqual(expect.arrayContaining([expect.stringContaining('anyone who asks for it is a scammer')]));
    await page.context().close();
  }, 90_000);

  it('warns a customer of the Chinese widget in Chinese and hands a scam report to a human at once, saying why in Chinese', async () => {
    const page = await openPage('zh-CN');
    const phrase = 'abandon ability able about above absent absorb abstract absurd abuse access accident';
    const mine = page.locator('[data-testid="message"][data-role="customer"][data-seq]');
    const others = page.locator('[data-testid="message"]:not([data-role="customer"])');
    // Only the phrase (English words): the warning still comes in the conversation's language.
    await page.getByTestId('input').fill(phrase);
    await page.getByTestId('send').click();
    await expect.poll(() => mine.first().textContent(), { timeout: WAIT }).toContain('[recovery phrase removed]');
    await expect.poll(() => others.allTextContents(), { timeout: WAIT }).toEqual(expect.arrayContaining([expect.stringContaining('任何索要它的人都是骗子')]));
    // Then the scam report: a human at once, urgent, the reason said in Chinese.
    await page.getByTestId('input').fill(`客服让我提供助记词：${phrase}`);
    await page.getByTestId('send').click();
    await expect.poll(() => mine.count(), { timeout: WAIT }).toBe(2);
    expect((await mine.allTextContents()).join('\n')).not.toContain('absurd');
    await expect.poll(() => others.allTextContents(), { timeout: WAIT }).toEqual(expect.arrayContaining([expect.stringContaining('这看起来是针对您的诈骗')]));
    expect((await others.allTextContents()).join('\n')).not.toMatch(/anyone who asks for it|couldn't find a reliable answer/);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 90_000);
});
