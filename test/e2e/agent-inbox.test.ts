/**
 * End-to-end: the agents' inbox in real headless Chromium against the whole product as `npm start`
 * composes it (embedded PGlite), with Telegram (real telegraf, webhook) against the Telegram
 * stand-in and Slack against the Slack stand-in. An agent claims and replies to a web customer and
 * a Telegram customer from the inbox: each customer gets the reply exactly once, the claims and
 * replies show in the Slack threads, and what a Slack agent does shows in the inbox without a
 * reload. Screenshots go to test-results/inbox/ (not committed).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { freePort } from '../../scripts/bench/in-process.js';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { type FakeMessage, FakeSlack } from '../stand-ins/fake-slack.js';
import { type FakeTelegram, startFakeTelegram } from '../stand-ins/fake-telegram.js';
import { describeInChromium, startWithChromium } from './support/chromium.js';
import { slackStandInEnv, telegramStandInEnv } from '../support/stand-in-env.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge/', import.meta.url));
const SHOTS = join(ROOT, 'test-results', 'inbox');
const CHANNEL = 'CSUPPORT';
const AGENT = { user: 'bob', password: 'bob-password-123' };
const WAIT = { timeout: 20_000, interval: 50 };

function addAgent(dataDir: string) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin-user.ts', 'add', AGENT.user, '--role', 'agent', '--password', AGENT.password], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describeInChromium("agents' inbox in headless Chromium beside Slack", () => {
  let running: RunningHelpdesk | undefined;
  let browser: Browser | undefined;
  let telegram: FakeTelegram;
  let slack: FakeSlack;
  let dir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helpdesk-inbox-e2e-'));
    await mkdir(SHOTS, { recursive: true });
    const added = await addAgent(dir);
    expect(added.code, added.output).toBe(0);
    telegram = await startFakeTelegram();
    slack = await new FakeSlack().start();
    slack.addUser('USAM', 'Sam');
    const port = await freePort();
    [running, browser] = await startWithChromium(
      startHelpdesk({
        env: {
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: dir,
          KNOWLEDGE_DIR,
          KB_WATCH: 'false',
          LOG_LEVEL: 'silent',
          HANDOFF_WORKING_HOURS: '24/7',
          ...telegramStandInEnv(telegram, port, 'inbox-test-secret'),
          ...slackStandInEnv(slack, CHANNEL),
        },
      }),
      (h) => h.stop(),
    );
    slack.appUrl = `${running?.url}/slack/events`;
    await telegram.waitFor(() => telegram.webhookInfo() !== undefined, 15_000, 'setWebhook');
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    await telegram?.close();
    await slack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  const url = (path: string) => `${running?.url ?? ''}${path}`;
  const rootFor = (needle: string): FakeMessage | undefined =>
    slack.posted(CHANNEL).find((m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(needle));
  const waitForRoot = (needle: string) =>
    vi.waitFor(() => {
      const root = rootFor(needle);
      if (!root) throw new Error('no thread root yet');
      return root;
    }, WAIT);
  const threadTexts = (root: FakeMessage) => slack.thread(CHANNEL, root.ts).map((m) => m.text);

  /** A web customer in the widget (its own browser context) who asks a question, then for a human. */
  async function webCustomer(question: string) {
    const context = await (browser as Browser).newContext({ locale: 'en-US' });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url('/'));
    await page.locator('[data-testid="message"][data-role="bot"][data-seq]').first().waitFor();
    await page.getByTestId('input').fill(question);
    await page.getByTestId('send').click();
    await page.locator('[data-testid="message"][data-role="customer"][data-seq]').filter({ hasText: question }).waitFor();
    await page.getByTestId('human').click();
    await expect.poll(() => page.getByTestId('helpdesk-root').getAttribute('data-state'), WAIT).toBe('escalated');
    /** The agents' messages the customer sees, rendered from stored turns. */
    const agentMessages = (text: string) => page.locator('[data-testid="message"][data-role="agent"][data-seq]').filter({ hasText: text });
    return { page, context, agentMessages };
  }

  async function signIn(page: Page) {
    await page.goto(url('/admin#/inbox'));
    await page.getByTestId('login-form').waitFor();
    await page.fill('#login-user', AGENT.user);
    await page.fill('#login-password', AGENT.password);
    await page.keyboard.press('Enter');
    await page.getByTestId('signed-in').waitFor();
  }

  async function replyFromInbox(page: Page, preview: string, text: string) {
    await page.locator('[data-testid="queue-item"]').filter({ hasText: preview }).locator('a').click();
    await page.getByTestId('inbox-claim').click();
    await expect.poll(() => page.getByTestId('inbox-status').first().textContent(), WAIT).toContain(AGENT.user);
    await page.getByTestId('reply-text').fill(text);
    await page.getByTestId('reply-send').click();
    await expect
      .poll(() => page.locator('[data-testid="inbox-turn"][data-kind="message"]').allTextContents(), WAIT)
      .toEqual(expect.arrayContaining([expect.stringContaining(text)]));
  }

  it('lets an agent claim and reply from the inbox: the web and the Telegram customer each get the reply once, and Slack shows it', async () => {
    const question = 'How long does a withdrawal take?';
    const web = await webCustomer(question);
    const chat = 88_001;
    const from = { id: chat, username: 'trader_88001', language_code: 'en' };
    telegram.userSends(chat, 'My deposit has not arrived', { from });
    const photo = telegram.userSendsPhoto(chat, 'the deposit page', { from }).message as unknown as { photo: Array<{ file_id: string }> };
    telegram.userSends(chat, '/human', { from });
    const telegramRoot = await waitForRoot('@trader_88001');
    const webRoot = await waitForRoot(question);

    const context = await (browser as Browser).newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await signIn(page);
    await page.getByTestId('queue-item').first().waitFor();
    await expect.poll(() => page.getByTestId('inbox-live').textContent(), WAIT).toBe('Live');
    const previews = await page.getByTestId('queue-preview').allTextContents();
    expect(previews).toEqual(expect.arrayContaining(['How long does a withdrawal take?', '[photo] the deposit page']));

    const webReply = 'Withdrawals usually arrive within 30 minutes; yours is on its way.';
    await replyFromInbox(page, question, webReply);
    await page.screenshot({ path: join(SHOTS, 'inbox-web-1280.png') });
    const telegramReply = 'I am checking your deposit with the network now.';
    await replyFromInbox(page, 'the deposit page', telegramReply);
    // The customer's screenshot, fetched from Telegram for the agent, byte for byte, as an image.
    const href = await page.getByTestId('inbox-file').first().getAttribute('href');
    const fetched = await page.evaluate(async (path) => {
      const res = await fetch(path as string);
      return { type: res.headers.get('content-type'), bytes: Array.from(new Uint8Array(await res.arrayBuffer())) };
    }, href);
    expect(fetched.type).toBe('image/jpeg');
    expect(Buffer.from(fetched.bytes)).toEqual(telegram.fileBytes(photo.photo.at(-1)?.file_id as string));

    // Each customer gets the reply, once, after the claim notice.
    await vi.waitFor(() => expect(telegram.sentTo(chat).some((m) => m.text.includes(telegramReply))).toBe(true), WAIT);
    await web.agentMessages(webReply).first().waitFor();
    // The claims and replies are in the Slack threads.
    await vi.waitFor(() => {
      expect(threadTexts(telegramRoot).join('\n')).toContain(`Claimed by ${AGENT.user}`);
      expect(threadTexts(telegramRoot).join('\n')).toContain(telegramReply);
      expect(threadTexts(webRoot).join('\n')).toContain(`Claimed by ${AGENT.user}`);
      expect(threadTexts(webRoot).join('\n')).toContain(webReply);
      // The root names the holder by name (not as a Slack mention).
      expect(JSON.stringify(rootFor('@trader_88001')?.blocks)).toContain(`Claimed by ${AGENT.user}`);
    }, WAIT);
    // A Slack agent writes in the Telegram thread: the inbox shows it without a reload, and the customer gets it.
    const fromSlack = 'Sam here: the deposit is confirmed on chain.';
    await slack.userReplies(CHANNEL, telegramRoot.ts, 'USAM', fromSlack);
    await expect
      .poll(() => page.locator('[data-testid="inbox-turn"]').allTextContents(), WAIT)
      .toEqual(expect.arrayContaining([expect.stringContaining(fromSlack)]));
    await vi.waitFor(() => expect(telegram.sentTo(chat).some((m) => m.text.includes(fromSlack))).toBe(true), WAIT);

    // A reply the outbound guard refuses: the agent is told why, the customer gets nothing.
    await page.getByTestId('reply-text').fill('Please send me your 2FA code so I can check.');
    await page.getByTestId('reply-send').click();
    await page.getByTestId('reply-blocked').waitFor();
    expect(await page.locator('[data-testid="reply-blocked"] li').getAttribute('data-reason')).toBe('asks_for_secret');
    await page.screenshot({ path: join(SHOTS, 'inbox-blocked-1280.png') });

    // Time for any second delivery to show up (the outboxes poll every 100 ms-1 s): none does.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(telegram.sentTo(chat).filter((m) => m.text.includes(telegramReply))).toHaveLength(1);
    expect(telegram.sentTo(chat).filter((m) => m.text.includes(fromSlack))).toHaveLength(1);
    expect(
      telegram
        .sentTo(chat)
        .map((m) => m.text)
        .join('\n'),
    ).not.toContain('send me your 2FA code');
    expect(await web.agentMessages(webReply).count()).toBe(1);
    expect(await web.agentMessages(`${AGENT.user} from our support team`).count()).toBe(1);
    await web.page.screenshot({ path: join(SHOTS, 'widget-agent-reply.png') });
    expect(threadTexts(telegramRoot).filter((x) => x.includes(telegramReply))).toHaveLength(1);
    const texts = telegram.sentTo(chat).map((m) => m.text);
    const claimed = texts.findIndex((x) => x.includes(`${AGENT.user} from our support team`));
    expect(claimed).toBeGreaterThanOrEqual(0);
    expect(claimed).toBeLessThan(texts.findIndex((x) => x.includes(telegramReply)));
    // The inbox in Chinese, on a phone.
    await page.getByTestId('ui-language').selectOption('zh');
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.locator('.nav-link[aria-current="page"]').textContent(), WAIT).toBe('收件箱');
    await page.getByTestId('reply-send').waitFor();
    expect(await page.getByTestId('reply-send').textContent()).toBe('发送回复');
    await page.screenshot({ path: join(SHOTS, 'inbox-zh-390.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await context.close();
    await web.context.close();
  }, 180_000);
});
