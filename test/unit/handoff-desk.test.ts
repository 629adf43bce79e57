/**
 * The human side (core/handoff): the real handoff desk and helpdesk on in-memory fakes of the
 * conversation and handoff stores, a recording Telegram channel and a clock the test moves. The
 * same flows run through Slack, the admin API and Telegram on PGlite and PostgreSQL in
 * test/integration (slack-handoff, admin-handoffs, telegram-handoff, conversation-flow).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createHandoffDesk, type CustomerAction, type DeskOrigin, type Language, parseWorkingHours, type Turn } from '../../src/core/index.js';
import { createHelpdeskOnFakes, silentLogger } from '../support/fakes/helpdesk-on-fakes.js';

type Fakes = Awaited<ReturnType<typeof createHelpdeskOnFakes>>;

let chats = 1000;

/** A Telegram customer: desk turns reach them through the recording channel. */
async function telegramCustomer(f: Fakes, language: Language = 'en') {
  const started = await f.helpdesk.startConversation({ channel: 'telegram', externalId: String(chats++), language });
  const id = started.conversation.id;
  let update = 0;
  const send = (input: { text?: string; action?: CustomerAction }) =>
    f.helpdesk.handleCustomerInput({
      conversationId: id,
      ...(input.text !== undefined ? { message: f.helpdesk.screen({ text: input.text }) } : {}),
      ...(input.action ? { action: input.action } : {}),
      externalKey: `telegram:update:${id}:${update++}`,
    });
  return {
    id,
    say: (text: string) => send({ text }),
    press: (action: CustomerAction) => send({ action }),
    /** What reached the customer's chat from the desk, in order. */
    received: () => f.telegram.deliveredTo(id).map((t) => t.text),
    stored: () => f.helpdesk.turns(id, 0),
    conversation: async () => (await f.conversations.find(id)) as NonNullable<Awaited<ReturnType<Fakes['conversations']['find']>>>,
  };
}

const alice = (key: string): DeskOrigin => ({ agent: { id: 'UALICE', name: 'Alice' }, externalKey: key, desk: { tool: 'slack' } });
const bob = (key: string): DeskOrigin => ({ agent: { id: 'admin:bob', name: 'Bob' }, externalKey: key, desk: { tool: 'admin' } });

/** Another desk over the same stores (the admin inbox beside Slack, or another instance), as main.ts wires them. */
function secondDesk(f: Fakes) {
  return createHandoffDesk({
    conversations: f.conversations,
    handoffs: f.handoffs,
    customerChannels: { telegram: f.telegram },
    logger: silentLogger,
    review: f.helpdesk.reviewOutbound,
    settings: { hours: parseWorkingHours('24/7', 'UTC'), minutesPerConversation: 10, unclaimedAfterMs: 60_000, genericAgentName: undefined },
  });
}

async function waitingCustomer(f: Fakes, text = 'talk to a human') {
  const c = await telegramCustomer(f);
  expect((await c.say(text)).outcome).toBe('escalated');
  await f.desk.openEscalations();
  return c;
}

