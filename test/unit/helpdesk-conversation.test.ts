/**
 * The customer's side of the helpdesk (core/helpdesk.ts and core/conversation): the real helpdesk
 * on in-memory fakes of its stores and the starter knowledge base, no database. The same flows run
 * end to end on PGlite and PostgreSQL in test/integration/conversation-flow.test.ts and greeting.test.ts.
 */
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type Answerer,
  type CustomerAction,
  type CustomerChoice,
  type KnowledgeIndex,
  type Language,
  RateLimitedError,
  type Turn,
} from '../../src/core/index.js';
import { createHelpdeskOnFakes, starterKnowledge } from '../support/fakes/helpdesk-on-fakes.js';
import { seededMnemonic } from '../support/mnemonics.js';

type Fakes = Awaited<ReturnType<typeof createHelpdeskOnFakes>>;

/** A web customer of the helpdesk on fakes: what they say, press and pick, and what they got back. */
async function webCustomer(f: Fakes, language?: Language) {
  const started = await f.helpdesk.startConversation({ channel: 'web', language, withToken: true });
  const id = started.conversation.id;
  const send = (input: { text?: string; action?: CustomerAction; choice?: CustomerChoice; externalKey?: string }) =>
    f.helpdesk.handleCustomerInput({
      conversationId: id,
      ...(input.text !== undefined ? { message: f.helpdesk.screen({ text: input.text }) } : {}),
      ...(input.action ? { action: input.action } : {}),
      ...(input.choice ? { choice: input.choice } : {}),
      ...(input.externalKey ? { externalKey: input.externalKey } : {}),
    });
  return {
    id,
    token: started.token as string,
    say: (text: string, externalKey?: string) => send({ text, externalKey }),
    press: (action: CustomerAction) => send({ action }),
    pick: (entryId: string | null) => send({ choice: { entryId } }),
    stored: () => f.helpdesk.turns(id, 0),
  };
}

const kinds = (turns: Turn[]) => turns.map((t) => t.kind);
const cited = (turns: Turn[]) => turns.find((t) => t.kind === 'answer')?.data.citations?.[0]?.id;
const escalationOf = (turns: Turn[]) => turns.find((t) => t.kind === 'escalation')?.escalation;

