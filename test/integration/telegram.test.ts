import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/adapters/postgres/db/database.js';
import { createPgChannelOutbox, createPgUpdateInbox, openPayload, updateContext } from '../../src/adapters/postgres/stores/pg-telegram-store.js';
import { createTelegramChannel, type TelegramChannel, type TelegramHelpdesk, type TelegramTuning } from '../../src/adapters/telegram/telegram-channel.js';
import type { Answerer, Turn } from '../../src/core/index.js';
import { sql } from 'drizzle-orm';
import { type FakeTelegram, type SentMessage, startFakeTelegram } from '../stand-ins/fake-telegram.js';
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { testEngines } from '../support/databases.js';
import { seededMnemonic } from '../support/mnemonics.js';
import { createTestHelpdesk, silentLogger } from '../support/helpdesk.js';

const FAST = { retryBaseMs: 20, retryMaxMs: 200, pollIntervalMs: 50, handleRetryMs: 20, leaseMs: 5_000, sendTimeoutMs: 3_000 };
const SECRET = 'test-webhook-secret_123';
let nextChat = 5000;
const newChat = () => nextChat++;

/** An answerer standing in for the model: returns whatever the test scripted for the next question. */
function createScriptedAnswerer() {
  const script: string[] = [];
  const answerer: Answerer = {
    id: 'scripted',
    async answer(request) {
      const text = script.shift();
      const first = request.entries[0];
      if (!first) return { kind: 'no_answer' };
      return { kind: 'answer', text: text ?? first.body, citedIds: [first.id] };
    },
  };
  return { answerer, script };
}

