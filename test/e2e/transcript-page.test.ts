/**
 * End-to-end: the /verify-transcript page in real headless Chromium, served by the real web app
 * (turn log on an embedded PGlite database), checking bundles the app hands out and altered ones.
 *
 * Needs a Chromium executable (CHROMIUM_PATH, default /usr/bin/chromium). Without one the suite is
 * skipped locally (with a warning) and fails in CI.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createPgTurnLog } from '../../src/adapters/postgres/turn-log/pg-turn-log.js';
import { createWebApp } from '../../src/adapters/web/web-app.js';
import { generateSignerKey, parseSignerKey, type TranscriptBundle } from '../../src/core/index.js';
import { createTestDatabase } from '../support/databases.js';
import { wireHelpdesk } from '../support/helpdesk.js';
import { describeInChromium, startWithChromium } from './support/chromium.js';

const ORIGIN = 'exchange.example/turn-log';
const WAIT = 15_000;
const V1_FIXTURE = fileURLToPath(new URL('../fixtures/transcript-v1.json', import.meta.url));

describeInChromium('the transcript verify page in headless Chromium', () => {
  let drop: (() => Promise<void>) | undefined;
  let server: ReturnType<typeof serve> | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let url = '';
  let pageErrors: string[] = [];
  const signer = parseSignerKey(generateSignerKey(ORIGIN));
  let app: ReturnType<typeof createWebApp>;
  let rich: { id: string; token: string; erasureIdx: number; bundle: TranscriptBundle };

  const request = (path: string, init: { method?: string; token?: string; body?: unknown } = {}) =>
    app.request(path, {
      method: init.method ?? 'GET',
      headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  beforeAll(async () => {
    [, browser] = await startWithChromium(
      (async () => {
        const test = await createTestDatabase('pglite');
        drop = test.drop;
        const turnLog = createPgTurnLog({ database: test.database, origin: ORIGIN, signer });
        const { helpdesk, conversations } = wireHelpdesk(test.database, { turnLog: () => turnLog });
        app = createWebApp({ helpdesk, bodyLimitBytes: 65_536, health: async () => ({}), onError: () => undefined });
        server = await new Promise<ReturnType<typeof serve>>((resolve) => {
          const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
        });
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        // A conversation with erased turns (a message the bot clarifies), a later message and its
        // answer, an internal note and an agent reply.
        const c = (await (await request('/api/conversations', { method: 'POST', body: { language: 'zh' } })).json()) as { id: string; token: string };
        await request(`/api/conversations/${c.id}/messages`, { method: 'POST', token: c.token, body: { text: '我的地址是 0xdeadbeef，请删除我的资料' } });
        const erasure = await turnLog.erase(c.id);
        await request(`/api/conversations/${c.id}/messages`, { method: 'POST', token: c.token, body: { text: '我的提现一直没有到账' } });
        await conversations.append(c.id, [
          { role: 'agent', kind: 'note', text: 'internal: chain congestion', language: 'zh', data: { internal: true } },
          { role: 'agent', kind: 'message', text: '我们正在处理，请稍候。We are on it.', language: 'zh' },
        ]);
        const bundle = (await (await request(`/api/conversations/${c.id}/transcript`, { token: c.token })).json()) as TranscriptBundle;
        rich = { ...c, erasureIdx: erasure.entryIdx, bundle };
      })(),
    );
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await drop?.();
  }, 60_000);

  afterEach(async () => {
    await context?.close();
    context = undefined;
    const errors = pageErrors;
    pageErrors = [];
    expect(errors, 'uncaught errors in the page').toEqual([]);
  });

  /** The page in a fresh context with the given browser language, its key field filled from the site. */
  async function openPage(locale: 'en-US' | 'zh-CN'): Promise<Page> {
    if (!browser) throw new Error('browser not launched');
    context = await browser.newContext({ locale });
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${url}/verify-transcript`);
    await expect.poll(() => page.getByTestId('key').inputValue(), { timeout: WAIT }).toBe(signer.verifierKey);
    return page;
  }

  async function verifyFile(page: Page, content: unknown, key?: string): Promise<void> {
    if (key !== undefined) await page.getByTestId('key').fill(key);
    await page.getByTestId('file').setInputFiles({ name: 'transcript.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(content)) });
    await page.getByTestId('verify').click();
    await page.getByTestId('verdict').waitFor({ state: 'visible' });
  }

  const turns = (page: Page) => page.getByTestId('turns').locator('li');

  it('shows a genuine transcript as verified in the browser language, with its turns (erased ones with their erasure entry), the checkpoint and the key; the switch changes the language', async () => {
    const page = await openPage('zh-CN');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await page.locator('h1').innerText()).toBe('验证聊天记录');
    await verifyFile(page, rich.bundle);
    expect(await page.getByTestId('verdict').innerText()).toMatch(/^✔ 验证通过：共 7 条/);
    const statuses = await turns(page).evaluateAll((items) => items.map((i) => i.getAttribute('data-status')));
    expect(statuses).toEqual(['erased', 'erased', 'erased', 'event', 'verified', 'verified', 'withheld', 'verified']);
    const texts = await turns(page).locator('.body').allInnerTexts();
    expect(texts[0]).toContain(`【已应客户要求删除：日志记录 #${rich.erasureIdx}，customer_request`);
    expect(texts[3]).toBe('删除第 1–3 条的内容（customer_request）');
    expect(texts[4]).toBe('我的提现一直没有到账');
    expect(texts[6]).toBe('【客服内部备注：已记录并可证明，内容不公开】');
    expect(texts.join('\n')).not.toMatch(/0xdeadbeef|chain congestion/);
    const checkpoint = await page.getByTestId('section-checkpoint').innerText();
    expect(checkpoint).toContain(ORIGIN);
    expect(checkpoint).toMatch(/树大小\s+\d+ 条记录/);
    expect(checkpoint).toMatch(/根哈希\s+[A-Za-z0-9+/]{43}=/);
    expect(checkpoint).toContain(`有效，签名公钥 ${ORIGIN} ${signer.keyId.toString('hex')}`);
    const key = await page.getByTestId('section-key').innerText();
    expect(key).toContain(signer.verifierKey);
    expect(key).toContain('请与交易所公布的公钥核对');

    await page.getByTestId('lang-en').click();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.locator('h1').innerText()).toBe('Verify a transcript');
    expect(await page.getByTestId('verdict').innerText()).toMatch(/^✔ VERIFIED: 7 turns/);
    expect(await turns(page).nth(0).locator('.body').innerText()).toContain(
      `[erased at the customer's request: log entry #${rich.erasureIdx}, customer_request`,
    );
    expect(await page.getByTestId('section-checkpoint').innerText()).toMatch(/signature\s+valid, by key/);
  });

  it('follows an English browser and shows the checks in English', async () => {
    const page = await openPage('en-US');
    expect(await page.locator('h1').innerText()).toBe('Verify a transcript');
    expect(await page.getByTestId('lang-en').getAttribute('aria-pressed')).toBe('true');
    await verifyFile(page, rich.bundle);
    expect(await page.getByTestId('verdict').innerText()).toMatch(/^✔ VERIFIED: 7 turns/);
  });

  it('rejects a transcript whose readable text was altered (an older file) or added (a current one), naming the difference and never showing the altered words as a turn', async () => {
    const page = await openPage('en-US');
    const v1 = readFileSync(V1_FIXTURE, 'utf8');
    const fixture = JSON.parse(v1) as { publicKey: string };
    // Intact, with its own published key: verified, its readable text matching the verified entries.
    await verifyFile(page, JSON.parse(v1), fixture.publicKey);
    expect(await page.getByTestId('verdict').innerText()).toMatch(/^✔ VERIFIED: 6 turns/);
    expect(await page.getByTestId('section-unverified').innerText()).toContain('The readable text in this older file matches the verified entries.');

    await verifyFile(page, JSON.parse(v1.replace('我的提现一直没有到账', '我的提现已经到账了')), fixture.publicKey);
    expect(await page.getByTestId('verdict').innerText()).toMatch(/^✘ NOT VERIFIED: 1 problem/);
    expect(await page.getByTestId('problems').innerText()).toMatch(
      /the readable text in the file differs from what the verified entries say, first at line \d+: the file says “ {4}我的提现已经到账了”, the verified entries say “ {4}我的提现一直没有到账”/,
    );
    expect(await page.getByTestId('turns').innerText()).not.toContain('已经到账');
    expect(await page.getByTestId('turns').innerText()).toContain('我的提现一直没有到账');

    await verifyFile(page, { ...rich.bundle, readable: '我的提现已经到账了' }, signer.verifierKey);
    expect(await page.getByTestId('verdict').innerText()).toMatch(/^✘ NOT VERIFIED/);
    expect(await page.getByTestId('problems').innerText()).toContain('the file carries “readable”, which no verification covers');
    expect(await page.locator('#result').innerText()).not.toContain('已经到账');
  });

  it('marks a turn whose content was altered as not verified and does not show the altered words', async () => {
    const page = await openPage('zh-CN');
    const altered = structuredClone(rich.bundle);
    const entry = altered.entries.find((e) => e.content && Buffer.from(e.content.bytes, 'base64').toString('utf8').includes('我的提现一直没有到账'));
    if (!entry?.content) throw new Error('no customer turn');
    entry.content.bytes = Buffer.from(Buffer.from(entry.content.bytes, 'base64').toString('utf8').replace('一直没有到账', '已经到账了')).toString('base64');
    await verifyFile(page, altered);
    expect(await page.getByTestId('verdict').innerText()).toMatch(/^✘ 验证失败：发现 1 个问题/);
    expect(await page.getByTestId('problems').innerText()).toContain(`日志记录 #${entry.idx}：第 4 条的内容被改动（与其承诺值不符）`);
    const unproven = page.locator(`[data-idx="${entry.idx}"]`);
    expect(await unproven.getAttribute('data-status')).toBe('unproven');
    expect(await unproven.locator('.body').innerText()).toBe('【未验证：内容缺失或被改动，不予显示】');
    expect(await page.locator('#result').innerText()).not.toContain('已经到账');
  });

  it("fails a transcript checked with another key than the file's, and says the file's own key proves nothing until compared", async () => {
    const page = await openPage('en-US');
    const v1 = JSON.parse(readFileSync(V1_FIXTURE, 'utf8')) as { publicKey: string };
    await verifyFile(page, v1);
    expect(await page.getByTestId('verdict').innerText()).toMatch(/^✘ NOT VERIFIED: 2 problems/);
    expect(await page.getByTestId('problems').innerText()).toContain('the signed checkpoint is rejected: it carries no signature by this key');
    await verifyFile(page, rich.bundle, '');
    expect(await page.getByTestId('verdict').innerText()).toMatch(/^✔ VERIFIED WITH THE FILE'S OWN KEY: 7 turns/);
    expect(await page.getByTestId('section-key').innerText()).toContain('Taken from the file itself');
  });
});
