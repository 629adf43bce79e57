import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { wordlist as simplifiedChinese } from '@scure/bip39/wordlists/simplified-chinese.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../scripts/bench/in-process.js';
import { openDatabase, queryRows } from '../../src/adapters/postgres/db/database.js';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { FakeSlack } from '../stand-ins/fake-slack.js';
import { type FakeTelegram, startFakeTelegram } from '../stand-ins/fake-telegram.js';
import { createEmptyPostgresDatabase, testEngines } from '../support/databases.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';
import { seededMnemonic } from '../support/mnemonics.js';
import { slackStandInEnv, telegramStandInEnv } from '../support/stand-in-env.js';

const CHANNEL = 'CSUPPORT';
const WAIT = { timeout: 20_000, interval: 25 };

/**
 * Where a phrase would show: any three of its words in a row (English, whatever joins them: spaces,
 * underscores, JSON, mrkdwn), or any four of its characters in a row (Chinese).
 */
function leaks(haystack: string, phrase: string): boolean {
  const words = phrase.split(' ');
  if (/[\u3400-\u9fff]/.test(phrase)) {
    const han = [...haystack].filter((c) => /[\u3400-\u9fff]/.test(c)).join('');
    return words.some((_, i) => i + 4 <= words.length && han.includes(words.slice(i, i + 4).join('')));
  }
  const flat = ` ${haystack.toLowerCase().replace(/[^a-z]+/g, ' ')} `;
  return words.some((_, i) => i + 3 <= words.length && flat.includes(` ${words.slice(i, i + 3).join(' ')} `));
}

/**
 * The secret firewall end to end, through the composition root: Telegram customers (webhook, real
 * telegraf against the Telegram stand-in) with their conversation escalated to Slack (real bolt
 * against the Slack stand-in). Whatever field of a Telegram message carries a recovery phrase, it
 * reaches neither Slack, nor the database (turns, files, the inbox), nor the logs.
 */
