import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../scripts/bench/in-process.js';
import { ACTION_CLAIM, ACTION_RESOLVE } from '../../src/adapters/slack/slack-messages.js';
import { verifyTranscript } from '../../src/core/index.js';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { type FakeMessage, FakeSlack } from '../stand-ins/fake-slack.js';
import { type FakeTelegram, startFakeTelegram } from '../stand-ins/fake-telegram.js';
import { createEmptyPostgresDatabase, testEngines } from '../support/databases.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';
import { slackStandInEnv, telegramStandInEnv } from '../support/stand-in-env.js';

const CHANNEL = 'CSUPPORT';
const ADMIN = 'handoff-admin-token-0123456789';
const WAIT = { timeout: 20_000, interval: 25 };

/**
 * The whole product as `npm start` composes it (src/main.ts), with Telegram in webhook mode against
 * the Telegram stand-in and Slack handoff against the Slack stand-in.
 */
describe.each(testEngines())('Telegram customers and Slack agents through the composition root on %s', (engine) => {
  let telegram: FakeTelegram;
  let slack: FakeSlack;
  let running: RunningHelpdesk;
  let dir: string;
  let dropDatabase: (() => Promise<void>) | undefined;
  let nextChat = engine === 'pglite' ? 71_000 : 72_000;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `helpdesk-tg-handoff-${engine}-`));
    telegram = await startFakeTelegram();
    slack = await new FakeSlack().start();
    slack.addUser('UALICE', 'Alice');
    let databaseUrl: string | undefined;
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
        LOG_LEVEL: 'silent',
        HANDOFF_WORKING_HOURS: '24/7',
        ...telegramStandInEnv(telegram, port, 'handoff-test-secret'),
        ...slackStandInEnv(slack, CHANNEL),
        ADMIN_TOKEN: ADMIN,
      },
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

  const textsTo = (chat: number) => telegram.sentTo(chat).map((m) => m.text);
  const rootFor = (handle: string): FakeMessage | undefined =>
    slack.posted(CHANNEL).find((m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(handle));
  /** The thread root of a chat's escalation (its customer is @trader_<chat>). */
  const waitForRoot = (chat: number) =>
    vi.waitFor(() => {
      const r = rootFor(`@trader_${chat}`);
      if (!r) throw new Error('no thread root yet');
      return r;
    }, WAIT);

  it('relays a Slack agent reply to the Telegram customer once, with the agent name and escaped HTML, and the customer back into the thread until the rating', async () => {
    const chat = nextChat++;
    const from = { id: chat, username: `trader_${chat}`, language_code: 'en' };
    telegram.userSends(chat, '/human', { from });

    const root = await waitForRoot(chat);
    expect(JSON.stringify(root.blocks)).toContain('telegram');
    // The wait notice comes from the desk (not from the update's handling): it proves the port is wired.
    await vi.waitFor(() => expect(textsTo(chat).some((t) => /about \d+ minutes?/.test(t))).toBe(true), WAIT);

    // The reply follows the click at once: events of one conversation are handled in arrival order.
    await slack.click(root, ACTION_CLAIM, 'UALICE');
    const agentText = 'Hi <b>there</b> & welcome: is it "deposit" or withdrawal?';
    const reply = slack.userReplies(CHANNEL, root.ts, 'UALICE', agentText, { eventId: 'EvTgReply1' });
    expect((await reply).status).toBe(200);
    // Slack delivers the same event again (its acknowledgement was lost).
    const retry = await slack.sendEvent(
      { type: 'message', channel: CHANNEL, user: 'UALICE', text: agentText, ts: reply.ts, thread_ts: root.ts, channel_type: 'channel' },
      { eventId: 'EvTgReply1' },
    );
    expect(retry.status).toBe(200);

    const delivered = await vi.waitFor(() => {
      const m = telegram.sentTo(chat).find((x) => x.text.includes(agentText));
      if (!m) throw new Error('agent reply not delivered yet');
      return m;
    }, WAIT);
    expect(delivered.text).toBe(`Alice:\n${agentText}`);
    expect(delivered.parseMode).toBe('HTML');
    expect(delivered.raw).toContain('<b>Alice</b>');
    expect(delivered.raw).toContain('&lt;b&gt;there&lt;/b&gt; &amp; welcome');

    telegram.userSends(chat, 'It is a withdrawal, txid 0xabc', { from });
    await vi.waitFor(() => expect(slack.thread(CHANNEL, root.ts).map((m) => m.text)).toContain('*Customer:* It is a withdrawal, txid 0xabc'), WAIT);

    await slack.click(root, ACTION_RESOLVE, 'UALICE');
    await vi.waitFor(() => expect(textsTo(chat).some((t) => /number from 1 to 5/.test(t))).toBe(true), WAIT);
    telegram.userSends(chat, '5', { from });
    await vi.waitFor(() => expect(textsTo(chat)).toContain('Thank you for your rating (5/5)!'), WAIT);
    await vi.waitFor(
      () =>
        expect(
          slack
            .thread(CHANNEL, root.ts)
            .map((m) => m.text)
            .join('\n'),
        ).toContain('Customer rated 5/5'),
      WAIT,
    );

    // By now the retried event has long been handled: the reply was sent once, after the claim, before the rating request.
    const texts = textsTo(chat);
    expect(texts.filter((t) => t.includes(agentText))).toHaveLength(1);
    const claimed = texts.findIndex((t) => t.includes('Alice from our support team'));
    const replied = texts.findIndex((t) => t.includes(agentText));
    const rating = texts.findIndex((t) => /number from 1 to 5/.test(t));
    expect(claimed).toBeGreaterThanOrEqual(0);
    expect(claimed).toBeLessThan(replied);
    expect(replied).toBeLessThan(rating);
  }, 60_000);

  it('keeps an internal note in Slack and never sends it to the Telegram customer', async () => {
    const chat = nextChat++;
    const from = { id: chat, username: `trader_${chat}`, language_code: 'zh-hans' };
    telegram.userSends(chat, '/human', { from });
    const root = await waitForRoot(chat);
    await slack.userReplies(CHANNEL, root.ts, 'UALICE', 'note: looks like a phishing victim');
    await slack.userReplies(CHANNEL, root.ts, 'UALICE', '您好，我来帮您处理。');
    await vi.waitFor(() => expect(textsTo(chat)).toContain('Alice:\n您好，我来帮您处理。'), WAIT);
    expect(textsTo(chat).join('\n')).not.toContain('phishing');
  }, 60_000);

  it('never sends the Telegram customer an agent reply or edit with a phishing link or a fee demand, and tells the agent why in Slack', async () => {
    const chat = nextChat++;
    const from = { id: chat, username: `trader_${chat}`, language_code: 'en' };
    telegram.userSends(chat, '/human', { from });
    const root = await waitForRoot(chat);
    const phishing = 'To release your withdrawal log in at https://examplex-verify.top/login and pay the 0.1 BTC security fee.';
    expect((await slack.userReplies(CHANNEL, root.ts, 'UALICE', phishing)).status).toBe(200);
    const warning = await vi.waitFor(() => {
      const e = slack.ephemerals.find((x) => x.user === 'UALICE' && x.thread_ts === root.ts);
      if (!e) throw new Error('no ephemeral warning yet');
      return e;
    }, WAIT);
    expect(warning.text).toMatch(/Not sent to the customer/);
    expect(warning.text).toMatch(/asks the customer to pay/);
    expect(warning.text).toContain('examplex-verify.top');
    // A clean reply goes out; then an edit turning it into a demand for the customer's phrase does not.
    const clean = slack.userReplies(CHANNEL, root.ts, 'UALICE', 'I am checking your withdrawal now.');
    await clean;
    await vi.waitFor(() => expect(textsTo(chat)).toContain('Alice:\nI am checking your withdrawal now.'), WAIT);
    await slack.userEdits(CHANNEL, clean.ts, 'Please send me your 12-word recovery phrase so I can check.');
    await vi.waitFor(() => expect(slack.ephemerals.filter((x) => x.user === 'UALICE' && x.thread_ts === root.ts)).toHaveLength(2), WAIT);
    expect(slack.ephemerals.at(-1)?.text).toMatch(/asks the customer for a secret/);
    // Nothing of either reached the customer (the outbox had time to send the clean reply after them).
    telegram.userSends(chat, 'ok thanks', { from });
    await vi.waitFor(() => expect(slack.thread(CHANNEL, root.ts).map((m) => m.text)).toContain('*Customer:* ok thanks'), WAIT);
    const sent = textsTo(chat).join('\n');
    expect(sent).not.toContain('examplex-verify');
    expect(sent).not.toMatch(/security fee|recovery phrase so I can/);
    const blocked = await fetch(`${running.url}/api/admin/security-events?type=outbound_blocked`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const reasons = ((await blocked.json()) as { events: Array<{ channel: string; detail: { reason: string; reasons?: string[] } }> }).events
      .filter((e) => e.channel === 'slack')
      .flatMap((e) => e.detail.reasons ?? [e.detail.reason]);
    expect(reasons).toEqual(expect.arrayContaining(['asks_for_payment', 'unlisted_contact', 'asks_for_secret']));
  }, 60_000);

  it('uploads the photos and documents a Telegram customer sends into the thread, byte for byte, and names a file Telegram no longer has', async () => {
    const chat = nextChat++;
    const from = { id: chat, username: `trader_${chat}`, language_code: 'en' };
    telegram.userSends(chat, '/human', { from });
    const root = await waitForRoot(chat);
    // The first upload takes effect in Slack but its answer is lost: it is found by its title, not uploaded again.
    slack.fail('files.completeUploadExternal', { lostResponse: true });
    const photo = telegram.userSendsPhoto(chat, 'the error screen', { from }).message as unknown as { photo: Array<{ file_id: string }> };
    const document = telegram.userSendsDocument(chat, 'statement.pdf', 'my bank statement').message as unknown as { document: { file_id: string } };
    const gone = telegram.userSendsDocument(chat, 'old.pdf').message as unknown as { document: { file_id: string } };
    telegram.forgetFile(gone.document.file_id);

    const withFiles = () => slack.thread(CHANNEL, root.ts).filter((m) => m.files?.length);
    await vi.waitFor(() => expect(withFiles()).toHaveLength(2), WAIT);
    await vi.waitFor(() => expect(slack.thread(CHANNEL, root.ts).some((m) => m.text.includes('could not be fetched'))).toBe(true), WAIT);
    expect(withFiles()).toHaveLength(2);
    expect(slack.calls.filter((c) => c.method === 'files.completeUploadExternal')).toHaveLength(2);
    const [photoMessage, documentMessage] = withFiles();
    const uploaded = (m: FakeMessage | undefined) => slack.uploads.get(m?.files?.[0]?.id as string)?.data;
    expect(uploaded(photoMessage)).toEqual(telegram.fileBytes(photo.photo.at(-1)?.file_id as string));
    expect(uploaded(documentMessage)).toEqual(telegram.fileBytes(document.document.file_id));
    expect(documentMessage?.files?.[0]?.name).toBe('statement.pdf');
    // Each file follows its own message in the thread, in the order the customer sent them.
    const texts = slack.thread(CHANNEL, root.ts).map((m) => m.text || `[file ${m.files?.[0]?.name}]`);
    const at = (needle: string) => texts.findIndex((t) => t.includes(needle));
    expect(at('the error screen')).toBeLessThan(at('[file file_'));
    expect(at('[file file_')).toBeLessThan(at('my bank statement'));
    expect(at('my bank statement')).toBeLessThan(at('[file statement.pdf]'));
    expect(at('[file statement.pdf]')).toBeLessThan(at('could not be fetched'));
  }, 60_000);

  it('answers /transcript with the readable transcript and the JSON bundle as a file that verifies with the published key', async () => {
    const chat = nextChat++;
    const from = { id: chat, username: `trader_${chat}`, language_code: 'zh-hans' };
    telegram.userSends(chat, '我的提现一直没到账', { from });
    await vi.waitFor(() => expect(textsTo(chat).length).toBeGreaterThanOrEqual(1), WAIT);
    telegram.userSends(chat, '/transcript', { from });
    const [file] = await vi.waitFor(() => {
      const documents = telegram.documentsTo(chat);
      if (documents.length === 0) throw new Error('no transcript file yet');
      return documents;
    }, WAIT);
    expect(file?.filename).toMatch(/^transcript-[0-9a-f-]{36}\.json$/);
    expect(file?.caption).toContain('可验证的聊天记录');
    // The chat message is what the verified entries say, in the customer's language; the file carries no such text.
    expect(textsTo(chat).some((t) => t.startsWith('✔ 验证通过') && t.includes('我的提现一直没到账'))).toBe(true);
    const bundle = JSON.parse(file?.data.toString('utf8') as string);
    expect(bundle).not.toHaveProperty('readable');
    const publicKey = (await (await fetch(`${running.url}/log/public-key`)).text()).trim();
    const report = await verifyTranscript(bundle, { key: publicKey });
    expect(report.problems).toEqual([]);
    expect(report.turns.find((x) => x.role === 'customer')?.text).toBe('我的提现一直没到账');
    // Altered after download (the customer's words in the committed content), the same file no longer verifies.
    const altered = JSON.parse(JSON.stringify(bundle));
    const entry = altered.entries.find(
      (e: { content?: { bytes: string } }) => e.content && Buffer.from(e.content.bytes, 'base64').toString('utf8').includes('我的提现一直没到账'),
    );
    entry.content.bytes = Buffer.from(Buffer.from(entry.content.bytes, 'base64').toString('utf8').replace('我的提现一直没到账', '我的提现已经到账')).toString(
      'base64',
    );
    expect((await verifyTranscript(altered, { key: publicKey })).problems.map((p) => p.code)).toEqual(['content_altered']);
    // Sent once, even though the outbox may retry: one file per /transcript.
    await new Promise((r) => setTimeout(r, 200));
    expect(telegram.documentsTo(chat)).toHaveLength(1);
  }, 60_000);

  it("in a group sends no transcript there: the member gets a link, and in the private chat only that member gets the group conversation's transcript", async () => {
    const group = { id: -nextChat++, type: 'supergroup' as const, title: 'Traders' };
    const member = nextChat++;
    const other = nextChat++;
    const from = { id: member, username: `trader_${member}`, language_code: 'en' };
    telegram.userSends(group, '@examplex_support_bot How do I reset my password? my mail is alice@example.org', { from });
    telegram.userSends(group, '/transcript', { from });
    const link = await vi.waitFor(() => {
      const m = telegram.sentTo(group.id).find((x) => x.text.includes('?start='));
      if (!m) throw new Error('no link yet');
      return m;
    }, WAIT);
    expect(link.text).toMatch(/^Your transcript is personal, so I'll send it to you in a private chat\. Open https:\/\/t\.me\/examplex_support_bot\?start=/);
    const payload = /\?start=([A-Za-z0-9_-]+)/.exec(link.text)?.[1] as string;
    expect(payload.length).toBeLessThanOrEqual(64);
    expect(telegram.documentsTo(group.id)).toHaveLength(0);
    expect(textsTo(group.id).join('\n')).not.toMatch(/alice@example\.org|Conversation transcript/);

    // Anyone else who got hold of the link opens nothing, and the attempt is recorded.
    telegram.userSends(other, `/start ${payload}`, { from: { id: other, language_code: 'en' } });
    await vi.waitFor(() => expect(textsTo(other).some((t) => t.includes('made for another member'))).toBe(true), WAIT);
    expect(telegram.documentsTo(other)).toHaveLength(0);
    expect(textsTo(other).join('\n')).not.toContain('alice@example.org');

    telegram.userSends(member, `/start ${payload}`, { from });
    const [file] = await vi.waitFor(() => {
      const documents = telegram.documentsTo(member);
      if (documents.length === 0) throw new Error('no transcript file yet');
      return documents;
    }, WAIT);
    const bundle = JSON.parse(file?.data.toString('utf8') as string);
    const publicKey = (await (await fetch(`${running.url}/log/public-key`)).text()).trim();
    const check = await verifyTranscript(bundle, { key: publicKey });
    expect(check.problems).toEqual([]);
    expect(check.turns.some((x) => x.role === 'customer' && (x.text ?? '').includes('How do I reset my password?'))).toBe(true);
    const denied = await fetch(`${running.url}/api/admin/security-events?type=access_denied`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(JSON.stringify(await denied.json())).toContain('telegram_link_of_another_user');
  }, 60_000);

  it("in a group takes a request for a human to a private chat, in the member's language: escalated there after Start, and the agent's reply reaches the member privately, never the group", async () => {
    const group = { id: -nextChat++, type: 'supergroup' as const, title: 'Traders' };
    const member = nextChat++;
    const from = { id: member, username: `trader_${member}`, language_code: 'zh-hans' };
    telegram.userSends(group, '@examplex_support_bot 我的账户被盗了，资金被转走了', { from });
    const link = await vi.waitFor(() => {
      const m = telegram.sentTo(group.id).find((x) => x.text.includes('?start='));
      if (!m) throw new Error('no link yet');
      return m;
    }, WAIT);
    expect(link.text).toContain('人工客服将在您与我的私聊中继续处理');
    const payload = /\?start=([A-Za-z0-9_-]+)/.exec(link.text)?.[1] as string;
    // Nothing is escalated from the group: no thread for it.
    await new Promise((r) => setTimeout(r, 300));
    expect(rootFor(`@trader_${member}`)).toBeUndefined();

    telegram.userSends(member, `/start ${payload}`, { from });
    const root = await waitForRoot(member);
    expect(root.text).toMatch(/URGENT/);
    expect(JSON.stringify(root.blocks)).toContain('raised in Telegram group');
    await slack.userReplies(CHANNEL, root.ts, 'UALICE', '您好，我是 Alice，正在处理。');
    await vi.waitFor(() => expect(textsTo(member)).toContain('Alice:\n您好，我是 Alice，正在处理。'), WAIT);
    expect(textsTo(group.id).join('\n')).not.toContain('Alice');
  }, 60_000);

  it('answers /verify against the configured official channels, in the customer language', async () => {
    const en = nextChat++;
    telegram.userSends(en, '/verify @ExampleXSupportBot', { from: { id: en, language_code: 'en' } });
    await vi.waitFor(() => expect(textsTo(en).some((t) => /^✅ @ExampleXSupportBot is an official .+ Telegram/.test(t))).toBe(true), WAIT);
    telegram.userSends(en, '/verify https://examplex-support.example/login', { from: { id: en, language_code: 'en' } });
    await vi.waitFor(() => expect(textsTo(en).some((t) => t.startsWith('❌ https://examplex-support.example/login is NOT an official'))).toBe(true), WAIT);
    telegram.userSends(en, '/verify', { from: { id: en, language_code: 'en' } });
    await vi.waitFor(() => expect(textsTo(en).some((t) => t.startsWith('Usage: /verify'))).toBe(true), WAIT);

    const zh = nextChat++;
    telegram.userSends(zh, '/verify @ExampleXSupp0rtBot', { from: { id: zh, language_code: 'zh-hans' } });
    await vi.waitFor(() => {
      const answer = textsTo(zh).find((t) => t.startsWith('❌ @ExampleXSupp0rtBot'));
      expect(answer).toMatch(/不是.*模仿官方的 @examplexsupportbot/is);
    }, WAIT);
  }, 60_000);
});
