import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readKnowledgeFiles } from '../../src/adapters/knowledge-files/read-knowledge-files.js';
import { type Database, openDatabase } from '../../src/adapters/postgres/db/database.js';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import { createPgHandoffStore, createPgThreadMirrorStore } from '../../src/adapters/postgres/stores/pg-handoff-store.js';
import { handoff } from '../../src/adapters/postgres/schema/index.js';
import { createSlackHandoff, type SlackHandoff } from '../../src/adapters/slack/slack-handoff.js';
import { ACTION_CLAIM, ACTION_HAND_BACK, ACTION_RESOLVE } from '../../src/adapters/slack/slack-messages.js';
import { createWebApp } from '../../src/adapters/web/web-app.js';
import { type Conversation, createHandoffDesk, notifyAppends, parseWorkingHours, type Turn } from '../../src/core/index.js';
import { type FakeMessage, FakeSlack } from '../stand-ins/fake-slack.js';
import { createTestDatabase, testEngines } from '../support/databases.js';
import { call, KNOWLEDGE_DIR, silentLogger, wireHelpdesk } from '../support/helpdesk.js';

/** The thread mirror's columns of a conversation's handoff row, as stored. */
async function mirrorOf(database: Database, conversationId: string) {
  const [row] = await database.db.select().from(handoff).where(eq(handoff.conversationId, conversationId));
  return row;
}

const CHANNEL = 'CSUPPORT';
type Json = Record<string, any>;