/** Polls an asynchronous condition (database state written just after a reply was sent). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(testEngines())('Telegram channel through telegraf on %s', (engine) => {
  let t: Awaited<ReturnType<typeof createTestHelpdesk>>;
  const scripted = createScriptedAnswerer();
  let fake: FakeTelegram;
  const running: TelegramChannel[] = [];
  const servers: Array<ReturnType<typeof serve>> = [];

  beforeAll(async () => {
    t = await createTestHelpdesk(engine, { answerer: scripted.answerer });
  });
  afterAll(() => t.drop());
  afterEach(async () => {
    for (const channel of running.splice(0)) await channel.stop();
    for (const server of servers.splice(0)) await new Promise((r) => server.close(r));
    await fake?.close();
    scripted.script.length = 0;
  });

  type ChannelOptions = Pick<Parameters<typeof createTelegramChannel>[0], 'inbox' | 'storeReachable' | 'soleSender'>;
  function startChannel(options: { helpdesk?: TelegramHelpdesk; webhookUrl?: string; tuning?: Partial<TelegramTuning> } & Partial<ChannelOptions> = {}) {
    const channel = createTelegramChannel({
      token: fake.token,
      apiRoot: fake.apiRoot,
      ...(options.webhookUrl ? { webhook: { url: options.webhookUrl, secretToken: SECRET } } : {}),
      ...(options.storeReachable ? { storeReachable: options.storeReachable } : {}),
      ...(options.soleSender ? { soleSender: true } : {}),
      helpdesk: options.helpdesk ?? t.helpdesk,
      inbox: options.inbox ?? createPgUpdateInbox(t.database),
      outbox: createPgChannelOutbox(t.database),
      logger: process.env.TG_DEBUG ? { ...console, debug() {} } : silentLogger,
      exchangeName: 'ExampleX',
      tuning: { ...FAST, ...options.tuning },
    });
    running.push(channel);
    return channel;
  }

  async function polling(options: { helpdesk?: TelegramHelpdesk; maxHoldMs?: number } & Partial<ChannelOptions> = {}) {
    fake = await startFakeTelegram({ maxHoldMs: options.maxHoldMs ?? 300 });
    const channel = startChannel(options);
    await channel.start();
    return channel;
  }

  /** One webhook URL in front of several instances (a load balancer): `route` picks the handler of each call by its number. */
  async function behindOneUrl(route: (call: number) => ((request: Request) => Promise<Response>) | undefined): Promise<string> {
    let calls = 0;
    const app = new Hono();
    app.post('/telegram/webhook', (c) => route(calls++)?.(c.req.raw) ?? c.text('not ready', 503));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/telegram/webhook`;
  }

  /**
   * Instances in webhook mode behind one URL, started, once the webhook is set: `route` picks the
   * handler of each call by its number (an instance's handleWebhook, or a stand-in for one).
   */
  async function webhookInstances(
    options: Array<Parameters<typeof startChannel>[0]>,
    route: (call: number, instances: TelegramChannel[]) => ((request: Request) => Promise<Response>) | undefined,
  ) {
    fake = await startFakeTelegram();
    const instances: TelegramChannel[] = [];
    const url = await behindOneUrl((call) => route(call, instances));
    instances.push(...options.map((o) => startChannel({ ...o, webhookUrl: url })));
    for (const instance of instances) await instance.start();
    await fake.waitFor(() => fake.webhookInfo() !== undefined, 10_000, 'setWebhook');
    return { instances, url };
  }

  async function webhook() {
    const { instances, url } = await webhookInstances([{}], (_, [channel]) => channel?.handleWebhook);
    return { channel: instances[0] as TelegramChannel, url };
  }

  /** The test helpdesk with its customer-input handling wrapped (to make it throw or wait). */
  function helpdeskWith(wrap: TelegramHelpdesk['handleCustomerInput']): TelegramHelpdesk {
    return { ...t.helpdesk, recordCustomerTurn: t.helpdesk.recordCustomerTurn, startConversation: t.helpdesk.startConversation, handleCustomerInput: wrap };
  }

  /** Waits until Telegram got 200 for the update (it then sends the chat's next one). */
  const accepted = (updateId: number) =>
    fake.waitFor(() => fake.webhookDeliveries.some((d) => d.updateId === updateId && d.status === 200), 10_000, `update ${updateId} accepted`);

  const answersTo = (chatId: number) => fake.sentTo(chatId).filter((m) => m.text.includes('Source:') || m.text.includes('来源：'));
  const waitSent = (chatId: number, count: number, what = `${count} messages to ${chatId}`) =>
    fake.waitFor(() => fake.sentTo(chatId).length >= count, 15_000, what);
  async function turnsOf(externalId: string): Promise<Turn[]> {
    const { conversation } = await t.conversations.open({ channel: 'telegram', externalId, language: 'en', tokenHash: null });
    return t.helpdesk.turns(conversation.id, 0);
  }
  async function outboxRows(chatId: number) {
    return queryRows<{ status: string; attempts: number }>(
      t.database.db,
      sql`SELECT status, attempts FROM channel_outbox WHERE chat_id = ${String(chatId)} ORDER BY id`,
    );
  }

  it('answers a Chinese question in Chinese, naming the entry it used, with the two buttons', async () => {
    await polling();
    const chat = newChat();
    fake.userSends(chat, '我的提现一直没到账', { from: { language_code: 'zh-hans' } });
    await fake.waitFor(() => answersTo(chat).length === 1, 15_000, 'a Chinese answer');
    const answer = answersTo(chat)[0] as SentMessage;
    expect(answer.text).toMatch(/来源：.*\p{Script=Han}/u);
    expect(answer.parseMode).toBe('HTML');
    expect(answer.replyMarkup?.inline_keyboard?.[0]?.map((b) => b.text)).toEqual(['已解决', '转人工']);
    // The greeting came first, in Chinese, with the scam warning.
    expect(fake.sentTo(chat)[0]?.text).toContain('私钥');
    const turns = await turnsOf(String(chat));
    expect(turns.find((x) => x.kind === 'answer')?.data.citations?.length).toBeGreaterThan(0);
  });

  it('answers an English question in English with its citation', async () => {
    await polling();
    const chat = newChat();
    fake.userSends(chat, 'How do I reset my password?', { from: { language_code: 'en' } });
    await fake.waitFor(() => answersTo(chat).length === 1, 15_000, 'an English answer');
    const answer = answersTo(chat)[0] as SentMessage;
    expect(answer.text).toMatch(/Source: .*password/i);
    expect(answer.replyMarkup?.inline_keyboard?.[0]?.map((b) => b.text)).toEqual(['This solved it', 'Talk to a human']);
  });

  it('answers a redelivered update once, in polling and in webhook mode', async () => {
    await polling();
    const chat = newChat();
    const { update } = fake.userSends(chat, 'How do I reset my password?');
    await fake.waitFor(() => answersTo(chat).length === 1, 15_000, 'the answer');
    fake.redeliver(update);
    await fake.waitFor(() => fake.pending().length === 0, 10_000, 'the redelivery confirmed');
    const { update: next } = fake.userSends(chat, '/help');
    await fake.waitFor(() => fake.sentTo(chat).some((m) => m.text.includes('/human')), 10_000, 'help after redelivery');
    expect(answersTo(chat)).toHaveLength(1);
    expect((await turnsOf(String(chat))).filter((x) => x.kind === 'answer')).toHaveLength(1);
    expect(next.update_id).toBeGreaterThan(update.update_id);
    await running.pop()?.stop();
    await fake.close();

    await webhook();
    const chat2 = newChat();
    const second = fake.userSends(chat2, 'How do I reset my password?');
    await fake.waitFor(() => answersTo(chat2).length === 1, 15_000, 'the webhook answer');
    fake.redeliver(second.update);
    fake.redeliver(second.update);
    await fake.waitFor(() => fake.webhookDeliveries.filter((d) => d.updateId === second.update.update_id).length === 3, 10_000, 'redeliveries');
    fake.userSends(chat2, '/help');
    await fake.waitFor(() => fake.sentTo(chat2).some((m) => m.text.includes('/human')), 10_000, 'help after redelivery');
    expect(answersTo(chat2)).toHaveLength(1);
    expect(fake.webhookDeliveries.every((d) => d.status === 200)).toBe(true);
  });

  it('delivers a reply refused with 429 after retry_after', async () => {
    await polling();
    const chat = newChat();
    fake.userSends(chat, '/start');
    await waitSent(chat, 2, 'greeting and official channels');
    fake.failNext('sendMessage', { status: 429, retryAfter: 1 });
    fake.userSends(chat, 'How do I reset my password?');
    await fake.waitFor(() => answersTo(chat).length === 1, 15_000, 'the answer after 429');
    await fake.waitFor(() => fake.calls.filter((c) => c.method === 'sendMessage' && c.status === 200).length >= 3, 5_000, 'recorded');
    const sends = fake.calls.filter((c) => c.method === 'sendMessage');
    const refused = sends.findIndex((c) => c.status === 429);
    expect(refused).toBeGreaterThan(-1);
    const retried = sends[refused + 1];
    expect(retried?.status).toBe(200);
    expect((retried?.at ?? 0) - (sends[refused]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(answersTo(chat)).toHaveLength(1);
  });

  it('delivers everything, in order, once the API is back after an outage', async () => {
    await polling();
    const chat = newChat();
    fake.userSends(chat, '/start');
    await waitSent(chat, 2);
    fake.outage(['sendMessage']);
    fake.userSends(chat, 'How do I reset my password?');
    fake.userSends(chat, '/help');
    fake.userSends(chat, '/lang zh');
    await fake.waitFor(() => fake.calls.filter((c) => c.method === 'sendMessage' && c.status === 502).length >= 4, 15_000, 'failed sends');
    expect(fake.sentTo(chat)).toHaveLength(2);
    fake.recover();
    await waitSent(chat, 5, 'all replies after recovery');
    const texts = fake
      .sentTo(chat)
      .slice(2)
      .map((m) => m.text);
    expect(texts[0]).toMatch(/Source:/);
    expect(texts[1]).toContain('/human');
    expect(texts[2]).toContain('中文');
    await eventually(async () => (await outboxRows(chat)).every((r) => r.status === 'sent'), 'all outbox rows sent');
  });

  it("handles a chat's messages in order across two instances behind one webhook URL, while the first is slow on the other", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = helpdeskWith(async (input) => {
      if (input.message?.text.includes('password')) await gate;
      return t.helpdesk.handleCustomerInput(input);
    });
    // The first call reaches instance A (slow on that question), every later one instance B.
    await webhookInstances([{ helpdesk: slow }, {}], (call, instances) => instances[call === 0 ? 0 : 1]?.handleWebhook);

    const chat = newChat();
    const first = fake.userSends(chat, 'How do I reset my password?');
    await accepted(first.update.update_id);
    const second = fake.userSends(chat, '/help');
    await accepted(second.update.update_id);
    // B has stored /help but waits for A: nothing of /help is answered while A is still working.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const sentMeanwhile = fake.sentTo(chat).map((m) => m.text);
    release();
    expect(sentMeanwhile).toEqual([]);
    await fake.waitFor(() => fake.sentTo(chat).some((m) => m.text.includes('/human')), 15_000, 'the /help reply');
    const texts = fake.sentTo(chat).map((m) => m.text);
    const answerAt = texts.findIndex((x) => x.includes('Source:'));
    expect(answerAt).toBeGreaterThanOrEqual(0);
    expect(answerAt).toBeLessThan(texts.findIndex((x) => x.includes('/human')));
    const customerTurns = (await turnsOf(String(chat))).filter((x) => x.role === 'customer').map((x) => x.text);
    expect(customerTurns).toEqual(['How do I reset my password?', '/help']);
  });

  it("takes over a chat's update left unhandled by an instance that died, after the takeover time, then answers the next, each once and in order", async () => {
    const inbox = createPgUpdateInbox(t.database);
    // The instance the first call reaches stores the update, answers 200 and dies before handling it.
    const dies = async (request: Request) => {
      const update = (await request.json()) as { update_id: number; message: { message_id: number; chat: { id: number } } };
      const { message } = update;
      await inbox.record({
        source: `telegram:${fake.botUser.id}`,
        updateId: update.update_id,
        chatId: String(message.chat.id),
        messageId: message.message_id,
        payload: update,
      });
      return new Response(null, { status: 200 });
    };
    const { instances } = await webhookInstances([{ tuning: { chatTakeoverMs: 1_000 } }], (call, [survivor]) => (call === 0 ? dies : survivor?.handleWebhook));
    const survivor = instances[0] as TelegramChannel;

    const chat = newChat();
    const first = fake.userSends(chat, 'How do I reset my password?');
    await accepted(first.update.update_id);
    const storedAt = Date.now();
    fake.userSends(chat, '/help');
    await fake.waitFor(() => fake.sentTo(chat).some((m) => m.text.includes('/human')), 15_000, 'the /help reply');
    // Nothing went out before the takeover time: the survivor first waited for the dead instance.
    expect((fake.sentTo(chat)[0]?.receivedAt ?? 0) - storedAt).toBeGreaterThanOrEqual(900);
    await survivor.idle();
    const texts = fake.sentTo(chat).map((m) => m.text);
    expect(texts.filter((x) => x.includes('Source:'))).toHaveLength(1);
    expect(texts.filter((x) => x.includes('/human'))).toHaveLength(1);
    expect(texts.findIndex((x) => x.includes('Source:'))).toBeLessThan(texts.findIndex((x) => x.includes('/human')));
    const statuses = await queryRows<{ status: string }>(
      t.database.db,
      sql`SELECT status FROM channel_update WHERE chat_id = ${String(chat)} ORDER BY update_id`,
    );
    expect(statuses.map((r) => r.status)).toEqual(['done', 'done']);
  });

  it('keeps in its inbox only ids and the screened message while an update waits, and only the ids once it is handled', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = helpdeskWith(async (input) => {
      await gate;
      return t.helpdesk.handleCustomerInput(input);
    });
    await webhookInstances([{ helpdesk: held }], (_, [channel]) => channel?.handleWebhook);
    const chat = newChat();
    const phrase = seededMnemonic('inbox-payload', english);
    const sent = fake.userSends(chat, `my wallet words are ${phrase}`, { from: { first_name: 'Wei', last_name: 'Zhang', username: 'wei_zhang_88' } });
    await accepted(sent.update.update_id);
    const payloadOf = async () =>
      (await queryRows<{ payload: unknown }>(t.database.db, sql`SELECT payload FROM channel_update WHERE update_id = ${sent.update.update_id}`))[0]?.payload;
    // Stored sealed under the content master key: the words are not in the row, only in what it opens to.
    const stored = JSON.stringify(await payloadOf());
    expect(stored).not.toContain('wallet');
    const waiting = JSON.stringify(openPayload(t.database.contentKeys, await payloadOf(), updateContext(`telegram:${fake.botUser.id}`, sent.update.update_id)));
    expect(waiting).toContain('my wallet words are [recovery phrase removed]');
    expect(waiting).not.toContain(phrase.split(' ').slice(0, 3).join(' '));
    // Not the raw update: no Telegram fields, no first or last name.
    expect(waiting).not.toMatch(/first_name|last_name|"date"|Zhang/);
    release();
    await waitSent(chat, 2);
    await eventually(async () => (await payloadOf()) === null, 'the settled update purged');
    const row = (
      await queryRows<{ status: string; chat_id: string; message_id: string | number }>(
        t.database.db,
        sql`SELECT status, chat_id, message_id FROM channel_update WHERE update_id = ${sent.update.update_id}`,
      )
    )[0];
    expect(row).toMatchObject({ status: 'done', chat_id: String(chat) });
    expect(Number(row?.message_id)).toBe(sent.message.message_id);
    // The ids still recognise a redelivery.
    fake.redeliver(sent.update);
    await accepted(sent.update.update_id);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.sentTo(chat).filter((m) => m.text.includes('removed it'))).toHaveLength(1);
  });

  it('rejects a webhook call with a wrong or missing secret with 403 and stores nothing', async () => {
    const { url } = await webhook();
    const body = JSON.stringify({
      update_id: 99_999_999,
      message: { message_id: 1, date: 0, chat: { id: 42, type: 'private' }, from: { id: 42, is_bot: false, first_name: 'X' }, text: 'hi' },
    });
    const post = (headers: Record<string, string>) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    expect((await post({ 'x-telegram-bot-api-secret-token': 'wrong' })).status).toBe(403);
    expect((await post({})).status).toBe(403);
    const stored = await queryRows(t.database.db, sql`SELECT 1 FROM channel_update WHERE update_id = 99999999`);
    expect(stored).toHaveLength(0);
    expect(fake.webhookDeliveries.every((d) => d.secretHeader === SECRET)).toBe(true);
  });

  it('splits a 6,000-character answer at paragraph boundaries into valid HTML messages', async () => {
    await polling();
    const chat = newChat();
    // Grounded in the entry (the helpdesk refuses ungrounded model text), with HTML/MarkdownV2 characters.
    const entry = (await t.knowledge.listEntries()).find((e) => e.id === 'password-reset-en');
    const words = (entry?.body ?? '')
      .replace(/[^A-Za-z ]+/g, ' ')
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 40)
      .join(' ');
    const paragraph = (i: number) => `Step ${i}: check <b>memo</b> & tag_*[x]* ${words}. ${words}. ${words}.`;
    const long = Array.from({ length: 16 }, (_, i) => paragraph(i)).join('\n\n');
    expect(long.length).toBeGreaterThan(6000);
    scripted.script.push(long);
    fake.userSends(chat, 'How do I reset my password?');
    await fake.waitFor(() => fake.sentTo(chat).some((m) => m.text.includes('Source:')), 15_000, 'the split answer');
    const parts = fake.sentTo(chat).filter((m) => m.text.startsWith('Step'));
    if (process.env.TG_DEBUG)
      console.log(
        fake.sentTo(chat).map((m) => m.text.slice(0, 60)),
        scripted.script.length,
      );
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts[parts.length - 1]?.text).toContain('Source:');
    for (const part of parts.slice(0, -1)) expect(part.text.endsWith(`${words}.`)).toBe(true);
    for (const part of parts) expect(part.text.length).toBeLessThanOrEqual(4096);
    expect(parts[0]?.text.endsWith(`${words}.`)).toBe(true);
    expect(parts.map((p) => p.text).join('\n\n')).toContain(long);
    expect(parts[0]?.text).toContain('<b>memo</b> & tag_*[x]*');
    expect(parts[parts.length - 1]?.replyMarkup?.inline_keyboard).toBeDefined();
    expect(parts[0]?.replyMarkup).toBeUndefined();
  });

  it('keeps polling when handling an update throws, and tells that customer', async () => {
    const throwing = helpdeskWith(async (input) => {
      if (input.message?.text.includes('boom')) throw new Error('handler exploded');
      return t.helpdesk.handleCustomerInput(input);
    });
    await polling({ helpdesk: throwing });
    const chat = newChat();
    fake.userSends(chat, 'boom');
    await fake.waitFor(() => fake.sentTo(chat).some((m) => m.text.includes('went wrong')), 15_000, 'the apology');
    fake.userSends(chat, 'How do I reset my password?');
    await fake.waitFor(() => answersTo(chat).length === 1, 15_000, 'an answer after the failure');
    const failed = await queryRows<{ status: string; attempts: number }>(
      t.database.db,
      sql`SELECT status, attempts FROM channel_update WHERE chat_id = ${String(chat)} ORDER BY update_id LIMIT 1`,
    );
    expect(failed[0]).toMatchObject({ status: 'failed', attempts: 3 });
  });

  it('holds polling while the database does not answer, confirming no update to Telegram before it is stored, then answers each once', async () => {
    // The real inbox, cut off from its database while `down` (as the fault suite does with a real server).
    let down = false;
    const real = createPgUpdateInbox(t.database);
    const inbox = {
      ...real,
      record: (update: Parameters<typeof real.record>[0]) => (down ? Promise.reject(new Error('Connection terminated unexpectedly')) : real.record(update)),
    };
    await polling({ inbox, storeReachable: async () => !down });
    const chat = newChat();
    fake.userSends(chat, '/help');
    await waitSent(chat, 2, 'the first reply');
    down = true;
    const during = [fake.userSends(chat, 'How do I reset my password?').update, fake.userSends(newChat(), '/help').update];
    // Far longer than the update's handling attempts (3, 20 ms apart here): nothing is given up.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(fake.pending().map((u) => u.update_id)).toEqual(during.map((u) => u.update_id));
    down = false;
    await fake.waitFor(() => answersTo(chat).length === 1, 15_000, 'the answer after the outage');
    await fake.waitFor(() => fake.pending().length === 0, 10_000, 'updates confirmed after they were stored');
    const handled = async () =>
      (
        await queryRows<{ n: number }>(
          t.database.db,
          sql`SELECT count(*)::int AS n FROM channel_update WHERE update_id = ANY(${`{${during.map((u) => u.update_id).join(',')}}`}::bigint[]) AND status = 'done'`,
        )
      )[0]?.n === 2;
    await eventually(handled, 'both updates handled');
    expect(answersTo(chat)).toHaveLength(1);
  });

  it('sends at once, on a database only it uses, the replies a killed process had leased (not after the lease)', async () => {
    const first = await polling();
    const chat = newChat();
    fake.userSends(chat, '/help');
    await waitSent(chat, 2, 'the first replies');
    await first.stop();
    running.splice(running.indexOf(first), 1);
    // What a process killed between storing a reply and sending it leaves: the reply leased to it for a minute.
    const inbox = createPgUpdateInbox(t.database);
    const payload = { chat_id: String(chat), text: 'left leased by a killed process' };
    await inbox.settleWithReplies?.(
      'telegram:0',
      0,
      [{ channel: 'telegram', chatId: String(chat), dedupeKey: `killed-${chat}`, method: 'sendMessage', payload }],
      undefined,
      60_000,
    );
    const restarted = startChannel({ soleSender: true });
    const t0 = Date.now();
    await restarted.start();
    await fake.waitFor(() => fake.sentTo(chat).some((m) => m.text === payload.text), 5_000, 'the leased reply');
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(fake.sentTo(chat).filter((m) => m.text === payload.text)).toHaveLength(1);
  });

  it('keeps renewing the lease of a reply Telegram is slow to take, so that another instance does not send it too', async () => {
    const lease = { leaseMs: 600, sendTimeoutMs: 5_000 };
    const { instances } = await webhookInstances([{ tuning: lease }, { tuning: lease }], (_, [first]) => first?.handleWebhook);
    const chat = newChat();
    fake.failNext('sendMessage', { delayMs: 2_000 });
    fake.userSends(chat, '/help');
    await waitSent(chat, 2, 'the replies');
    await Promise.all(instances.map((i) => i.idle()));
    await eventually(async () => (await outboxRows(chat)).every((r) => r.status === 'sent'), 'replies marked sent');
    // Past the slow call's end: had the other instance taken the lease, its copy would be here too.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(fake.sentTo(chat)).toHaveLength(2);
  });

  it('sends replies still pending at shutdown after the restart, each once', async () => {
    const channel = await polling();
    const chat = newChat();
    fake.outage(['sendMessage']);
    fake.userSends(chat, 'How do I reset my password?');
    fake.userSends(chat, '/help');
    await fake.waitFor(() => fake.calls.filter((c) => c.method === 'sendMessage' && c.status === 502).length >= 2, 15_000, 'failed sends');
    await channel.idle();
    await channel.stop();
    running.splice(running.indexOf(channel), 1);
    expect((await outboxRows(chat)).filter((r) => r.status === 'pending').length).toBe(3);
    fake.recover();
    const restarted = startChannel();
    await restarted.start();
    await waitSent(chat, 3, 'pending replies after restart');
    fake.userSends(chat, '/transcript');
    await waitSent(chat, 4, 'the transcript reply');
    const texts = fake.sentTo(chat).map((m) => m.text);
    expect(texts).toHaveLength(4);
    expect(texts[1]).toMatch(/Source:/);
    expect(texts[2]).toContain('/human');
    expect(texts[3]?.length).toBeGreaterThan(0);
  });

  it('records a photo with its file id and its caption as the turn text, and acknowledges it', async () => {
    await polling();
    const chat = newChat();
    fake.userSendsPhoto(chat, 'withdrawal failed screenshot');
    await waitSent(chat, 2);
    expect(fake.sentTo(chat)[1]?.text).toContain('file is saved');
    const turn = (await turnsOf(String(chat))).find((x) => x.kind === 'attachment');
    expect(turn?.text).toBe('[photo] withdrawal failed screenshot');
    expect(turn?.data.attachments?.[0]).toMatchObject({ type: 'photo', fileUniqueId: expect.stringMatching(/^pl/) });
    expect(turn?.data.attachments?.[0]).not.toHaveProperty('caption');
    expect(turn?.data.attachments?.[0]?.fileId).toMatch(/^photo-large-/);
    fake.userSendsDocument(chat, 'statement.pdf');
    fake.userSendsSticker(chat);
    await waitSent(chat, 4);
    expect(fake.sentTo(chat)[3]?.text).toMatch(/can't read stickers/);
    const turns = await turnsOf(String(chat));
    expect(turns.filter((x) => x.kind === 'attachment').map((x) => x.data.attachments?.[0]?.type)).toEqual(['photo', 'document', 'sticker']);
  });

  it('escalates /human with reason customer_requested_human; the button does the same and is answered at once', async () => {
    await polling();
    const chat = newChat();
    fake.userSends(chat, '/human');
    await waitSent(chat, 2);
    const turns = await turnsOf(String(chat));
    expect(turns.find((x) => x.kind === 'escalation')?.escalation?.reason).toBe('customer_requested_human');
    expect(fake.sentTo(chat)[1]?.text).toContain('human agent');

    const chat2 = newChat();
    fake.userSends(chat2, 'How do I reset my password?');
    await fake.waitFor(() => answersTo(chat2).length === 1, 15_000, 'answer');
    const { callbackQueryId } = fake.userClicks(answersTo(chat2)[0] as SentMessage, 'act:human');
    await fake.waitFor(() => fake.callbackAnswered(callbackQueryId), 10_000, 'callback answered');
    await waitSent(chat2, 3);
    expect((await turnsOf(String(chat2))).find((x) => x.kind === 'escalation')?.escalation?.reason).toBe('customer_requested_human');
  });

  it('records an edited message as a new turn that references the original', async () => {
    await polling();
    const chat = newChat();
    const { message, update } = fake.userSends(chat, 'How do I reset my pasword?');
    await fake.waitFor(() => answersTo(chat).length === 1, 15_000, 'answer');
    fake.userEdits(message, 'How do I reset my password?');
    fake.userSends(chat, '/help');
    await fake.waitFor(() => fake.sentTo(chat).some((m) => m.text.includes('/human')), 10_000, 'help');
    const edit = (await turnsOf(String(chat))).find((x) => x.kind === 'edit');
    expect(edit?.text).toBe('How do I reset my password?');
    expect(edit?.data.editOf).toEqual({ externalKey: `tg:${fake.botUser.id}:${update.update_id}`, messageId: message.message_id });
  });

  it('in a group answers only when mentioned or replied to, replying to that message', async () => {
    await polling();
    const group = { id: -newChat(), type: 'supergroup' as const, title: 'Traders' };
    fake.userSends(group, 'How do I reset my password?', { from: { id: 9001 } });
    const mentioned = fake.userSends(group, '@examplex_support_bot How do I reset my password?', { from: { id: 9001 } });
    await fake.waitFor(() => answersTo(group.id).length === 1, 15_000, 'the group answer');
    const answer = answersTo(group.id)[0] as SentMessage;
    expect(answer.replyTo).toBe(mentioned.message.message_id);
    fake.userSends(group, 'and what about 2FA?', { from: { id: 9001 }, replyTo: answer });
    fake.userSends(group, '/help@examplex_support_bot', { from: { id: 9002 } });
    await fake.waitFor(() => fake.sentTo(group.id).some((m) => m.text.includes('/human')), 10_000, 'group help');
    const turns = await turnsOf(`${group.id}:9001`);
    expect(turns.filter((x) => x.role === 'customer').map((x) => x.text)).toEqual(['How do I reset my password?', 'and what about 2FA?']);
  });

  it("in a group sends a member's desk turns (agent replies, handoff notices) to the member's private chat, never to the group", async () => {
    const channel = await polling();
    const group = { id: -newChat(), type: 'supergroup' as const, title: 'Traders' };
    const member = newChat();
    fake.userSends(group, '@examplex_support_bot How do I reset my password?', { from: { id: member } });
    fake.userSends(member, '/help'); // Telegram only delivers to users who started the bot
    await fake.waitFor(() => answersTo(group.id).length === 1 && fake.sentTo(member).length >= 2, 15_000, 'the group answer and the private help');
    await channel.idle();
    const groupSent = fake.sentTo(group.id).length;
    const { conversation: inGroup } = await t.conversations.open({ channel: 'telegram', externalId: `${group.id}:${member}`, language: 'en', tokenHash: null });
    const agentTurn = await t.conversations.append(inGroup.id, [
      {
        role: 'agent',
        kind: 'message',
        text: 'Agent here, checking your account.',
        language: 'en',
        data: { author: 'Dana', agentId: 'UDANA' },
        externalKey: `agent-${member}`,
      },
    ]);
    await channel.customerChannel.deliver(agentTurn.conversation, agentTurn.turns);
    await fake.waitFor(() => fake.sentTo(member).some((m) => m.text.includes('Agent here')), 10_000, 'the agent reply in private');
    expect(fake.sentTo(group.id)).toHaveLength(groupSent);
  });

  it('switches language with /lang and answers /start with the official channels', async () => {
    await polling();
    const chat = newChat();
    fake.userSends(chat, '/start');
    await waitSent(chat, 2);
    expect(fake.sentTo(chat)[1]?.text).toContain('@examplex_support_bot');
    fake.userSends(chat, '/lang zh');
    await waitSent(chat, 3);
    expect(fake.sentTo(chat)[2]?.text).toContain('中文');
    fake.userSends(chat, '/help');
    await waitSent(chat, 4);
    expect(fake.sentTo(chat)[3]?.text).toContain('转人工');
  });

  it('sends desk turns handed to its customer channel once each, in seq order, signed by the agent, internal ones never', async () => {
    const channel = await polling();
    const chat = newChat();
    fake.userSends(chat, '/help'); // Telegram only delivers to chats that wrote to the bot
    await waitSent(chat, 2); // greeting and help
    await channel.idle();
    const before = fake.sentTo(chat).length;
    const { conversation } = await t.helpdesk.startConversation({ channel: 'telegram', externalId: String(chat), language: 'en' });
    const agent = (text: string, key: string, extra: Record<string, unknown> = {}) => ({
      role: 'agent' as const,
      kind: 'message' as const,
      text,
      language: 'en' as const,
      data: { author: 'Dana', agentId: 'UDANA', ...extra },
      externalKey: key,
    });
    const first = await t.conversations.append(conversation.id, [
      agent('First <reply>', `k1-${chat}`),
      agent('secret note', `k2-${chat}`, { internal: true }),
      agent('Second & last', `k3-${chat}`),
    ]);
    // Handed over twice (a crash before the desk recorded the delivery), once concurrently, and out of order.
    await Promise.all([
      channel.customerChannel.deliver(first.conversation, [...first.turns].reverse()),
      channel.customerChannel.deliver(first.conversation, first.turns),
    ]);
    await channel.customerChannel.deliver(first.conversation, first.turns);
    const later = await t.conversations.append(conversation.id, [agent('Third', `k4-${chat}`)]);
    await channel.customerChannel.deliver(later.conversation, later.turns);
    await waitSent(chat, before + 3, 'the three visible desk turns');
    // Messages of a chat go out in order: anything sent twice would have come before "Third".
    expect(
      fake
        .sentTo(chat)
        .slice(before)
        .map((m) => m.text),
    ).toEqual(['Dana:\nFirst <reply>', 'Dana:\nSecond & last', 'Dana:\nThird']);
    expect(fake.sentTo(chat)[before]?.raw).toBe('<b>Dana</b>:\nFirst &lt;reply&gt;');
  });
});