describe('the queue', () => {
  let f: Fakes;
  beforeEach(async () => {
    f = await createHelpdeskOnFakes({ minutesPerConversation: 10 });
  });

  it('opens a handoff once per escalation and tells the customer the estimated wait', async () => {
    const c = await telegramCustomer(f);
    await c.say('talk to a human');
    const opened = await f.desk.openEscalations();
    expect(opened.map((h) => h.conversation.id)).toEqual([c.id]);
    expect(await f.desk.openEscalations()).toEqual([]);
    expect(c.received()).toEqual(['A human agent should reply in about 10 minutes.']);
    expect((await f.handoffs.find(c.id))?.open).toBe(true);
  });

  it('places an urgent case before the ones that waited longer, and tells it so', async () => {
    for (let i = 0; i < 3; i++) await waitingCustomer(f);
    const urgent = await waitingCustomer(f, 'someone logged into my account and withdrew my funds');
    expect(urgent.received()).toEqual(['Urgent cases are handled first: a human agent should reply in about 10 minutes.']);
    expect(await f.desk.status(urgent.id, 'en')).toMatchObject({ position: 1, urgent: true });
    expect((await f.desk.listOpen()).map((h) => h.conversation.priority)).toEqual(['urgent', 'normal', 'normal', 'normal']);
  });

  it('acknowledges the first message once with the place in the queue, a second request for a human once, then stays silent', async () => {
    await waitingCustomer(f);
    f.clock.advance(1_000);
    const c = await waitingCustomer(f);
    const first = await c.say('my order is 12345');
    expect(first.outcome).toBe('forwarded');
    expect(first.turns.map((t) => t.kind)).toEqual(['message', 'notice']);
    expect(first.turns[1]?.text).toContain('You are number 2 in the queue.');
    expect(first.turns[1]?.data.actions?.map((a) => a.id)).toEqual(['bot']);
    expect((await c.say('it was yesterday')).turns.map((t) => t.kind)).toEqual(['message']);
    const again = await c.say('I want a human');
    expect(again.turns[1]?.text).toMatch(/already in the queue/);
    expect(again.turns.some((t) => t.kind === 'escalation')).toBe(false);
    expect((await c.say('hello?')).turns.map((t) => t.kind)).toEqual(['message']);
  });

  it('takes a waiting customer back to the bot on request: the handoff closes and the bot answers again', async () => {
    const c = await waitingCustomer(f);
    const back = await c.press('bot');
    expect(back.conversation.state).toBe('bot');
    expect((await f.handoffs.find(c.id))?.open).toBe(false);
    expect((await c.say('How do I reset my password?')).outcome).toBe('answered');
    // An agent who clicks Claim afterwards is told it is no longer open.
    expect(await f.desk.claim(c.id, alice('claim-late'))).toEqual({ status: 'not_open' });
  });

  it('off hours tells the customer when the agents are back', async () => {
    // Saturday noon in UTC; the desk works Monday to Friday.
    const off = await createHelpdeskOnFakes({ hours: 'Mon-Fri 09:00-18:00' });
    off.clock.advance(new Date('2026-03-07T12:00:00Z').getTime() - off.clock.now().getTime());
    const c = await telegramCustomer(off);
    await c.say('talk to a human');
    await off.desk.openEscalations();
    const [notice] = c.received();
    expect(notice).toMatch(/^Our agents are offline right now \(hours: Mon-Fri 09:00-18:00, UTC\)\. They open again on Mon,? 9 Mar,? 09:00/);
    expect(notice).toContain('your messages are kept');
  });

  it('tells a Chinese customer the wait in Chinese, and in Traditional script when they write it', async () => {
    const c = await telegramCustomer(f, 'zh');
    expect((await c.say('我要轉人工客服')).outcome).toBe('escalated');
    await f.desk.openEscalations();
    const [wait] = c.received();
    expect(wait).toContain('預計');
    expect(wait).not.toContain('预计');
  });

  it('tells a customer still unclaimed after the set time that they are not forgotten, once', async () => {
    const c = await waitingCustomer(f);
    expect(await f.desk.remindUnclaimed()).toEqual([]);
    f.clock.advance(61_000);
    expect((await f.desk.remindUnclaimed()).map((r) => r.conversationId)).toEqual([c.id]);
    expect(await f.desk.remindUnclaimed()).toEqual([]);
    expect(c.received().at(-1)).toMatch(/haven't forgotten you/);
    expect(c.received().filter((t) => /haven't forgotten you/.test(t))).toHaveLength(1);
  });
});

describe("agents' actions", () => {
  let f: Fakes;
  beforeEach(async () => {
    f = await createHelpdeskOnFakes();
  });

  it('lets one agent claim a handoff: another desk is told who holds it, a repeated click is a no-op', async () => {
    const c = await waitingCustomer(f);
    const admin = secondDesk(f);
    expect((await f.desk.claim(c.id, alice('claim-1'))).status).toBe('done');
    expect(await admin.claim(c.id, bob('claim-2'))).toEqual({ status: 'claimed_by_other', by: 'Alice' });
    expect(await f.desk.claim(c.id, alice('claim-3'))).toEqual({ status: 'duplicate' });
    expect((await f.handoffs.find(c.id))?.claimedBy).toBe('UALICE');
    expect(c.received().filter((t) => /from our support team/.test(t))).toEqual(['Alice from our support team is now handling your request.']);
  });

  it('lets exactly one of two agents claiming at the same moment in two desks win', async () => {
    const c = await waitingCustomer(f);
    const results = await Promise.all([f.desk.claim(c.id, alice('race-a')), secondDesk(f).claim(c.id, bob('race-b'))]);
    expect(results.map((r) => r.status).sort()).toEqual(['claimed_by_other', 'done']);
    expect((await c.stored()).filter((t) => t.data.handoff === 'claimed')).toHaveLength(1);
  });

  it("relays an agent's reply to the customer once, after the claim it makes, however often the event is retried", async () => {
    const c = await waitingCustomer(f);
    const first = await f.desk.reply(c.id, { ...alice('EvReply1'), text: 'Hi, is it a deposit or a withdrawal?' });
    expect(first.status).toBe('done');
    expect(await f.desk.reply(c.id, { ...alice('EvReply1'), text: 'Hi, is it a deposit or a withdrawal?' })).toEqual({ status: 'duplicate' });
    const received = c.received();
    expect(received.filter((t) => t === 'Hi, is it a deposit or a withdrawal?')).toHaveLength(1);
    expect(received.indexOf('Alice from our support team is now handling your request.')).toBeLessThan(
      received.indexOf('Hi, is it a deposit or a withdrawal?'),
    );
    const reply = (await c.stored()).find((t) => t.kind === 'message' && t.role === 'agent') as Turn;
    expect(reply.data).toMatchObject({ author: 'Alice', agentId: 'UALICE' });
    // The customer's answer now reaches the agents without the bot's acknowledgement.
    expect((await c.say('a withdrawal')).turns.map((t) => t.kind)).toEqual(['message']);
  });

  it("shows customers the generic agent name instead of the agent's own when one is set", async () => {
    const g = await createHelpdeskOnFakes({ genericAgentName: 'ExampleX Support' });
    const c = await waitingCustomer(g);
    await g.desk.reply(c.id, { ...alice('EvReply2'), text: 'Looking into it.' });
    expect(c.received()).toContain('ExampleX Support from our support team is now handling your request.');
    expect(JSON.stringify(g.telegram.deliveries)).not.toContain('Alice');
  });

  it('delivers a reply the channel could not take at first once it is reachable again, once', async () => {
    const c = await waitingCustomer(f);
    f.telegram.failNext(1);
    expect((await f.desk.reply(c.id, { ...alice('EvReply3'), text: 'Still there?' })).status).toBe('done');
    expect(c.received()).not.toContain('Still there?');
    await f.desk.deliverPending(c.id);
    await f.desk.deliverPending(c.id);
    expect(c.received().filter((t) => t === 'Still there?')).toHaveLength(1);
  });

  it('keeps a reply that asks for a secret or names an unofficial site from the customer, as an internal note, and records the block', async () => {
    const c = await waitingCustomer(f);
    const text = 'Your account is frozen: pay the 0.1 BTC security fee and verify at https://examplex-verify.top/login';
    const blocked = await f.desk.reply(c.id, { ...alice('EvBlocked'), text });
    expect(blocked).toEqual({ status: 'blocked', reasons: ['asks_for_payment', 'unlisted_contact'], contacts: ['https://examplex-verify.top/login'] });
    expect(await f.desk.reply(c.id, { ...alice('EvSecret'), text: 'Please tell me your 2FA code.' })).toMatchObject({ reasons: ['asks_for_secret'] });
    expect(JSON.stringify(c.received())).not.toMatch(/security fee|2FA code/);
    const note = (await c.stored()).find((t) => t.kind === 'note') as Turn;
    expect(note.text).toContain('[not sent: asks_for_payment, unlisted_contact]');
    expect(note.data.internal).toBe(true);
    const events = await f.helpdesk.securityEvents.list({ type: 'outbound_blocked', conversationId: c.id });
    expect(events.map((e) => e.detail.reason)).toEqual(['asks_for_secret', 'asks_for_payment']);
    expect(events[1]).toMatchObject({ channel: 'slack' });
  });

  it("keeps an agent's note internal: never delivered to the customer", async () => {
    const c = await waitingCustomer(f);
    expect((await f.desk.note(c.id, { ...alice('EvNote'), text: 'checked the chain, tx confirmed' })).status).toBe('done');
    expect(c.received().join('\n')).not.toContain('checked the chain');
    expect((await c.stored()).find((t) => t.kind === 'note')?.data).toMatchObject({ internal: true, agentId: 'UALICE' });
  });

  it('delivers an edit as a new turn and keeps the original', async () => {
    const c = await waitingCustomer(f);
    await f.desk.reply(c.id, { ...alice('EvOrig'), text: 'Your withdrawal is on its way.' });
    await f.desk.edit(c.id, { ...alice('EvEdit'), text: 'Your deposit is on its way.', internal: false });
    expect(c.received().slice(-2)).toEqual(['Your withdrawal is on its way.', '(edited) Your deposit is on its way.']);
  });

  it('hands the conversation back to the bot: the customer is told, the bot answers, a second hand back is refused', async () => {
    const c = await waitingCustomer(f);
    await f.desk.claim(c.id, alice('claim'));
    const back = await f.desk.handBack(c.id, alice('back'));
    expect(back.status).toBe('done');
    expect((await c.conversation()).state).toBe('bot');
    expect(c.received().at(-1)).toMatch(/handed you back to the assistant/);
    expect((await c.say('How do I reset my password?')).outcome).toBe('answered');
    expect(await f.desk.handBack(c.id, alice('back-again'))).toEqual({ status: 'not_open' });
  });

  it('reopens the handoff when a handed-back customer asks for a human again, with a fresh wait notice', async () => {
    const c = await waitingCustomer(f);
    await f.desk.claim(c.id, alice('claim'));
    await f.desk.handBack(c.id, alice('back'));
    await c.say('talk to a human');
    const reopened = await f.desk.openEscalations();
    expect(reopened.map((h) => [h.conversation.id, h.record.claimedBy])).toEqual([[c.id, null]]);
    expect(c.received().filter((t) => /should reply in about/.test(t))).toHaveLength(2);
  });

  it('resolves with a request for a rating, records the rating the customer gives, and thanks them', async () => {
    const c = await waitingCustomer(f);
    await f.desk.claim(c.id, alice('claim'));
    expect((await f.desk.resolve(c.id, alice('resolve'))).status).toBe('done');
    expect((await c.conversation()).state).toBe('closed');
    expect(c.received().at(-1)).toMatch(/number from 1 to 5/);
    const rated = await c.say('5');
    expect(rated.turns[0]).toMatchObject({ role: 'customer', kind: 'rating', data: { rating: 5 } });
    expect(rated.turns[1]?.text).toBe('Thank you for your rating (5/5)!');
    expect(rated.conversation.state).toBe('bot');
    expect(
      (await c.stored())
        .map((t) => `${t.role}:${t.kind}${t.data.handoff ? `:${t.data.handoff}` : ''}`)
        .filter((x) => x.includes('handoff') || x.includes('rating')),
    ).toEqual(['bot:handoff:waiting', 'agent:handoff:claimed', 'agent:handoff:resolved', 'customer:rating']);
  });
});
