/**
 * End-to-end: the chat widget in real headless Chromium against the real product (in-process
 * helpdesk on an embedded PGlite database, the repository's zh/en knowledge base, offline answers).
 *
 * Needs a Chromium executable (CHROMIUM_PATH, default /usr/bin/chromium). Without one the suite is
 * skipped locally (with a warning) and fails in CI.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { startHostPage, type HostPage } from './support/host-page.js';
import { describeInChromium, startWithChromium } from './support/chromium.js';

const KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge/', import.meta.url));
/** Per expectation: generous for a 2-core machine running PGlite, the local embedder and Chromium. */
const WAIT = 15_000;
const TEST_TIMEOUT = 90_000;
const STORAGE_KEY = 'examplex-helpdesk';
const HAN = /\p{Script=Han}/u;

interface TurnView {
  seq: number;
  role: string;
  kind: string;
  text: string;
  language: string;
  citations: { id: string; title: string; version: number }[];
  actions: { id: string; label: string }[];
  escalation?: { reason: string; priority: string };
}

describeInChromium('chat widget in headless Chromium', () => {
  let helpdesk: RunningHelpdesk | undefined;
  let dataDir: string | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let pageErrors: string[] = [];
  const hosts: HostPage[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-e2e-'));
    [helpdesk, browser] = await startWithChromium(
      startHelpdesk({
        env: {
          PORT: '0',
          HOST: '127.0.0.1',
          DATA_DIR: dataDir,
          KNOWLEDGE_DIR,
          KB_WATCH: 'false',
          LOG_LEVEL: 'silent',
        },
      }),
      (h) => h.stop(),
    );
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(hosts.map((h) => h.close()));
    await helpdesk?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  afterEach(async () => {
    await context?.close();
    context = undefined;
    // Uncaught exceptions in the widget fail the test that caused them.
    const errors = pageErrors;
    pageErrors = [];
    expect(errors, 'uncaught errors in the page').toEqual([]);
  });

  /** A fresh browser context (own localStorage) with the given browser language. */
  async function openPage(locale: 'en-US' | 'zh-CN'): Promise<Page> {
    if (!browser) throw new Error('browser not launched');
    context = await browser.newContext({ locale });
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }

  function apiUrl(): string {
    if (!helpdesk) throw new Error('helpdesk not started');
    return helpdesk.url;
  }

  function messages(page: Page, role: 'customer' | 'bot' | 'system' | 'agent'): Locator {
    // Rendered server turns carry data-seq; optimistic "sending" copies do not.
    return page.locator(`[data-testid="message"][data-role="${role}"][data-seq]`);
  }

  /** Types a question into the widget, sends it, and returns the turn that answers it. */
  async function ask(page: Page, question: string): Promise<Locator> {
    await page.getByTestId('input').fill(question);
    await page.getByTestId('send').click();
    const sent = messages(page, 'customer').filter({ hasText: question });
    await sent.waitFor({ state: 'visible' });
    const seq = Number(await sent.getAttribute('data-seq'));
    expect(Number.isInteger(seq) && seq > 0, `customer turn seq ${seq}`).toBe(true);
    const reply = page.locator(`[data-testid="message"][data-seq="${seq + 1}"]`);
    await reply.waitFor({ state: 'visible' });
    return reply;
  }

  async function citationIds(message: Locator): Promise<string[]> {
    const items = message.locator('[data-testid="citation"]');
    await items.first().waitFor({ state: 'visible' });
    return Promise.all((await items.all()).map(async (c) => (await c.getAttribute('data-citation-id')) ?? ''));
  }

  /** The conversation the widget keeps in localStorage, read back through the HTTP API. */
  async function fetchConversation(page: Page): Promise<{ state: string; turns: TurnView[] }> {
    const raw = await page.evaluate((key) => window.localStorage.getItem(key), STORAGE_KEY);
    expect(raw, `localStorage["${STORAGE_KEY}"]`).toBeTruthy();
    const stored = JSON.parse(raw ?? '{}') as { id: string; token: string; lastSeq: number };
    expect(stored).toMatchObject({ id: expect.any(String), token: expect.any(String), lastSeq: expect.any(Number) });
    const res = await fetch(`${apiUrl()}/api/conversations/${encodeURIComponent(stored.id)}/messages?after=0`, {
      headers: { Authorization: `Bearer ${stored.token}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { state: string; turns: TurnView[] };
  }

  async function expectEscalatedToHuman(page: Page): Promise<void> {
    const notice = messages(page, 'system').and(page.locator('[data-escalation="true"]'));
    await notice.waitFor({ state: 'visible' });
    await expect.poll(() => notice.getByTestId('message-text').innerText(), { timeout: WAIT }).toContain('A human agent will reply here');
    await expect.poll(() => page.getByTestId('status').innerText(), { timeout: WAIT }).toBe('Waiting for a human agent…');
    await expect.poll(() => page.getByTestId('helpdesk-root').getAttribute('data-state'), { timeout: WAIT }).toBe('escalated');

    const conversation = await fetchConversation(page);
    expect(conversation.state).toBe('escalated');
    const escalations = conversation.turns.filter((t) => t.escalation);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({
      role: 'system',
      kind: 'escalation',
      language: 'en',
      escalation: { reason: 'customer_requested_human', priority: 'normal' },
    });
    // The customer's button press is on the record just before the escalation.
    const pressed = conversation.turns.find((t) => t.seq === (escalations[0]?.seq ?? 0) - 1);
    expect(pressed).toMatchObject({ role: 'customer', kind: 'action', text: 'Talk to a human' });
  }

  it(
    'answers an English question in English, cites the English password-reset entry and offers "This solved it" / "Talk to a human"',
    async () => {
      const page = await openPage('en-US');
      await page.goto(`${apiUrl()}/`);
      await messages(page, 'bot').first().waitFor({ state: 'visible' }); // greeting

      const answer = await ask(page, 'How do I reset my password?');
      expect(await answer.getAttribute('data-role')).toBe('bot');
      expect(await answer.getAttribute('lang')).toBe('en');
      const text = await answer.getByTestId('message-text').innerText();
      expect(text).toMatch(/password/i);
      expect(text).not.toMatch(HAN);

      const ids = await citationIds(answer);
      expect(ids[0]).toBe('password-reset-en');
      for (const id of ids) expect(id).toMatch(/-en$/);
      expect(await answer.locator('[data-citation-id="password-reset-en"]').innerText()).toContain('How do I reset or change my password?');

      const solved = answer.locator('[data-testid="action"][data-action="solved"]');
      const human = answer.locator('[data-testid="action"][data-action="human"]');
      expect(await solved.innerText()).toBe('This solved it');
      expect(await human.innerText()).toBe('Talk to a human');
      expect(await solved.isEnabled()).toBe(true);
      expect(await human.isEnabled()).toBe(true);
    },
    TEST_TIMEOUT,
  );

  it(
    'stores a message once when its answer was lost and the customer presses Retry (same Idempotency-Key)',
    async () => {
      const page = await openPage('en-US');
      await page.goto(`${apiUrl()}/`);
      await messages(page, 'bot').first().waitFor({ state: 'visible' });

      const keys: string[] = [];
      await page.route('**/api/conversations/*/messages', async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        keys.push(route.request().headers()['idempotency-key'] ?? '');
        if (keys.length === 1) {
          // The server stores the message; its answer never reaches the widget.
          await route.fetch();
          return route.abort('connectionreset');
        }
        return route.continue();
      });

      const question = 'How do I reset my password?';
      await page.getByTestId('input').fill(question);
      await page.getByTestId('send').click();
      await page.getByTestId('retry').click();
      await messages(page, 'customer').filter({ hasText: question }).waitFor({ state: 'visible' });

      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(/^[0-9a-f-]{32,36}$/);
      expect(keys[1]).toBe(keys[0]);
      const conversation = await fetchConversation(page);
      expect(conversation.turns.filter((t) => t.role === 'customer' && t.text === question)).toHaveLength(1);
      expect(await messages(page, 'customer').filter({ hasText: question }).count()).toBe(1);
    },
    TEST_TIMEOUT,
  );

  it(
    'answers a Chinese question in Chinese and cites the Chinese withdrawal-pending entry',
    async () => {
      const page = await openPage('zh-CN');
      await page.goto(`${apiUrl()}/`);
      await messages(page, 'bot').first().waitFor({ state: 'visible' });

      const answer = await ask(page, '我的提现一直没到账');
      expect(await answer.getAttribute('data-role')).toBe('bot');
      expect(await answer.getAttribute('lang')).toBe('zh-CN');
      const text = await answer.getByTestId('message-text').innerText();
      expect(text).toMatch(HAN);
      expect(text).toContain('提');

      const ids = await citationIds(answer);
      expect(ids[0]).toBe('withdrawal-pending-zh');
      for (const id of ids) expect(id).toMatch(/-zh$/);

      expect(await answer.locator('[data-testid="action"][data-action="solved"]').innerText()).toBe('已解决');
      expect(await answer.locator('[data-testid="action"][data-action="human"]').innerText()).toBe('转人工');
    },
    TEST_TIMEOUT,
  );

  it(
    'answers in the language the customer writes in, even when the browser is set to the other one',
    async () => {
      const page = await openPage('en-US');
      await page.goto(`${apiUrl()}/`);
      await messages(page, 'bot').first().waitFor({ state: 'visible' });
      const answer = await ask(page, '我的提现一直没到账');
      expect(await answer.getByTestId('message-text').innerText()).toMatch(HAN);
      expect((await citationIds(answer))[0]).toBe('withdrawal-pending-zh');
    },
    TEST_TIMEOUT,
  );

  it(
    'hands the conversation to a human when the customer presses the answer\'s "Talk to a human" button',
    async () => {
      const page = await openPage('en-US');
      await page.goto(`${apiUrl()}/`);
      await messages(page, 'bot').first().waitFor({ state: 'visible' });
      const answer = await ask(page, 'How do I reset my password?');

      const human = answer.locator('[data-testid="action"][data-action="human"]');
      await human.click();
      await expectEscalatedToHuman(page);
      // The answer's buttons are used up.
      await expect.poll(() => human.isDisabled(), { timeout: WAIT }).toBe(true);
      await expect.poll(() => answer.locator('[data-action="solved"]').isDisabled(), { timeout: WAIT }).toBe(true);
    },
    TEST_TIMEOUT,
  );

  it(
    'hands the conversation to a human when the customer presses the composer\'s "Talk to a human" button',
    async () => {
      const page = await openPage('en-US');
      await page.goto(`${apiUrl()}/`);
      await messages(page, 'bot').first().waitFor({ state: 'visible' });

      await page.getByTestId('human').click();
      await expectEscalatedToHuman(page);
    },
    TEST_TIMEOUT,
  );

  it(
    'works embedded in a page of another origin: the launcher opens the widget and a question gets a cited answer (CORS)',
    async () => {
      const host = await startHostPage(`<script src="${apiUrl()}/widget.js" async></script>`);
      hosts.push(host);
      expect(new URL(host.url).origin).not.toBe(new URL(apiUrl()).origin);

      const page = await openPage('en-US');
      const apiResponses: { url: string; method: string; status: number; allowOrigin: string | undefined }[] = [];
      page.on('response', (res) => {
        if (res.url().startsWith(apiUrl())) {
          apiResponses.push({
            url: res.url(),
            method: res.request().method(),
            status: res.status(),
            allowOrigin: res.headers()['access-control-allow-origin'],
          });
        }
      });
      await page.goto(host.url);

      const launcher = page.getByTestId('launcher');
      await launcher.waitFor({ state: 'visible' });
      // Rendered inside an open shadow root, not in the host page's DOM.
      expect(
        await page.evaluate(() => {
          const widgetHost = document.getElementById('examplex-helpdesk-widget');
          return {
            shadow: widgetHost?.shadowRoot?.mode ?? null,
            leaked: document.querySelector('[data-testid="launcher"]') !== null,
          };
        }),
      ).toEqual({ shadow: 'open', leaked: false });
      expect(await page.getByTestId('panel').isHidden()).toBe(true);
      expect(await launcher.getAttribute('aria-expanded')).toBe('false');

      await launcher.click();
      await page.getByTestId('panel').waitFor({ state: 'visible' });
      expect(await launcher.getAttribute('aria-expanded')).toBe('true');
      await messages(page, 'bot').first().waitFor({ state: 'visible' }); // greeting, fetched cross-origin

      const answer = await ask(page, 'How do I reset my password?');
      expect(await answer.getAttribute('data-role')).toBe('bot');
      const ids = await citationIds(answer);
      expect(ids[0]).toBe('password-reset-en');

      const posts = apiResponses.filter((r) => r.method === 'POST');
      expect(posts.map((r) => new URL(r.url).pathname)).toEqual(
        expect.arrayContaining(['/api/conversations', expect.stringMatching(/^\/api\/conversations\/[^/]+\/messages$/)]),
      );
      for (const r of posts) {
        expect(r.status).toBe(201);
        expect(r.allowOrigin).toBe('*');
      }
      // The stylesheet came from the helpdesk too.
      expect(apiResponses.some((r) => r.url === `${apiUrl()}/widget.css` && r.status === 200)).toBe(true);
    },
    TEST_TIMEOUT,
  );
});
