import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPgChannelOutbox, createPgUpdateInbox } from '../../src/adapters/postgres/pg-telegram-store.js';
import { createPgHandoffStore } from '../../src/adapters/postgres/pg-handoff-store.js';
import { createTelegramChannel, type TelegramChannel } from '../../src/adapters/telegram/telegram-channel.js';
import type { Turn } from '../../src/core/index.js';
import { type FakeTelegram, type SentMessage, startFakeTelegram } from '../stand-ins/fake-telegram.js';
import { testEngines } from '../support/databases.js';
import { createTestHelpdesk, silentLogger } from '../support/helpdesk.js';

type Json = Record<string, any>;
const FAST = { retryBaseMs: 20, retryMaxMs: 200, pollIntervalMs: 50, handleRetryMs: 20, leaseMs: 5_000, sendTimeoutMs: 3_000 };

describe.each(testEngines())('conversing like a first-line agent on %s', (engine) => {
  let t: Awaited<ReturnType<typeof createTestHelpdesk>>;
  beforeAll(async () => {
    t = await createTestHelpdesk(engine, { desk: { hours: '24/7', minutesPerConversation: 10 } });
  });
  afterAll(() => t.drop());

  async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: Json }> {
    const res = await t.app.request(path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Json };
  }
  async function open(language?: 'zh' | 'en') {
    const res = await call('POST', '/api/conversations', language ? { language } : {});
    return res.json as { id: string; token: string; turns: Json[] };
  }
  const say = (c: { id: string; token: string }, body: Json) => call('POST', `/api/conversations/${c.id}/messages`, body, c.token);

  describe('on the web API', () => {
    it('answers the question that follows a greeting instead of handing off', async () => {
      const c = await open('zh');
      const hello = await say(c, { text: '你好' });
      expect(hello.status).toBe(201);
      expect(hello.json.state).toBe('bot');
      expect(hello.json.turns.map((x: Json) => x.kind)).toEqual(['message', 'notice']);
      expect(hello.json.turns[1].text).toMatch(/您好/);
      const question = await say(c, { text: '我的提现一直没到账' });
      expect(question.json.outcome).toBe('answered');
      expect(question.json.state).toBe('bot');
      expect(question.json.turns[1].kind).toBe('answer');
      expect(question.json.turns[1].citations[0].id).toBe('withdrawal-pending-zh');
      // Recorded with the act, for analytics.
      const stored = await t.helpdesk.turns(c.id, 0);
      expect(stored.filter((x) => x.data.dialogueAct === 'greeting').map((x) => x.role)).toEqual(['customer', 'bot']);
    });

    it('switches language when the customer types /lang zh, as the widget switch does, and answers in it', async () => {
      const c = await open('en');
      const typed = await say(c, { text: '/lang zh' });
      expect(typed.status).toBe(201);
      expect(typed.json.turns.map((x: Json) => x.role)).toEqual(['customer', 'bot']);
      expect(typed.json.turns[1].text).toMatch(/[\u4e00-\u9fff]/);
      const history = await call('GET', `/api/conversations/${c.id}/messages`, undefined, c.token);
      expect(history.json.language).toBe('zh');
      // Not a question to look up: nothing was answered from the knowledge base.
      expect(typed.json.turns.some((x: Json) => x.kind === 'answer')).toBe(false);
    });

    it('reads a short follow-up in the context of the question just answered', async () => {
      const c = await open('zh');
      const first = await say(c, { text: '换手机了谷歌验证器没了，登不上去' });
      expect(first.json.turns[1].citations[0].id).toBe('2fa-lost-zh');
      // Alone, this reads as the identity-verification review; after that answer it is the 2FA reset's.
      const followUp = await say(c, { text: '要多久能审核完' });
      expect(followUp.json.outcome).toBe('answered');
      expect(followUp.json.turns[1].citations[0].id).toBe('2fa-lost-zh');
      // A new question of its own is not pulled back to the previous topic.
      const other = await say(c, { text: '提现手续费是多少' });
      expect(other.json.turns[1].citations[0].id).not.toBe('2fa-lost-zh');
    });

    it('answers a correction as the corrected question, not with the entry taken back', async () => {
      const c = await open('en');
      const first = await say(c, { text: 'my deposit hasnt arrived' });
      expect(first.json.turns[1].citations[0].id).toBe('deposit-not-credited-en');
      const corrected = await say(c, { text: 'sorry i meant my withdrawal, not deposit' });
      expect(corrected.json.outcome).toBe('answered');
      expect(corrected.json.turns[1].citations[0].id).toBe('withdrawal-pending-en');
      const hant = await open('zh');
      await say(hant, { text: '入金沒到' });
      const swapped = await say(hant, { text: '不好意思，我是說出金，不是入金' });
      expect(swapped.json.turns[1].citations[0].id).toBe('withdrawal-pending-zh');
    });

    it('answers a greeting with a question in it as the question', async () => {
      const c = await open('en');
      const res = await say(c, { text: 'hi, my withdrawal failed' });
      expect(res.json.outcome).toBe('answered');
      expect(res.json.turns[1].citations[0].id).toBe('withdrawal-failed-en');
    });

    it('thanks after an answer gets a reply and stays with the bot', async () => {
      const c = await open('en');
      await say(c, { text: 'How do I reset my password?' });
      const thanks = await say(c, { text: 'thanks!' });
      expect(thanks.json.state).toBe('bot');
      expect(thanks.json.turns.map((x: Json) => x.kind)).toEqual(['message', 'notice']);
      expect(thanks.json.turns.some((x: Json) => x.kind === 'escalation')).toBe(false);
      expect(thanks.json.turns[1].text).toMatch(/welcome/i);
    });

    it('replies calmly to a first insult and hands a second one to a human with its own reason', async () => {
      const c = await open('en');
      const first = await say(c, { text: 'stupid bot' });
      expect(first.json.state).toBe('bot');
      expect(first.json.turns[1].text).toMatch(/sorry/i);
      const second = await say(c, { text: 'you are useless garbage' });
      expect(second.json.outcome).toBe('escalated');
      expect(second.json.turns.find((x: Json) => x.kind === 'escalation').escalation.reason).toBe('repeated_abuse');
    });

    it('offers the closest entries when unsure, and answers with the one the customer picks', async () => {
      const c = await open('zh');
      const vague = await say(c, { text: '提现有问题' });
      expect(vague.json.outcome).toBe('clarified');
      expect(vague.json.state).toBe('bot');
      const clarify = vague.json.turns.find((x: Json) => x.kind === 'clarify');
      expect(clarify.choices.length).toBeGreaterThan(0);
      expect(clarify.choices.length).toBeLessThanOrEqual(3);
      expect(clarify.noneLabel).toBe('都不是：转人工客服');
      const picked = clarify.choices.find((x: Json) => x.entryId === 'withdrawal-failed-zh') ?? clarify.choices[0];
      const answered = await say(c, { choice: { entryId: picked.entryId } });
      expect(answered.json.outcome).toBe('answered');
      expect(answered.json.turns.map((x: Json) => x.kind)).toEqual(['choice', 'answer']);
      expect(answered.json.turns[0].text).toBe(picked.title);
      expect(answered.json.turns[1].citations[0].id).toBe(picked.entryId);
      // The pick is recorded with the question it answers: the knowledge base can learn from it.
      const stored = await t.helpdesk.turns(c.id, 0);
      const question = stored.find((x) => x.role === 'customer' && x.text === '提现有问题') as Turn;
      expect(stored.find((x) => x.kind === 'choice')?.data.choice).toEqual({ entryId: picked.entryId, questionSeq: question.seq });
    });

    it('hands off with low_confidence when the customer picks none of the choices', async () => {
      const c = await open('en');
      const vague = await say(c, { text: 'how does the referral program work' });
      expect(vague.json.outcome).toBe('clarified');
      const none = await say(c, { choice: { entryId: null } });
      expect(none.json.outcome).toBe('escalated');
      expect(none.json.turns.find((x: Json) => x.kind === 'escalation').escalation.reason).toBe('low_confidence');
    });

    it('hands off with low_confidence on the second miss in a row', async () => {
      const c = await open('en');
      expect((await say(c, { text: 'how does the referral program work' })).json.outcome).toBe('clarified');
      const second = await say(c, { text: 'what is the max leverage on margin trading' });
      expect(second.json.outcome).toBe('escalated');
      expect(second.json.turns.find((x: Json) => x.kind === 'escalation').escalation.reason).toBe('low_confidence');
    });

    it('answers a pick that no open choice offers politely, and refuses a malformed one', async () => {
      const c = await open('en');
      const stale = await say(c, { choice: { entryId: 'password-reset-en' } });
      expect(stale.status).toBe(201);
      expect(stale.json.turns.map((x: Json) => x.kind)).toEqual(['notice']);
      expect(stale.json.turns[0].text).toMatch(/no longer available/);
      expect((await say(c, { choice: { entryId: 42 } })).status).toBe(400);
      expect((await say(c, { choice: { entryId: 'x' }, text: 'hi' })).status).toBe(400);
    });

    it('writes to a Traditional Chinese customer in Traditional Chinese, and remembers it', async () => {
      const c = await open('zh');
      const first = await say(c, { text: '請問提幣一直沒到帳怎麼辦' });
      expect(first.json.turns[1].kind).toBe('answer');
      expect(first.json.turns[1].text).not.toMatch(/[们这账币]/);
      // 你好 is written the same in both scripts: the conversation keeps Traditional.
      const hello = await say(c, { text: '你好' });
      expect(hello.json.turns[1].text).toContain('請');
    });
  });

  describe('while waiting for a human', () => {
    it('acknowledges the first message once, then a second request for a human, and takes the customer back on request', async () => {
      const handoffs = createPgHandoffStore(t.database.db);
      const desk = t.desk as NonNullable<typeof t.desk>;
      const c = await open('en');
      expect((await say(c, { text: 'talk to a human' })).json.outcome).toBe('escalated');
      await desk.openEscalations();
      const first = await say(c, { text: 'my order is 12345' });
      expect(first.json.outcome).toBe('forwarded');
      expect(first.json.turns.map((x: Json) => x.kind)).toEqual(['message', 'notice']);
      expect(first.json.turns[1].actions.map((a: Json) => a.id)).toEqual(['bot']);
      const second = await say(c, { text: 'it was yesterday' });
      expect(second.json.turns.map((x: Json) => x.kind)).toEqual(['message']);
      const again = await say(c, { text: 'I want a human' });
      expect(again.json.turns.map((x: Json) => x.kind)).toEqual(['message', 'notice']);
      expect(again.json.turns[1].text).toMatch(/already in the queue/);
      expect(again.json.turns.some((x: Json) => x.kind === 'escalation')).toBe(false);
      const back = await say(c, { action: 'bot' });
      expect(back.json.state).toBe('bot');
      expect(back.json.turns[0]).toMatchObject({ kind: 'action', role: 'customer' });
      expect((await handoffs.find(c.id))?.open).toBe(false);
      const answered = await say(c, { text: 'How do I reset my password?' });
      expect(answered.json.outcome).toBe('answered');
    });

    it('tells a Traditional Chinese customer the wait in Traditional Chinese', async () => {
      const desk = t.desk as NonNullable<typeof t.desk>;
      const c = await open('zh');
      const escalated = await say(c, { text: '我要轉人工客服' });
      expect(escalated.json.outcome).toBe('escalated');
      expect(escalated.json.turns.at(-1).text).toContain('轉接');
      await desk.openEscalations(50);
      const wait = (await t.helpdesk.turns(c.id, 0)).find((x) => x.kind === 'handoff' && x.data.handoff === 'waiting') as Turn;
      expect(wait.text).toContain('預計');
      expect(wait.text).not.toContain('预计');
      const ack = await say(c, { text: '好的' });
      expect(ack.json.turns[1].text).toContain('繼續問機器人');
    });

    it('tells the queue position urgent-first and stays silent once an agent claimed', async () => {
      const desk = t.desk as NonNullable<typeof t.desk>;
      // Many normal cases wait; an urgent one comes after them.
      for (let i = 0; i < 5; i++) {
        const waiting = await open('en');
        await say(waiting, { text: 'talk to a human' });
      }
      const c = await open('en');
      const urgent = await say(c, { text: 'someone logged into my account and withdrew my funds' });
      expect(urgent.json.turns.find((x: Json) => x.kind === 'escalation').escalation.priority).toBe('urgent');
      await desk.openEscalations(50);
      const stored = await t.helpdesk.turns(c.id, 0);
      const wait = stored.find((x) => x.kind === 'handoff' && x.data.handoff === 'waiting') as Turn;
      expect(wait.text).toMatch(/^Urgent cases are handled first: a human agent should reply in about (10|20) minutes/);
      const status = await desk.status(c.id, 'en');
      expect(status?.urgent).toBe(true);
      expect(status?.position).toBeLessThanOrEqual(2);

      await desk.claim(c.id, { agent: { id: 'U1', name: 'Alice' }, externalKey: `claim:${c.id}` });
      const after = await say(c, { text: 'hello? anyone?' });
      expect(after.json.turns.map((x: Json) => x.kind)).toEqual(['message']);
    });
  });

  describe('on Telegram through telegraf', () => {
    let fake: FakeTelegram;
    let channel: TelegramChannel | undefined;
    let chat = 9100;
    afterEach(async () => {
      await channel?.stop();
      channel = undefined;
      await fake?.close();
    });
    async function polling() {
      fake = await startFakeTelegram({ maxHoldMs: 300 });
      channel = createTelegramChannel({
        token: fake.token,
        apiRoot: fake.apiRoot,
        helpdesk: t.helpdesk,
        inbox: createPgUpdateInbox(t.database.db),
        outbox: createPgChannelOutbox(t.database.db),
        logger: silentLogger,
        exchangeName: 'ExampleX',
        tuning: FAST,
      });
      await channel.start();
    }

    it('greets back, then answers the question that follows', async () => {
      await polling();
      const id = chat++;
      fake.userSends(id, '你好', { from: { language_code: 'zh-hans' } });
      await fake.waitFor(() => fake.sentTo(id).some((m) => m.text.includes('请问有什么可以帮您')), 15_000, 'the greeting reply');
      fake.userSends(id, '我的提现一直没到账', { from: { language_code: 'zh-hans' } });
      await fake.waitFor(() => fake.sentTo(id).some((m) => m.text.includes('来源：')), 15_000, 'the answer');
      const turns = await t.helpdesk.turns((await t.helpdesk.startConversation({ channel: 'telegram', externalId: String(id) })).conversation.id, 0);
      expect(turns.some((x) => x.kind === 'escalation')).toBe(false);
    });

    it('offers choices as an inline keyboard, answers the callback query, closes the keyboard and records the pick', async () => {
      await polling();
      const id = chat++;
      fake.userSends(id, 'problem with withdrawal', { from: { language_code: 'en' } });
      await fake.waitFor(
        () => fake.sentTo(id).some((m) => m.replyMarkup?.inline_keyboard?.some((row) => row[0]?.callback_data?.startsWith('choose:'))),
        15_000,
        'the choices',
      );
      const offer = fake.sentTo(id).find((m) => m.replyMarkup?.inline_keyboard?.some((row) => row[0]?.callback_data?.startsWith('choose:'))) as SentMessage;
      const rows = offer.replyMarkup?.inline_keyboard ?? [];
      expect(rows.at(-1)?.[0]).toEqual({ text: 'None of these: talk to a human', callback_data: 'choose:none' });
      const pick = rows[0]?.[0] as { text: string; callback_data: string };
      const click = fake.userClicks(offer, pick.callback_data);
      await fake.waitFor(() => fake.callbackAnswered(click.callbackQueryId), 10_000, 'the callback query answered');
      await fake.waitFor(() => fake.sentTo(id).some((m) => m.text.includes('Source:')), 15_000, 'the answer of the pick');
      await fake.waitFor(() => (offer.replyMarkup?.inline_keyboard ?? []).length === 0, 10_000, 'the keyboard closed');
      const conversation = (await t.helpdesk.startConversation({ channel: 'telegram', externalId: String(id) })).conversation;
      const turns = await t.helpdesk.turns(conversation.id, 0);
      const choice = turns.find((x) => x.kind === 'choice') as Turn;
      expect(choice.data.choice?.entryId).toBe(pick.callback_data.slice('choose:'.length));
      expect(choice.data.choice?.questionSeq).toBe(turns.find((x) => x.role === 'customer' && x.text === 'problem with withdrawal')?.seq);
      expect(turns.at(-1)?.data.citations?.[0]?.id).toBe(choice.data.choice?.entryId);
    });

    it('answers a forged or stale choice politely and keeps working', async () => {
      await polling();
      const id = chat++;
      fake.userSends(id, 'hello', { from: { language_code: 'en' } });
      await fake.waitFor(() => fake.sentTo(id).length >= 2, 15_000, 'the greeting');
      const message = fake.sentTo(id).at(-1) as SentMessage;
      const forged = fake.userClicks(message, 'choose:no-such-entry');
      await fake.waitFor(() => fake.callbackAnswered(forged.callbackQueryId), 10_000, 'the forged query answered');
      await fake.waitFor(() => fake.sentTo(id).some((m) => m.text.includes('no longer available')), 15_000, 'the polite reply');
      const garbage = fake.userClicks(message, 'choose:../../etc/passwd\u0000');
      await fake.waitFor(() => fake.callbackAnswered(garbage.callbackQueryId), 10_000, 'the malformed query answered');
      fake.userSends(id, 'How do I reset my password?', { from: { language_code: 'en' } });
      await fake.waitFor(() => fake.sentTo(id).some((m) => m.text.includes('Source:')), 15_000, 'an answer after the forged clicks');
    });
  });
});