/** One app instance: the real helpdesk, desk, bolt over HTTP on its own port, on a given database. */
async function startInstance(
  database: Database,
  fake: FakeSlack,
  options: { sync?: boolean; telegramDeliveries?: Array<{ conversation: Conversation; turns: Turn[] }>; agentGroup?: string } = {},
) {
  let slack: SlackHandoff | undefined;
  const { helpdesk, conversations } = wireHelpdesk(database, { wrapConversations: (store) => notifyAppends(store, () => void slack?.wake()) });
  if (options.sync !== false) await helpdesk.syncKnowledge(await readKnowledgeFiles(KNOWLEDGE_DIR));
  const handoffs = createPgHandoffStore(database.db);
  const desk = createHandoffDesk({
    conversations,
    handoffs,
    customerChannels: {
      telegram: {
        async deliver(conversation, turns) {
          options.telegramDeliveries?.push({ conversation, turns });
        },
      },
    },
    logger: silentLogger,
    settings: { hours: parseWorkingHours('24/7', 'UTC'), minutesPerConversation: 5, unclaimedAfterMs: 60 * 60_000, genericAgentName: undefined },
  });
  slack = createSlackHandoff({
    helpdesk,
    desk,
    mirrors: createPgThreadMirrorStore(database.db),
    logger: silentLogger,
    options: {
      botToken: fake.token,
      signingSecret: fake.signingSecret,
      supportChannel: CHANNEL,
      apiUrl: fake.apiUrl,
      command: '/helpdesk',
      unclaimedAfterMs: 60 * 60_000,
      pollMs: 60_000,
      leaseMs: 30_000,
      retryBaseMs: 10,
      retryMaxMs: 50,
      ...(options.agentGroup ? { agentGroup: options.agentGroup } : {}),
    },
  });
  const web = createWebApp({ helpdesk, bodyLimitBytes: 65_536, health: async () => ({}), onError: () => undefined });
  const s = slack;
  web.post('/slack/events', (c) => s.handle(c.req.raw));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const srv = serve({ fetch: web.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(srv));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await s.start().ready;
  return {
    url,
    helpdesk,
    desk,
    handoffs,
    slack: s,
    async stop() {
      await s.stop();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

type Instance = Awaited<ReturnType<typeof startInstance>>;

describe.each(testEngines())('Slack handoff on %s', (engine) => {
  let fake: FakeSlack;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let app: Instance;
  const telegramDeliveries: Array<{ conversation: Conversation; turns: Turn[] }> = [];

  beforeAll(async () => {
    fake = await new FakeSlack().start();
    fake.addUser('UALICE', 'Alice');
    fake.addUser('UBOB', 'Bob');
    db = await createTestDatabase(engine);
    app = await startInstance(db.database, fake, { telegramDeliveries });
    fake.appUrl = `${app.url}/slack/events`;
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
    await fake?.stop();
  });

  const webCustomer = async () => {
    const res = await call(app.url, 'POST', '/api/conversations', { language: 'en' });
    const c = res.json as { id: string; token: string };
    return {
      ...c,
      say: (body: Json) => call(app.url, 'POST', `/api/conversations/${c.id}/messages`, body, c.token),
      seen: async () =>
        (await call(app.url, 'GET', `/api/conversations/${c.id}/messages?after=0`, undefined, c.token)).json as { state: string; turns: Json[] },
    };
  };
  const rootOf = (conversationId: string): FakeMessage | undefined =>
    fake.posted(CHANNEL).find((m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(conversationId));
  const waitForRoot = async (conversationId: string) => {
    await app.slack.wake();
    return vi.waitFor(() => {
      const root = rootOf(conversationId);
      if (!root) throw new Error('no thread root yet');
      return root;
    });
  };
  const threadTexts = (root: FakeMessage) => fake.thread(CHANNEL, root.ts).map((m) => m.text);

  it('posts a thread root with reason, priority, summary, last turns, tried entries and buttons, and tells the customer the wait', async () => {
    const customer = await webCustomer();
    await customer.say({ text: 'How do I reset my password?' });
    const escalated = await customer.say({ action: 'human' });
    expect(escalated.json.outcome).toBe('escalated');
    const root = await waitForRoot(customer.id);
    const blocks = JSON.stringify(root.blocks);
    expect(blocks).toContain('customer asked for a human');
    expect(blocks).toContain('*Channel:*\\nweb');
    expect(blocks).toContain('*Language:*\\nen');
    expect(blocks).toContain('*Priority:*\\nnormal');
    expect(blocks).toContain('How do I reset my password?');
    expect(blocks).toMatch(/password-reset-en` \d\.\d{3}/);
    for (const id of [ACTION_CLAIM, ACTION_RESOLVE, ACTION_HAND_BACK]) expect(blocks).toContain(id);
    const seen = await customer.seen();
    expect(seen.turns.at(-1)).toMatchObject({ role: 'bot', kind: 'handoff' });
    expect(seen.turns.at(-1)?.text).toMatch(/about \d+ minutes?/);
  });

  it('marks a stolen-funds conversation urgent in its root', async () => {
    const customer = await webCustomer();
    await customer.say({ text: 'Someone logged into my account and stole my funds!' });
    const root = await waitForRoot(customer.id);
    expect(JSON.stringify(root.blocks)).toContain('urgent');
    expect(root.text).toMatch(/URGENT/);
  });

  it('runs a full handoff for a web customer: claim, reply, customer reply in thread, note, edit, deletion, hand back, bot answers, resolve, rating', async () => {
    const customer = await webCustomer();
    await customer.say({ action: 'human' });
    const root = await waitForRoot(customer.id);

    expect((await fake.click(root, ACTION_CLAIM, 'UALICE')).status).toBe(200);
    await vi.waitFor(() => expect(threadTexts(root).join('\n')).toContain('Claimed by <@UALICE>'));
    await vi.waitFor(() => expect(JSON.stringify(rootOf(customer.id)?.blocks)).toContain('Claimed by <@UALICE>'));
    expect(JSON.stringify(rootOf(customer.id)?.blocks)).not.toContain(ACTION_CLAIM);

    const reply = fake.userReplies(CHANNEL, root.ts, 'UALICE', 'Hi, I am looking into your withdrawal now.');
    expect((await reply).status).toBe(200);
    await vi.waitFor(async () => {
      const agentTurn = (await customer.seen()).turns.find((t) => t.role === 'agent' && t.kind === 'message');
      expect(agentTurn).toMatchObject({ text: 'Hi, I am looking into your withdrawal now.', author: 'Alice' });
    });

    const forwarded = await customer.say({ text: 'Thanks, the txid is 0xabc' });
    expect(forwarded.json.outcome).toBe('forwarded');
    await vi.waitFor(() => expect(threadTexts(root)).toContain('*Customer:* Thanks, the txid is 0xabc'));

    await fake.userReplies(CHANNEL, root.ts, 'UALICE', 'note: checked the chain, tx confirmed');
    await vi.waitFor(async () => {
      const all = await app.helpdesk.turns(customer.id, 0);
      expect(all.find((t) => t.kind === 'note')).toMatchObject({ text: 'checked the chain, tx confirmed', data: { internal: true, agentId: 'UALICE' } });
    });
    expect(JSON.stringify((await customer.seen()).turns)).not.toContain('checked the chain');

    await fake.userEdits(CHANNEL, reply.ts, 'Hi, I am looking into your deposit now.');
    await fake.userDeletes(CHANNEL, reply.ts);
    await vi.waitFor(async () => {
      const all = await app.helpdesk.turns(customer.id, 0);
      // Slack does not order separate events (the edit and the deletion are handled concurrently).
      expect(
        all
          .filter((t) => t.role === 'agent')
          .map((t) => t.kind)
          .sort(),
      ).toEqual(['edit', 'handoff', 'message', 'note', 'note']);
    });
    const seen = await customer.seen();
    expect(seen.turns.map((t) => t.text)).toContain('Hi, I am looking into your withdrawal now.');
    expect(seen.turns.map((t) => t.text)).toContain('(edited) Hi, I am looking into your deposit now.');

    await fake.click(root, ACTION_HAND_BACK, 'UALICE');
    await vi.waitFor(async () => expect((await customer.seen()).state).toBe('bot'));
    const answered = await customer.say({ text: 'How do I reset my password?' });
    expect(answered.json.outcome).toBe('answered');
    await vi.waitFor(() => expect(threadTexts(root).join('\n')).toContain('Handed back to the bot by <@UALICE>'));

    await customer.say({ action: 'human' });
    await app.slack.wake();
    await vi.waitFor(() => expect(threadTexts(root).join('\n')).toContain(':rotating_light: Escalated'));
    expect(fake.posted(CHANNEL).filter((m) => !m.thread_ts && JSON.stringify(m.blocks).includes(customer.id))).toHaveLength(1);
    const reopened = rootOf(customer.id) as FakeMessage;
    await vi.waitFor(() => expect(JSON.stringify(rootOf(customer.id)?.blocks)).toContain(ACTION_CLAIM));

    await fake.click(reopened, ACTION_RESOLVE, 'UBOB');
    await vi.waitFor(async () => {
      const s = await customer.seen();
      expect(s.state).toBe('closed');
      expect(s.turns.at(-1)?.text).toMatch(/number from 1 to 5/);
    });
    const rated = await customer.say({ text: '5' });
    expect(rated.json.turns[0]).toMatchObject({ kind: 'rating' });
    await app.slack.wake();
    await vi.waitFor(() => expect(threadTexts(root).join('\n')).toContain('Customer rated 5/5'));

    const record = (await app.helpdesk.turns(customer.id, 0)).map(
      (t) => `${t.role}:${t.kind}${t.data.handoff ? `:${t.data.handoff}` : ''}${t.data.agentId ? `@${t.data.agentId}` : ''}`,
    );
    expect(record).toEqual(
      expect.arrayContaining([
        'agent:handoff:claimed@UALICE',
        'agent:handoff:handed_back@UALICE',
        'agent:handoff:resolved@UBOB',
        'customer:rating',
        'system:escalation',
      ]),
    );
  });

  it('delivers agent replies to a Telegram customer through the customer channel port, once', async () => {
    const started = await app.helpdesk.startConversation({ channel: 'telegram', externalId: 'tg-42', customerHandle: '@satoshi' });
    await app.helpdesk.handleCustomerInput({ conversationId: started.conversation.id, message: app.helpdesk.screen({ text: '转人工' }), externalKey: 'tg:1' });
    const root = await waitForRoot(started.conversation.id);
    expect(JSON.stringify(root.blocks)).toContain('@satoshi');
    await fake.userReplies(CHANNEL, root.ts, 'UBOB', 'Hello from Bob', { eventId: 'EvTG1' });
    await vi.waitFor(() => {
      const texts = telegramDeliveries.filter((d) => d.conversation.id === started.conversation.id).flatMap((d) => d.turns.map((t) => t.text));
      expect(texts.filter((t) => t === 'Hello from Bob')).toHaveLength(1);
    });
    const texts = telegramDeliveries.flatMap((d) => d.turns.map((t) => t.kind));
    expect(texts).toContain('handoff');
  });

  it('relays a reply once when Slack retries the same event', async () => {
    const customer = await webCustomer();
    await customer.say({ action: 'human' });
    const root = await waitForRoot(customer.id);
    const ts = '1800000000.000111';
    const event = { type: 'message', channel: CHANNEL, user: 'UBOB', text: 'Only once please', ts, thread_ts: root.ts, channel_type: 'channel' };
    const first = await fake.sendEvent(event, { eventId: 'EvRETRY1' });
    const retry = await fake.deliver(
      JSON.stringify({ type: 'event_callback', team_id: fake.teamId, api_app_id: 'A0001', event_id: 'EvRETRY1', event_time: 1, event }),
      'application/json',
    );
    expect([first.status, retry.status]).toEqual([200, 200]);
    await vi.waitFor(async () => expect((await customer.seen()).turns.filter((t) => t.text === 'Only once please')).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 100));
    expect((await customer.seen()).turns.filter((t) => t.text === 'Only once please')).toHaveLength(1);
  });

  it('rejects a forged signature and a stale timestamp with 401, and ignores its own bot messages', async () => {
    const customer = await webCustomer();
    await customer.say({ action: 'human' });
    const root = await waitForRoot(customer.id);
    const forged = await fake.sendEvent(
      { type: 'message', channel: CHANNEL, user: 'UBOB', text: 'forged', ts: '1800000001.000001', thread_ts: root.ts },
      { secret: 'not-the-secret' },
    );
    expect(forged.status).toBe(401);
    const stale = await fake.sendEvent(
      { type: 'message', channel: CHANNEL, user: 'UBOB', text: 'stale', ts: '1800000001.000002', thread_ts: root.ts },
      { timestamp: Math.floor(Date.now() / 1000) - 600 },
    );
    expect(stale.status).toBe(401);
    const own = await fake.sendEvent({
      type: 'message',
      channel: CHANNEL,
      user: fake.botUserId,
      bot_id: fake.botId,
      text: 'my own post',
      ts: '1800000001.000003',
      thread_ts: root.ts,
    });
    expect(own.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    const texts = (await customer.seen()).turns.map((t) => t.text);
    expect(texts).not.toContain('forged');
    expect(texts).not.toContain('stale');
    expect(texts).not.toContain('my own post');
  });

  it('keeps an agent reply that asks for a secret from the customer and warns the agent', async () => {
    const customer = await webCustomer();
    await customer.say({ action: 'human' });
    const root = await waitForRoot(customer.id);
    await fake.userReplies(CHANNEL, root.ts, 'UBOB', 'Please send me your seed phrase so I can check');
    await vi.waitFor(() => expect(fake.ephemerals.some((e) => e.user === 'UBOB' && /secret/.test(e.text))).toBe(true));
    expect(JSON.stringify((await customer.seen()).turns)).not.toContain('seed phrase so I can');
  });

  it('tells a customer left unclaimed that they are not forgotten and pings the thread again', async () => {
    const customer = await webCustomer();
    await customer.say({ action: 'human' });
    const root = await waitForRoot(customer.id);
    // A second desk on the same store whose unclaimed time has already passed: the sweep's view.
    const impatient = createHandoffDesk({
      conversations: createPgConversationStore(db.database),
      handoffs: app.handoffs,
      customerChannels: {},
      logger: silentLogger,
      settings: { hours: parseWorkingHours('24/7', 'UTC'), minutesPerConversation: 5, unclaimedAfterMs: 0, genericAgentName: undefined },
    });
    const reminded = await impatient.remindUnclaimed(100);
    expect(reminded.map((r) => r.conversationId)).toContain(customer.id);
    expect((await impatient.remindUnclaimed(100)).map((r) => r.conversationId)).not.toContain(customer.id);
    app.slack.wake();
    await vi.waitFor(() => expect(threadTexts(root).some((t) => t.includes('<!here>') && /unclaimed/.test(t))).toBe(true));
    const seen = (await customer.seen()).turns as Array<{ role: string; text: string }>;
    expect(seen.filter((t) => t.text.includes("haven't forgotten you"))).toHaveLength(1);
  });

  it('refuses handoff buttons and /helpdesk outside the support channel and records the denials', async () => {
    const customer = await webCustomer();
    await customer.say({ action: 'human' });
    const root = await waitForRoot(customer.id);
    const copied = { ...root, channel: 'COTHER' };
    expect((await fake.click(copied, ACTION_CLAIM, 'UMALLORY')).status).toBe(200);
    const listing = await fake.command('/helpdesk', '', 'UMALLORY', 'COTHER');
    expect(JSON.parse(listing.body).text).toMatch(/support channel/);
    await vi.waitFor(async () => {
      const denials = await app.helpdesk.securityEvents.list({ type: 'access_denied' });
      // Refusals of a window are one event; its reasons are counted in it.
      const reasons = denials.flatMap((d) => [d.detail.reason, ...Object.keys((d.detail.reasons as Record<string, number> | undefined) ?? {})]);
      expect(reasons).toContain('slack_action_outside_support_channel');
      expect(reasons).toContain('slack_command_outside_support_channel');
    });
    expect(JSON.stringify(rootOf(customer.id)?.blocks)).not.toContain('UMALLORY');
    expect((await app.handoffs.find(customer.id))?.claimedBy ?? null).toBeNull();
  });

  it('lists open conversations by priority and waiting time with /helpdesk', async () => {
    const res = await fake.command('/helpdesk', '', 'UBOB', CHANNEL);
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { text: string; response_type: string };
    expect(body.response_type).toBe('ephemeral');
    const lines = body.text.split('\n').slice(1);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toContain('urgent');
    const firstNormal = lines.findIndex((l) => l.includes('normal'));
    expect(lines.slice(firstNormal).every((l) => !l.includes(':red_circle: urgent'))).toBe(true);
  });

  it('keeps posts in the outbox while Slack fails, then posts them in order', async () => {
    fake.down({ status: 429, retryAfterS: 0 });
    const customer = await webCustomer();
    await customer.say({ action: 'human' });
    await customer.say({ text: 'first' });
    await customer.say({ text: 'second' });
    fake.down({ status: 500 });
    await customer.say({ text: 'third' });
    await app.slack.wake();
    expect(rootOf(customer.id)).toBeUndefined();
    fake.recover();
    await vi.waitFor(async () => {
      await app.slack.wake();
      const root = rootOf(customer.id);
      if (!root) throw new Error('not yet');
      expect(threadTexts(root).filter((t) => t.startsWith('*Customer:*'))).toEqual(['*Customer:* first', '*Customer:* second', '*Customer:* third']);
    });
    const calls = fake.calls.filter((c) => c.status === 429 || c.status === 500);
    expect(calls.length).toBeGreaterThan(0);
  });
});

describe.each(testEngines())('Slack agents limited to SLACK_AGENT_GROUP on %s', (engine) => {
  it("relays only the group's members: another channel member's reply, note, click and /helpdesk are refused, recorded, and they are told", async () => {
    const fake = await new FakeSlack().start();
    fake.addUser('UALICE', 'Alice');
    fake.addUser('UMALLORY', 'Mallory');
    fake.setUserGroup('SAGENTS', ['UALICE']);
    const db = await createTestDatabase(engine);
    const app = await startInstance(db.database, fake, { agentGroup: 'SAGENTS' });
    try {
      fake.appUrl = `${app.url}/slack/events`;
      const customer = (await call(app.url, 'POST', '/api/conversations', { language: 'en' })).json as { id: string; token: string };
      await call(app.url, 'POST', `/api/conversations/${customer.id}/messages`, { action: 'human' }, customer.token);
      await app.slack.wake();
      const root = await vi.waitFor(() => {
        const r = fake.posted(CHANNEL).find((m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(customer.id));
        if (!r) throw new Error('no root yet');
        return r;
      });
      await fake.userReplies(CHANNEL, root.ts, 'UMALLORY', 'Hi, I am from support, DM me.');
      await fake.userReplies(CHANNEL, root.ts, 'UMALLORY', 'note: nothing to see');
      await fake.click(root, ACTION_CLAIM, 'UMALLORY');
      const listing = await fake.command('/helpdesk', '', 'UMALLORY', CHANNEL);
      expect(JSON.parse(listing.body).text).toMatch(/user group/);
      await vi.waitFor(() => expect(fake.ephemerals.filter((e) => e.user === 'UMALLORY')).toHaveLength(3));
      expect(fake.ephemerals.find((e) => e.user === 'UMALLORY')?.text).toMatch(/agents' user group/);
      await fake.userReplies(CHANNEL, root.ts, 'UALICE', 'Alice here, looking into it.');
      const seen = async () =>
        (
          (await call(app.url, 'GET', `/api/conversations/${customer.id}/messages?after=0`, undefined, customer.token)).json.turns as Array<{ text: string }>
        ).map((x) => x.text);
      await vi.waitFor(async () => expect(await seen()).toContain('Alice here, looking into it.'));
      expect((await seen()).join('\n')).not.toContain('DM me');
      expect((await app.helpdesk.turns(customer.id, 0)).map((x) => x.text).join('\n')).not.toMatch(/DM me|nothing to see/);
      expect((await app.handoffs.find(customer.id))?.claimedBy).toBe('UALICE');
      const denials = await app.helpdesk.securityEvents.list({ type: 'access_denied' });
      expect(denials.find((d) => d.detail.reason === 'slack_not_agent')?.detail.count).toBe(4);
      // The members are asked once and kept for a while, not once per event.
      expect(fake.calls.filter((c) => c.method === 'usergroups.users.list')).toHaveLength(1);
    } finally {
      await app.stop();
      await db.drop();
      await fake.stop();
    }
  }, 60_000);
});

describe.each(testEngines())('two app instances on one %s database', (engine) => {
  it('handle each escalation and each Slack event once', async () => {
    const fake = await new FakeSlack().start();
    fake.addUser('UALICE', 'Alice');
    const db = await createTestDatabase(engine);
    const second = engine === 'postgres' ? await openDatabase({ databaseUrl: db.url, dataDir: 'unused', contentKeys: db.database.contentKeys }) : db.database;
    const a = await startInstance(db.database, fake);
    const b = await startInstance(second, fake, { sync: false });
    try {
      fake.appUrl = `${a.url}/slack/events`;
      const customer = (await call(a.url, 'POST', '/api/conversations', {})).json as { id: string; token: string };
      await call(a.url, 'POST', `/api/conversations/${customer.id}/messages`, { action: 'human' }, customer.token);
      await Promise.all([a.slack.wake(), b.slack.wake(), a.slack.wake(), b.slack.wake()]);
      await Promise.all([a.slack.wake(), b.slack.wake()]);
      const roots = fake.posted(CHANNEL).filter((m) => !m.thread_ts && JSON.stringify(m.blocks).includes(customer.id));
      expect(roots).toHaveLength(1);
      const root = roots[0] as FakeMessage;
      const event = {
        type: 'message',
        channel: CHANNEL,
        user: 'UALICE',
        text: 'One reply',
        ts: '1800000002.000001',
        thread_ts: root.ts,
        channel_type: 'channel',
      };
      const body = JSON.stringify({ type: 'event_callback', team_id: fake.teamId, api_app_id: 'A0001', event_id: 'EvTWO', event_time: 1, event });
      await fake.deliver(body, 'application/json');
      fake.appUrl = `${b.url}/slack/events`;
      await fake.deliver(body, 'application/json');
      await vi.waitFor(async () => {
        const turns = await a.helpdesk.turns(customer.id, 0);
        expect(turns.filter((t) => t.text === 'One reply')).toHaveLength(1);
      });
      await new Promise((r) => setTimeout(r, 100));
      const turns = await b.helpdesk.turns(customer.id, 0);
      expect(turns.filter((t) => t.text === 'One reply')).toHaveLength(1);
      expect(turns.filter((t) => t.data.handoff === 'waiting')).toHaveLength(1);
      expect(fake.posted(CHANNEL).filter((m) => m.thread_ts === root.ts && m.text.startsWith(':information_source:'))).toHaveLength(1);
    } finally {
      await a.stop();
      await b.stop();
      if (second !== db.database) await second.close();
      await db.drop();
      await fake.stop();
    }
  }, 60_000);
});

describe.each(testEngines())('Slack posts across a crash on %s', (engine) => {
  it('posts a root and each thread reply once when Slack took them but the app never heard back, also after a restart', async () => {
    const fake = await new FakeSlack().start();
    const db = await createTestDatabase(engine);
    let a: Instance | undefined = await startInstance(db.database, fake);
    let b: Instance | undefined;
    try {
      // The root reaches Slack; its answer is lost (as if the process died right after posting).
      fake.fail('chat.postMessage', { lostResponse: true });
      const customer = (await call(a.url, 'POST', '/api/conversations', { language: 'en' })).json as { id: string; token: string };
      await call(a.url, 'POST', `/api/conversations/${customer.id}/messages`, { text: 'My withdrawal is stuck' }, customer.token);
      await call(a.url, 'POST', `/api/conversations/${customer.id}/messages`, { action: 'human' }, customer.token);
      const roots = () => fake.posted(CHANNEL).filter((m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(customer.id));
      // The root is in Slack; the app learnt nothing from that call (it may already be looking it up).
      await vi.waitFor(() => expect(roots()).toHaveLength(1));
      await a.stop();
      a = undefined;

      // A new instance takes over; its first thread reply also reaches Slack without an answer.
      fake.fail('chat.postMessage', { lostResponse: true });
      b = await startInstance(db.database, fake, { sync: false });
      await call(b.url, 'POST', `/api/conversations/${customer.id}/messages`, { text: 'Order 1234, still nothing' }, customer.token);
      await vi.waitFor(async () => {
        await b?.slack.wake();
        const record = await mirrorOf(db.database, customer.id);
        const turns = (await b?.helpdesk.turns(customer.id, 0)) ?? [];
        expect(record?.mirrorInflight).toBeNull();
        expect(record?.relayedSeq).toBe(turns.at(-1)?.seq);
      });
      expect(roots()).toHaveLength(1);
      const root = roots()[0] as FakeMessage;
      expect((await mirrorOf(db.database, customer.id))?.deskThread).toBe(root.ts);
      const texts = fake.thread(CHANNEL, root.ts).map((m) => m.text);
      expect(texts.length).toBeGreaterThanOrEqual(2);
      expect(new Set(texts).size).toBe(texts.length);
      expect(texts.filter((t) => t.includes('Order 1234, still nothing'))).toHaveLength(1);
      // No post was repeated: each chat.postMessage made one message; the thread's ts could only come
      // from looking the root up, and the lost reply was looked up in the thread.
      expect(fake.calls.filter((c) => c.method === 'chat.postMessage').length).toBe(fake.posted(CHANNEL).length);
      expect(fake.calls.filter((c) => c.method === 'conversations.history' && c.status === 200).length).toBeGreaterThanOrEqual(1);
      expect(fake.calls.filter((c) => c.method === 'conversations.replies' && c.params.include_all_metadata).length).toBeGreaterThanOrEqual(1);
    } finally {
      await a?.stop();
      await b?.stop();
      await db.drop();
      await fake.stop();
    }
  }, 60_000);
});