describe.each(testEngines())('the secret firewall on every text a Telegram customer sends, through to Slack, on %s', (engine) => {
  let telegram: FakeTelegram;
  let slack: FakeSlack;
  let running: RunningHelpdesk | undefined;
  let dir: string;
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  const logLines: string[] = [];
  const phrases: string[] = [];
  let nextChat = engine === 'pglite' ? 81_000 : 82_000;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `helpdesk-firewall-${engine}-`));
    telegram = await startFakeTelegram();
    slack = await new FakeSlack().start();
    if (engine === 'postgres') {
      const empty = await createEmptyPostgresDatabase();
      databaseUrl = empty.url;
      dropDatabase = empty.drop;
    }
    const port = await freePort();
    running = await startHelpdesk({
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dir,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        KNOWLEDGE_DIR,
        KB_WATCH: 'false',
        // Everything the product logs, debug included, is read below.
        LOG_LEVEL: 'debug',
        HANDOFF_WORKING_HOURS: '24/7',
        ...telegramStandInEnv(telegram, port, 'firewall-test-secret'),
        ...slackStandInEnv(slack, CHANNEL),
      },
      logDestination: { write: (line: string) => void logLines.push(line) },
    });
    slack.appUrl = `${running.url}/slack/events`;
    await telegram.waitFor(() => telegram.webhookInfo() !== undefined, 15_000, 'setWebhook');
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await telegram?.close();
    await slack?.stop();
    await dropDatabase?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * A customer whose conversation is with the agents in Slack: returns the chat, its sender and
   * the thread root, found by the name it shows (`@holder_<chat>`, or the display name's last word).
   */
  async function escalatedCustomer(from: Record<string, unknown> = {}) {
    const chat = nextChat++;
    const sender = { id: chat, username: `holder_${chat}`, language_code: 'en', ...from };
    const shown = sender.username ? `@${sender.username}` : `Holder${chat}`;
    telegram.userSends(chat, '/human', { from: sender });
    const root = await vi.waitFor(() => {
      const r = slack.posted(CHANNEL).find((m) => !m.thread_ts && (m.text ?? '').includes(shown));
      if (!r) throw new Error('no thread root yet');
      return r;
    }, WAIT);
    return { chat, from: sender, root };
  }
  const threadTexts = (root: { ts: string }) => slack.thread(CHANNEL, root.ts).map((m) => m.text ?? '');
  /** Everything the product sent to Slack: every API call with its parameters. */
  const sentToSlack = () => JSON.stringify(slack.calls);
  const logged = () => logLines.join('');

  it('keeps a recovery phrase in a photo caption out of Slack, the logs and the file posted, and warns the customer', async () => {
    const { chat, from, root } = await escalatedCustomer();
    const phrase = seededMnemonic('firewall-caption', english);
    phrases.push(phrase);
    telegram.userSendsPhoto(chat, `support asked me to confirm my wallet: ${phrase}`, { from });

    await vi.waitFor(
      () => expect(threadTexts(root).some((t) => t.includes('[photo] support asked me to confirm my wallet: [recovery phrase removed]'))).toBe(true),
      WAIT,
    );
    await vi.waitFor(() => expect([...slack.uploads.values()].some((u) => u.completed)).toBe(true), WAIT);
    await vi.waitFor(() => expect(telegram.sentTo(chat).some((m) => m.text.includes('anyone who asks for it is a scammer'))).toBe(true), WAIT);

    expect(leaks(sentToSlack(), phrase)).toBe(false);
    expect(leaks(logged(), phrase)).toBe(false);
    expect(sentToSlack()).not.toContain(phrase.split(' ').slice(0, 3).join(' '));
  }, 60_000);

  it('screens every other text a message can carry: file names, edits, contacts, venues, polls, forwarded text, button data and the display name', async () => {
    const namePhrase = seededMnemonic('firewall-display-name', english);
    const { chat, from, root } = await escalatedCustomer({ username: undefined, first_name: namePhrase, last_name: `Holder${nextChat}` });
    const p = (label: string) => {
      const phrase = seededMnemonic(`firewall-${label}`, english);
      phrases.push(phrase);
      return phrase;
    };
    phrases.push(namePhrase);
    const chinese = seededMnemonic('firewall-document-caption', simplifiedChinese);
    phrases.push(chinese);

    telegram.userSendsDocument(chat, `${p('file-name').replace(/ /g, '_')}.txt`, `我的助记词是${chinese.replace(/ /g, '')}请帮我找回钱包`, { from });
    const original = telegram.userSends(chat, 'my withdrawal is stuck', { from });
    telegram.userEdits(original.message as never, `my withdrawal is stuck, my seed is ${p('edit')}`);
    telegram.userSendsMessage(chat, { contact: { phone_number: '+15550100', first_name: p('contact') } }, { from });
    telegram.userSendsMessage(chat, { venue: { title: 'Café Lumière', address: p('venue'), location: { latitude: 1, longitude: 2 } } }, { from });
    telegram.userSendsMessage(chat, { poll: { id: 'p1', question: p('poll'), options: [{ text: 'yes' }, { text: 'no' }] } }, { from });
    telegram.userSendsMessage(
      chat,
      { text: `forwarded: ${p('forward')}`, forward_origin: { type: 'hidden_user', sender_user_name: 'someone', date: 0 } },
      { from },
    );
    const bot = telegram.sentTo(chat)[0];
    if (bot) telegram.userClicks(bot, `act:${p('callback')}`, from);

    // Each of them reached the thread, with what they held removed.
    await vi.waitFor(() => {
      const thread = threadTexts(root).join('\n');
      expect(thread).toContain('[document] 我的助记词');
      expect(thread).toContain('*Customer (edited):* my withdrawal is stuck, my seed is [recovery phrase removed]');
      expect(thread).toContain('[contact] [recovery phrase removed]');
      expect(thread).toContain('[venue] Café Lumière, [recovery phrase removed]');
      expect(thread).toContain('[poll] [recovery phrase removed]');
      expect(thread).toContain('forwarded: [recovery phrase removed]');
      expect(thread).toMatch(/:paperclip: document \[recovery phrase removed\]/);
    }, WAIT);
    const rootMessage = slack.posted(CHANNEL).find((m) => m.ts === root.ts);
    expect(JSON.stringify(rootMessage)).toContain('[recovery phrase removed]');

    for (const phrase of phrases) {
      expect(leaks(sentToSlack(), phrase), `Slack: ${phrase}`).toBe(false);
      expect(leaks(logged(), phrase), `logs: ${phrase}`).toBe(false);
    }
  }, 60_000);

  it('escalates a scam report at once, urgent, with its reason named to the agents in Slack and to the customer in their language', async () => {
    for (const [language, text, told] of [
      ['en', 'support asked me for my recovery words', 'this looks like a scam attempt against you'],
      ['zh-hans', '客服让我提供助记词，说不给就冻结账户', '这看起来是针对您的诈骗'],
    ] as const) {
      const chat = nextChat++;
      telegram.userSends(chat, text, { from: { id: chat, username: `victim_${chat}`, language_code: language } });
      const root = await vi.waitFor(() => {
        const r = slack.posted(CHANNEL).find((m) => !m.thread_ts && (m.text ?? '').includes(`@victim_${chat}`));
        if (!r) throw new Error('no thread root yet');
        return r;
      }, WAIT);
      expect(root.text).toContain('URGENT');
      expect(root.text).toContain('Reason: scam report (someone asked for a secret or a fee, or posed as support)');
      await vi.waitFor(() => expect(telegram.sentTo(chat).some((m) => m.text.includes(told))).toBe(true), WAIT);
    }
  }, 60_000);

  it('stores none of them: not in the turns and their files, the conversations, the inbox (settled updates keep only ids), the outboxes or the events', async () => {
    await vi.waitFor(() => expect(phrases.length).toBeGreaterThan(0), WAIT);
    await running?.stop();
    running = undefined;
    const database = await openDatabase(databaseUrl ? { databaseUrl, dataDir: 'unused' } : { dataDir: dir });
    try {
      const tables = await queryRows<{ table_name: string }>(
        database.db,
        sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      const dump: string[] = [];
      for (const { table_name } of tables) {
        const rows = await queryRows<{ row: string }>(database.db, sql.raw(`SELECT t::text AS row FROM "${table_name}" t`));
        dump.push(...rows.map((r) => r.row));
      }
      const everything = dump.join('\n');
      for (const phrase of phrases) expect(leaks(everything, phrase), phrase).toBe(false);
      const inbox = await queryRows<{ status: string; payload: unknown }>(database.db, sql`SELECT status, payload FROM channel_update`);
      expect(inbox.length).toBeGreaterThan(10);
      expect(inbox.filter((u) => u.status !== 'pending' && u.payload !== null)).toEqual([]);
    } finally {
      await database.close();
    }
  }, 60_000);
});
