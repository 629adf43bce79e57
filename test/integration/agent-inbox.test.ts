/**
 * The agents' inbox API (/api/admin/inbox) as main.ts wires it, on both engines: the queue with
 * previews of sealed content, bounded search, a conversation with what the bot tried and the
 * customer's files, the desk's actions with idempotency keys, the outbound guard, saved replies
 * and the live stream of changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/adapters/postgres/db/database.js';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import { createPgHandoffStore } from '../../src/adapters/postgres/stores/pg-handoff-store.js';
import { createHandoffDesk, parseWorkingHours } from '../../src/core/index.js';
import { silentLogger } from '../support/helpdesk.js';
import { AGENT, createTestConsole, EDITOR, LEAD } from '../support/console.js';
import { testEngines } from '../support/databases.js';

type Json = Record<string, any>;
type Fetcher = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

/** A signed-in browser: the session cookie, and the CSRF token on changes. */
function browser(app: Fetcher) {
  let cookie: string | undefined;
  let csrf: string | undefined;
  async function send(method: string, path: string, body?: unknown) {
    const res = await app.request(path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(cookie ? { cookie } : {}),
        ...(csrf && method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) cookie = setCookie.split(';')[0];
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : {}) as Json };
  }
  return {
    send,
    async login(user: { user: string; password: string }) {
      const res = await send('POST', '/api/admin/login', user);
      expect(res.status).toBe(200);
      csrf = res.json.csrfToken;
    },
    /** Opens the live stream; resolves the events' names and data as they come. */
    async stream(path: string) {
      const res = await app.request(path, { headers: cookie ? { cookie } : {} });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        /** The next event named `name` (within `ms`). */
        async next(name: string, ms = 10_000): Promise<Json> {
          const deadline = Date.now() + ms;
          for (;;) {
            const events = buffer.split('\n\n');
            buffer = events.pop() ?? '';
            for (const [i, raw] of events.entries()) {
              const event = /^event: (.*)$/m.exec(raw)?.[1];
              const data = /^data: (.*)$/m.exec(raw)?.[1];
              if (event === name) {
                buffer = `${events.slice(i + 1).join('\n\n')}${events.length > i + 1 ? '\n\n' : ''}${buffer}`;
                return JSON.parse(data ?? '{}') as Json;
              }
            }
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no ${name} event within ${ms} ms`);
            const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(() => r(undefined), left))]);
            if (!chunk) continue;
            if (chunk.done) throw new Error('stream ended');
            buffer += decoder.decode(chunk.value, { stream: true });
          }
        },
        close: () => reader.cancel(),
      };
    },
  };
}

const key = () => `k-${crypto.randomUUID()}`;

describe.each(testEngines())("agents' inbox API on %s", (engine) => {
  let t: Awaited<ReturnType<typeof createTestConsole>>;
  let agent: ReturnType<typeof browser>;
  let lead: ReturnType<typeof browser>;
  let web: { id: string; token: string };
  let telegramId: string;

  /** A web customer who asks a question and then for a human. */
  async function webCustomer(question: string) {
    const res = await t.app.request('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const created = (await res.json()) as { id: string; token: string };
    const post = (body: unknown) =>
      t.app.request(`/api/conversations/${created.id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${created.token}` },
        body: JSON.stringify(body),
      });
    await post({ text: question });
    await post({ action: 'human' });
    return created;
  }
  const seenByWeb = async () => {
    const res = await t.app.request(`/api/conversations/${web.id}/messages?after=0`, { headers: { authorization: `Bearer ${web.token}` } });
    return ((await res.json()) as { turns: Json[] }).turns;
  };

  beforeAll(async () => {
    t = await createTestConsole(engine, { inbox: true });
    web = await webCustomer('How long does a withdrawal take?');
    // A Telegram customer with a handle who sends a screenshot and reports a scam (urgent).
    const { conversation } = await t.helpdesk.startConversation({ channel: 'telegram', externalId: '7001', customerHandle: 'Alice Tg' });
    telegramId = conversation.id;
    await t.helpdesk.recordCustomerTurn({
      conversationId: telegramId,
      kind: 'attachment',
      message: t.helpdesk.screen({
        text: 'screenshot of the failed withdrawal',
        attachments: [{ type: 'photo', fileId: 'AgACphoto1', fileUniqueId: 'u1', fileSize: 52_000, mimeType: 'image/jpeg' }],
      }),
    });
    await t.helpdesk.handleCustomerInput({
      conversationId: telegramId,
      message: t.helpdesk.screen({ text: 'Someone from support asked for my seed phrase and a fee to unfreeze my account' }),
    });
    await t.desk?.openEscalations();
    agent = browser(t.app);
    await agent.login(AGENT);
    lead = browser(t.app);
    await lead.login(LEAD);
  });
  afterAll(() => t.drop());

  it("lists the queue urgent first with the customer's latest words opened from sealed storage", async () => {
    const res = await agent.send('GET', '/api/admin/inbox/queue');
    expect(res.status).toBe(200);
    const items = res.json.items as Json[];
    expect(items.map((i) => i.conversationId)).toEqual([telegramId, web.id]);
    expect(items[0]).toMatchObject({
      channel: 'telegram',
      priority: 'urgent',
      reason: 'scam_report',
      customerHandle: 'Alice Tg',
      customerId: '7001',
      open: true,
      claimedBy: null,
    });
    expect(items[0]?.preview.text).toContain('asked for my seed phrase');
    expect(items[1]).toMatchObject({ channel: 'web', priority: 'normal', reason: 'customer_requested_human' });
    expect(items[1]?.preview.text).toBe('How long does a withdrawal take?');
  });

  it('searches previews, customer ids, handles and conversation ids, folding case', async () => {
    const ids = async (q: string) =>
      ((await agent.send('GET', `/api/admin/inbox/queue?q=${encodeURIComponent(q)}`)).json.items as Json[]).map((i) => i.conversationId);
    expect(await ids('WITHDRAWAL TAKE')).toEqual([web.id]);
    expect(await ids('7001')).toEqual([telegramId]);
    expect(await ids('alice')).toEqual([telegramId]);
    expect(await ids(web.id.slice(0, 13))).toEqual([web.id]);
    expect(await ids('no customer wrote this')).toEqual([]);
  });

  it("shows a conversation with the summary, the entries the bot tried and the customer's files", async () => {
    const res = await agent.send('GET', `/api/admin/inbox/conversations/${telegramId}`);
    expect(res.status).toBe(200);
    expect(res.json.summary).toMatchObject({ conversationId: telegramId, priority: 'urgent', escalation: { reason: 'scam_report' } });
    expect(res.json.files).toEqual([expect.objectContaining({ type: 'photo', mimeType: 'image/jpeg', fileSize: 52_000, index: 0 })]);
    // Its bytes come from the channel that keeps them; this one is wired without Telegram.
    const { seq } = res.json.files[0];
    expect((await agent.send('GET', `/api/admin/inbox/conversations/${telegramId}/files/${seq}/0`)).json.error.code).toBe('file_unavailable');
    expect((await agent.send('GET', `/api/admin/inbox/conversations/${telegramId}/files/${seq}/1`)).json.error.code).toBe('file_not_found');
    expect((await agent.send('GET', `/api/admin/inbox/conversations/${telegramId}/files/1/0`)).status).toBe(404);
    const webView = await agent.send('GET', `/api/admin/inbox/conversations/${web.id}`);
    const answer = (webView.json.turns as Json[]).find((x) => x.kind === 'answer');
    expect(answer?.citations.length).toBeGreaterThan(0);
    expect(webView.json.tried[0]).toMatchObject({ entryId: answer?.citations[0].id, how: 'cited', title: answer?.citations[0].title });
    expect((await agent.send('GET', '/api/admin/inbox/conversations/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await agent.send('GET', '/api/admin/inbox/conversations/not-a-uuid')).status).toBe(404);
  });

  it('claims and replies once per key: a retried send records and delivers nothing more', async () => {
    const claimKey = key();
    const claimed = await agent.send('POST', `/api/admin/inbox/conversations/${web.id}/claim`, { key: claimKey });
    expect(claimed.status).toBe(200);
    expect(claimed.json.turns[0]).toMatchObject({ kind: 'handoff', handoff: 'claimed', via: 'console' });
    expect((await agent.send('POST', `/api/admin/inbox/conversations/${web.id}/claim`, { key: claimKey })).json.status).toBe('duplicate');
    const replyKey = key();
    const first = await agent.send('POST', `/api/admin/inbox/conversations/${web.id}/reply`, {
      key: replyKey,
      text: 'Withdrawals usually arrive within 30 minutes.',
    });
    expect(first.json).toMatchObject({ status: 'done', turns: [{ role: 'agent', kind: 'message', author: AGENT.user }] });
    const again = await agent.send('POST', `/api/admin/inbox/conversations/${web.id}/reply`, {
      key: replyKey,
      text: 'Withdrawals usually arrive within 30 minutes.',
    });
    expect(again.json.status).toBe('duplicate');
    const replies = (await seenByWeb()).filter((x) => x.text === 'Withdrawals usually arrive within 30 minutes.');
    expect(replies).toHaveLength(1);
    const queue = (await agent.send('GET', '/api/admin/inbox/queue')).json.items as Json[];
    expect(queue.find((i) => i.conversationId === web.id)).toMatchObject({ claimedBy: `console:${AGENT.user}`, claimedName: AGENT.user });
  });

  it('refuses a reply the outbound guard blocks with its reasons, keeps it as a note, and the customer never sees it', async () => {
    const res = await agent.send('POST', `/api/admin/inbox/conversations/${web.id}/reply`, {
      key: key(),
      text: 'Please send me your 2FA code and pay a 50 USDT unfreeze fee at https://examplex-unlock.top',
    });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ status: 'blocked', error: { code: 'reply_blocked', contacts: ['https://examplex-unlock.top'] } });
    expect(res.json.error.reasons).toEqual(expect.arrayContaining(['asks_for_secret', 'asks_for_payment', 'unlisted_contact']));
    expect(JSON.stringify(await seenByWeb())).not.toMatch(/unfreeze fee|examplex-unlock/);
    const turns = (await agent.send('GET', `/api/admin/inbox/conversations/${web.id}/turns?after=0`)).json.turns as Json[];
    expect(turns.at(-1)).toMatchObject({ kind: 'note', internal: true, text: expect.stringContaining('[not sent:') });
  });

  it('keeps notes internal, resolves, and then refuses replies to a conversation no longer with the agents', async () => {
    const note = await agent.send('POST', `/api/admin/inbox/conversations/${web.id}/note`, { key: key(), text: 'Checked the chain: confirmed.' });
    expect(note.json.turns[0]).toMatchObject({ kind: 'note', internal: true });
    expect(JSON.stringify(await seenByWeb())).not.toContain('Checked the chain');
    expect((await agent.send('POST', `/api/admin/inbox/conversations/${web.id}/note`, { key: key(), text: '  ' })).status).toBe(400);
    const resolved = await agent.send('POST', `/api/admin/inbox/conversations/${web.id}/resolve`, { key: key() });
    expect(resolved.json.turns[0]).toMatchObject({ handoff: 'resolved' });
    const late = await agent.send('POST', `/api/admin/inbox/conversations/${web.id}/reply`, { key: key(), text: 'One more thing' });
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe('not_open');
    // Gone from the queue, still found by search among the latest closed ones.
    expect(((await agent.send('GET', '/api/admin/inbox/queue')).json.items as Json[]).map((i) => i.conversationId)).toEqual([telegramId]);
    expect(((await agent.send('GET', '/api/admin/inbox/queue?q=withdrawal%20take')).json.items as Json[])[0]).toMatchObject({
      conversationId: web.id,
      open: false,
    });
    expect((await agent.send('POST', `/api/admin/inbox/conversations/${web.id}/claim`, { key: 'short' })).status).toBe(400);
  });

  it('tells a watching browser which conversations changed, whichever desk changed them', async () => {
    const stream = await agent.stream(`/api/admin/inbox/events?watch=${telegramId}`);
    expect(stream.status).toBe(200);
    expect(stream.type).toContain('text/event-stream');
    await stream.next('ready');
    // As Slack does it: the desk directly, with a Slack user.
    await t.desk?.claim(telegramId, { agent: { id: 'U123', name: 'Sam' }, externalKey: 'slack:action:claim:1', desk: { tool: 'slack' } });
    expect((await stream.next('change')).ids).toContain(telegramId);
    const view = await agent.send('GET', `/api/admin/inbox/conversations/${telegramId}`);
    expect(view.json.item).toMatchObject({ claimedBy: 'U123', claimedName: 'Sam' });
    // Someone else holds it: the inbox says who.
    const mine = await agent.send('POST', `/api/admin/inbox/conversations/${telegramId}/claim`, { key: key() });
    expect(mine.status).toBe(409);
    expect(mine.json.error).toMatchObject({ code: 'claimed_by_other', by: 'Sam' });
    await agent.send('POST', `/api/admin/inbox/conversations/${telegramId}/hand-back`, { key: key() });
    expect((await stream.next('change')).ids).toContain(telegramId);
    await stream.close();
  });

  it.runIf(engine === 'postgres')('shows what another instance on the same PostgreSQL did, within its poll interval', async () => {
    const other = await openDatabase({ databaseUrl: t.url as string, dataDir: 'unused', contentKeys: t.database.contentKeys });
    try {
      const conversations = createPgConversationStore(other);
      const desk = createHandoffDesk({
        conversations,
        handoffs: createPgHandoffStore(other.db),
        customerChannels: {},
        logger: silentLogger,
        settings: { hours: parseWorkingHours('24/7', 'UTC'), minutesPerConversation: 5, unclaimedAfterMs: 3_600_000, genericAgentName: undefined },
      });
      const customer = await webCustomer('Where is my deposit from yesterday?');
      await t.desk?.openEscalations();
      const stream = await agent.stream(`/api/admin/inbox/events?watch=${customer.id}`);
      await stream.next('ready');
      // Nothing in this instance hears of it: only the database says so.
      await desk.reply(customer.id, {
        agent: { id: 'U999', name: 'Noor' },
        text: 'Found it, crediting now.',
        externalKey: 'other-instance:1',
        desk: { tool: 'slack' },
      });
      expect((await stream.next('change', 5_000)).ids).toContain(customer.id);
      await stream.close();
      const view = await agent.send('GET', `/api/admin/inbox/conversations/${customer.id}`);
      expect(view.json.item).toMatchObject({ claimedName: 'Noor' });
      expect((view.json.turns as Json[]).at(-1)).toMatchObject({ role: 'agent', text: 'Found it, crediting now.', via: 'slack' });
    } finally {
      await other.close();
    }
  });

  it('lets leads keep saved replies and agents use them; the outbound guard and versions apply', async () => {
    const created = await lead.send('POST', '/api/admin/inbox/replies', {
      title: 'Withdrawal times',
      language: 'en',
      body: 'Most withdrawals arrive within 30 minutes.',
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ title: 'Withdrawal times', language: 'en', version: 1, updatedBy: LEAD.user });
    expect((await lead.send('POST', '/api/admin/inbox/replies', { title: 'Withdrawal times', language: 'en', body: 'Again' })).status).toBe(409);
    const blocked = await lead.send('POST', '/api/admin/inbox/replies', {
      title: 'Unfreeze',
      language: 'en',
      body: 'Pay a 20 USDT fee to unfreeze your account.',
    });
    expect(blocked.status).toBe(422);
    expect(blocked.json.error).toMatchObject({ code: 'reply_blocked', reasons: ['asks_for_payment'] });
    expect((await agent.send('POST', '/api/admin/inbox/replies', { title: 'Mine', language: 'en', body: 'x' })).status).toBe(403);
    expect(((await agent.send('GET', '/api/admin/inbox/replies')).json.replies as Json[]).map((r) => r.title)).toEqual(['Withdrawal times']);
    const id = created.json.id as number;
    const updated = await lead.send('PUT', `/api/admin/inbox/replies/${id}`, {
      title: '提现时间',
      language: 'zh',
      body: '大多数提现在 30 分钟内到账。',
      version: 1,
    });
    expect(updated.json).toMatchObject({ version: 2, language: 'zh' });
    expect((await lead.send('PUT', `/api/admin/inbox/replies/${id}`, { title: 'Stale', language: 'en', body: 'x', version: 1 })).status).toBe(409);
    expect((await lead.send('DELETE', `/api/admin/inbox/replies/${id}`)).status).toBe(204);
    expect((await lead.send('DELETE', `/api/admin/inbox/replies/${id}`)).status).toBe(404);
  });

  it('is for agents, leads and admins only', async () => {
    const editor = browser(t.app);
    await editor.login(EDITOR);
    expect((await editor.send('GET', '/api/admin/inbox/queue')).status).toBe(403);
    expect((await browser(t.app).send('GET', '/api/admin/inbox/queue')).status).toBe(401);
    expect((await lead.send('GET', '/api/admin/inbox/queue')).status).toBe(200);
  });
});