describe('answering customers', () => {
  let f: Fakes;
  beforeEach(async () => {
    f = await createHelpdeskOnFakes();
  });

  it('answers the question that follows a greeting instead of handing off', async () => {
    const c = await webCustomer(f, 'zh');
    const hello = await c.say('你好');
    expect(hello.outcome).toBe('acknowledged');
    expect(kinds(hello.turns)).toEqual(['message', 'notice']);
    expect(hello.turns[1]?.text).toMatch(/您好/);
    const question = await c.say('我的提现一直没到账');
    expect(question.outcome).toBe('answered');
    expect(question.conversation.state).toBe('bot');
    expect(cited(question.turns)).toBe('withdrawal-pending-zh');
    expect((await c.stored()).filter((t) => t.data.dialogueAct === 'greeting').map((t) => t.role)).toEqual(['customer', 'bot']);
  });

  it('answers a greeting with a question in it as the question', async () => {
    const c = await webCustomer(f, 'en');
    const res = await c.say('hi, my withdrawal failed');
    expect(res.outcome).toBe('answered');
    expect(cited(res.turns)).toBe('withdrawal-failed-en');
  });

  it('cites the entry, its version and its link, and offers the answer buttons', async () => {
    const c = await webCustomer(f, 'en');
    const res = await c.say('How do I reset my password?');
    const answer = res.turns.find((t) => t.kind === 'answer') as Turn;
    expect(answer.answerMode).toBe('offline');
    expect(answer.data.citations?.[0]).toMatchObject({ id: 'password-reset-en', version: 1 });
    expect(answer.data.actions?.map((a) => a.id)).toEqual(expect.arrayContaining(['solved', 'human']));
    expect(answer.data.retrieval?.confidence).toBeGreaterThanOrEqual(0.5);
  });

  it('replies to thanks after an answer and stays with the bot', async () => {
    const c = await webCustomer(f, 'en');
    await c.say('How do I reset my password?');
    const thanks = await c.say('thanks!');
    expect(thanks.conversation.state).toBe('bot');
    expect(kinds(thanks.turns)).toEqual(['message', 'notice']);
    expect(thanks.turns[1]?.text).toMatch(/welcome/i);
  });

  it('replies calmly to a first insult and hands a second one to a human as repeated abuse', async () => {
    const c = await webCustomer(f, 'en');
    const first = await c.say('stupid bot');
    expect(first.conversation.state).toBe('bot');
    expect(first.turns[1]?.text).toMatch(/sorry/i);
    const second = await c.say('you are useless garbage');
    expect(second.outcome).toBe('escalated');
    expect(escalationOf(second.turns)?.reason).toBe('repeated_abuse');
  });

  it('escalates a stolen account at once as urgent, with its reason, and still gives the first steps', async () => {
    const c = await webCustomer(f, 'en');
    const res = await c.say('someone logged into my account and withdrew my funds');
    expect(res.outcome).toBe('escalated');
    expect(escalationOf(res.turns)).toMatchObject({ reason: 'sensitive_topic', priority: 'urgent' });
    expect(res.conversation).toMatchObject({ state: 'escalated', priority: 'urgent', escalationReason: 'sensitive_topic' });
    expect(res.turns.at(-1)?.kind).toBe('escalation');
    expect((await f.conversations.listByState('escalated')).map((x) => x.id)).toEqual([c.id]);
  });

  it('hands a customer who asks for a person to a human without searching', async () => {
    const c = await webCustomer(f, 'en');
    const res = await c.say('talk to a human');
    expect(res.outcome).toBe('escalated');
    expect(escalationOf(res.turns)).toMatchObject({ reason: 'customer_requested_human', priority: 'normal' });
    expect(kinds(res.turns)).toEqual(['message', 'escalation']);
  });

  it('treats "support asked me for my recovery words" as an urgent scam report', async () => {
    const c = await webCustomer(f, 'en');
    const res = await c.say('support asked me for my recovery words, is that normal?');
    expect(escalationOf(res.turns)).toMatchObject({ reason: 'scam_report', priority: 'urgent' });
  });

  it('offers the closest entries when unsure, and answers with the one the customer picks, recording the question it answers', async () => {
    const c = await webCustomer(f, 'zh');
    const vague = await c.say('提现有问题');
    expect(vague.outcome).toBe('clarified');
    const clarify = vague.turns.find((t) => t.kind === 'clarify') as Turn;
    const choices = clarify.data.choices ?? [];
    expect(choices.length).toBeGreaterThan(0);
    expect(choices.length).toBeLessThanOrEqual(3);
    expect(clarify.data.noneLabel).toBe('都不是：转人工客服');
    const picked = choices.find((x) => x.entryId === 'withdrawal-failed-zh') ?? (choices[0] as (typeof choices)[number]);
    const answered = await c.pick(picked.entryId);
    expect(answered.outcome).toBe('answered');
    expect(kinds(answered.turns)).toEqual(['choice', 'answer']);
    expect(answered.turns[0]?.text).toBe(picked.title);
    expect(cited(answered.turns)).toBe(picked.entryId);
    const question = (await c.stored()).find((t) => t.role === 'customer' && t.text === '提现有问题') as Turn;
    expect(answered.turns[0]?.data.choice).toEqual({ entryId: picked.entryId, questionSeq: question.seq });
  });

  it('hands off with low_confidence when the customer picks none of the choices', async () => {
    const c = await webCustomer(f, 'en');
    expect((await c.say('how does the referral program work')).outcome).toBe('clarified');
    const none = await c.pick(null);
    expect(none.outcome).toBe('escalated');
    expect(escalationOf(none.turns)?.reason).toBe('low_confidence');
  });

  it('hands off with low_confidence on the second miss in a row', async () => {
    const c = await webCustomer(f, 'en');
    expect((await c.say('how does the referral program work')).outcome).toBe('clarified');
    const second = await c.say('what is the max leverage on margin trading');
    expect(second.outcome).toBe('escalated');
    expect(escalationOf(second.turns)?.reason).toBe('low_confidence');
  });

  it('answers a pick that no open choice offers politely', async () => {
    const c = await webCustomer(f, 'en');
    const stale = await c.pick('password-reset-en');
    expect(stale.outcome).toBe('acknowledged');
    expect(kinds(stale.turns)).toEqual(['notice']);
    expect(stale.turns[0]?.text).toMatch(/no longer available/);
  });

  it('reads a short follow-up in the context of the question just answered, but not a new question', async () => {
    const c = await webCustomer(f, 'zh');
    expect(cited((await c.say('换手机了谷歌验证器没了，登不上去')).turns)).toBe('2fa-lost-zh');
    const followUp = await c.say('要多久能审核完');
    expect(followUp.outcome).toBe('answered');
    expect(cited(followUp.turns)).toBe('2fa-lost-zh');
    expect(cited((await c.say('提现手续费是多少')).turns)).not.toBe('2fa-lost-zh');
  });

  it('answers a correction as the corrected question, not with the entry taken back', async () => {
    const c = await webCustomer(f, 'en');
    expect(cited((await c.say('my deposit hasnt arrived')).turns)).toBe('deposit-not-credited-en');
    const corrected = await c.say('sorry i meant my withdrawal, not deposit');
    expect(corrected.outcome).toBe('answered');
    expect(cited(corrected.turns)).toBe('withdrawal-pending-en');
  });

  it('writes to a Traditional Chinese customer in Traditional Chinese, and remembers it', async () => {
    const c = await webCustomer(f, 'zh');
    const first = await c.say('請問提幣一直沒到帳怎麼辦');
    expect(first.turns[1]?.kind).toBe('answer');
    expect(first.turns[1]?.text).not.toMatch(/[们这账币]/);
    // 你好 is written the same in both scripts: the conversation keeps Traditional.
    expect((await c.say('你好')).turns[1]?.text).toContain('請');
  });

  it('switches language when asked in words, and keeps the choice over detection', async () => {
    const c = await webCustomer(f, 'zh');
    const switched = await c.say('English please');
    expect(kinds(switched.turns)).toEqual(['language_switch', 'language_switch']);
    expect(switched.conversation).toMatchObject({ language: 'en', languageChosen: true });
    const next = await c.say('提现手续费是多少');
    expect(next.conversation.language).toBe('en');
    expect(next.turns.at(-1)?.language).toBe('en');
  });

  it('answers a repeated delivery of the same message with what was stored the first time, storing nothing more', async () => {
    const c = await webCustomer(f, 'en');
    const first = await c.say('How do I reset my password?', 'web:msg:1');
    const again = await c.say('How do I reset my password?', 'web:msg:1');
    expect(again.outcome).toBe('duplicate');
    expect(again.turns).toEqual(first.turns);
    expect(kinds(await c.stored())).toEqual(['greeting', 'message', 'answer']);
  });

  it('removes a recovery phrase before storing, warns the customer, and records the event by type only', async () => {
    const c = await webCustomer(f, 'en');
    const phrase = seededMnemonic('unit-safety-en', english);
    const res = await c.say(`My withdrawal is stuck, support asked me to verify my wallet: ${phrase}`);
    const [customer, warning] = res.turns;
    expect(customer?.text).toContain('[recovery phrase removed]');
    expect(warning).toMatchObject({ role: 'bot', kind: 'notice', language: 'en' });
    expect(warning?.text).toMatch(/recovery \(seed\) phrase/);
    expect(JSON.stringify(await c.stored())).not.toContain(phrase.split(' ').slice(0, 3).join(' '));
    const events = await f.helpdesk.securityEvents.list({ type: 'secret_removed', conversationId: c.id });
    expect(events.map((e) => e.detail)).toEqual([{ secretTypes: ['recovery_phrase'], count: 1 }]);
  });

  it('answers "is this official?" with the official-channel check instead of an article', async () => {
    const c = await webCustomer(f, 'en');
    const res = await c.say('Is @ExampleXSupport_Official your official account? He says my account is frozen');
    expect(res.turns.at(-1)?.text).toContain('NOT an official');
  });

  it('refuses a wrong conversation token and records the denial', async () => {
    const c = await webCustomer(f, 'en');
    await expect(f.helpdesk.authorize(c.id, 'not-the-token', '203.0.113.0')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(f.helpdesk.authorize(c.id, c.token)).resolves.toMatchObject({ id: c.id });
    const denied = await f.helpdesk.securityEvents.list({ type: 'access_denied' });
    expect(denied[0]).toMatchObject({ conversationId: c.id, detail: { reason: 'wrong_token', count: 1, client: '203.0.113.0' } });
  });
});

describe('limits and failures', () => {
  it('limits each customer politely and records the refusals as one event with their count', async () => {
    const f = await createHelpdeskOnFakes({ rateLimit: { limit: 3, windowMs: 60_000 } });
    const c = await webCustomer(f, 'zh');
    const results = [];
    for (let i = 0; i < 5; i++)
      results.push(
        await c.say(`怎么重置密码 ${i}`).then(
          () => 'ok',
          (e: unknown) => e,
        ),
      );
    expect(results.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
    for (const refused of results.slice(3)) expect(refused).toBeInstanceOf(RateLimitedError);
    const refusal = results[3] as RateLimitedError;
    expect(refusal.userMessage).toContain('请稍候');
    expect(refusal.retryAfterSeconds).toBeGreaterThan(0);
    const limited = await f.helpdesk.securityEvents.list({ type: 'rate_limited', conversationId: c.id });
    expect(limited.map((e) => e.detail.count)).toEqual([2]);
    expect((await c.stored()).filter((t) => t.role === 'customer')).toHaveLength(3);
  });

  it('never sends a model answer that names an unlisted contact: the entry is sent instead and the block recorded', async () => {
    const phishing: Answerer = {
      id: 'gullible-model',
      async answer(request) {
        return { kind: 'answer', text: 'Verify your account at https://examplex-verify.top/login first.', citedIds: request.entries.map((e) => e.id) };
      },
    };
    const f = await createHelpdeskOnFakes({ answerer: phishing });
    const c = await webCustomer(f, 'en');
    const res = await c.say('How do I reset my password?');
    const answer = res.turns.find((t) => t.kind === 'answer') as Turn;
    expect(answer.answerMode).toBe('fallback');
    expect(answer.text).not.toContain('examplex-verify');
    expect(answer.data.citations?.[0]?.id).toBe('password-reset-en');
    const blocked = await f.helpdesk.securityEvents.list({ type: 'outbound_blocked' });
    expect(blocked[0]?.detail).toMatchObject({ reason: 'unlisted_contact', count: 1 });
  });

  it('answers from the entry when the model fails, never leaving the customer without a reply', async () => {
    const down: Answerer = {
      id: 'down-model',
      async answer() {
        throw new Error('model API unreachable');
      },
    };
    const f = await createHelpdeskOnFakes({ answerer: down });
    const res = await (await webCustomer(f, 'en')).say('How do I reset my password?');
    expect(res.outcome).toBe('answered');
    const answer = res.turns.find((t) => t.kind === 'answer') as Turn;
    expect(answer).toMatchObject({ answerMode: 'fallback', data: { error: 'model API unreachable' } });
  });

  it('hands the customer to a human when retrieval fails', async () => {
    const starter = await starterKnowledge();
    const failing: KnowledgeIndex = {
      ...starter,
      search: async () => {
        throw new Error('index unavailable');
      },
    };
    const f = await createHelpdeskOnFakes({ knowledge: failing });
    const res = await (await webCustomer(f, 'en')).say('How do I reset my password?');
    expect(res.outcome).toBe('escalated');
    expect(escalationOf(res.turns)?.reason).toBe('model_failure');
  });
});

describe('greeting a channel customer with their first message', () => {
  let f: Fakes;
  beforeEach(async () => {
    f = await createHelpdeskOnFakes();
  });

  it('stores the greeting, the first message and the reply in one append, greeting first, and greets only once', async () => {
    const started = await f.helpdesk.startConversation({ channel: 'telegram', externalId: 'greet-1', language: 'en', greetWithFirstTurn: true });
    expect(started).toMatchObject({ isNew: true, turns: [] });
    const outcome = await f.helpdesk.handleCustomerInput({
      conversationId: started.conversation.id,
      message: f.helpdesk.screen({ text: 'How do I reset my password?' }),
      created: { conversation: started.conversation, turns: started.turns },
    });
    expect(outcome.turns.map((t) => [t.seq, t.kind])).toEqual([
      [1, 'greeting'],
      [2, 'message'],
      [3, 'answer'],
    ]);
    const again = await f.helpdesk.startConversation({ channel: 'telegram', externalId: 'greet-1', language: 'en', greetWithFirstTurn: true });
    expect(again.isNew).toBe(false);
    const next = await f.helpdesk.handleCustomerInput({
      conversationId: again.conversation.id,
      message: f.helpdesk.screen({ text: 'what are your trading fees' }),
    });
    expect(kinds(next.turns)).not.toContain('greeting');
  });

  it('greets on the next update a conversation whose first input stored nothing', async () => {
    const first = await f.helpdesk.startConversation({ channel: 'telegram', externalId: 'greet-2', language: 'en', greetWithFirstTurn: true });
    await expect(
      f.helpdesk.handleCustomerInput({
        conversationId: first.conversation.id,
        message: f.helpdesk.screen({ text: '' }),
        created: { conversation: first.conversation, turns: [] },
      }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await f.helpdesk.turns(first.conversation.id, 0)).toEqual([]);
    const second = await f.helpdesk.startConversation({ channel: 'telegram', externalId: 'greet-2', language: 'en', greetWithFirstTurn: true });
    expect(second.isNew).toBe(true);
    const outcome = await f.helpdesk.recordCustomerTurn({
      conversationId: second.conversation.id,
      kind: 'attachment',
      message: f.helpdesk.screen({ text: 'screenshot' }),
      reply: 'Got it.',
    });
    expect(kinds(outcome.turns)).toEqual(['greeting', 'attachment', 'notice']);
  });

  it('in a group, takes a request for a human elsewhere: the bot replies with the way there and keeps the conversation', async () => {
    const group = await f.helpdesk.startConversation({ channel: 'telegram', externalId: 'group-1', language: 'en' });
    const res = await f.helpdesk.handleCustomerInput({
      conversationId: group.conversation.id,
      message: f.helpdesk.screen({ text: 'talk to a human' }),
      escalateElsewhere: (decision, language) => `(${language}) continue in a private chat: ${decision.reason}`,
    });
    expect(res.outcome).toBe('redirected');
    expect(res.escalation?.reason).toBe('customer_requested_human');
    expect(res.conversation.state).toBe('bot');
    expect(res.turns.at(-1)?.text).toBe('(en) continue in a private chat: customer_requested_human');
    expect(await f.conversations.listByState('escalated')).toEqual([]);
  });
});
