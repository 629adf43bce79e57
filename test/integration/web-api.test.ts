import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../support/databases.js';
import { createTestHelpdesk } from '../support/helpdesk.js';

type Json = Record<string, any>;

describe.each(testEngines())('web API on %s', (engine) => {
  let t: Awaited<ReturnType<typeof createTestHelpdesk>>;
  beforeAll(async () => {
    t = await createTestHelpdesk(engine);
  });
  afterAll(() => t.drop());

  const call = async (method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) => {
    const res = await t.app.request(path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const start = async (language?: 'zh' | 'en') => {
    const res = await call('POST', '/api/conversations', language ? { language } : {});
    expect(res.status).toBe(201);
    return res.json as { id: string; token: string; turns: Json[] };
  };
  const say = (c: { id: string; token: string }, body: Json) => call('POST', `/api/conversations/${c.id}/messages`, body, c.token);

  it('starts a conversation with an id, a secret token and a compact greeting without Telegram commands', async () => {
    const c = await start('zh');
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.token.length).toBeGreaterThan(30);
    expect(c.turns[0]).toMatchObject({ seq: 1, role: 'bot', kind: 'greeting', language: 'zh' });
    // Two short lines: the widget's header carries the scam warning, its "Verify a channel" control the official channels.
    expect(c.turns[0]?.text.split('\n')).toHaveLength(2);
    expect(c.turns[0]?.text).not.toContain('/verify');
    expect(c.turns[0]?.text).toContain('人工');
  });

  it('answers a Chinese question in Chinese citing the entry, with the solved / human choice', async () => {
    const c = await start();
    const res = await say(c, { text: '我的提现一直没到账' });
    expect(res.status).toBe(201);
    expect(res.json.outcome).toBe('answered');
    const [customer, bot] = res.json.turns;
    expect(customer).toMatchObject({ role: 'customer', text: '我的提现一直没到账', language: 'zh' });
    expect(bot).toMatchObject({ role: 'bot', kind: 'answer', language: 'zh' });
    expect(bot.citations[0]).toMatchObject({ id: 'withdrawal-pending-zh', version: 1 });
    expect(bot.actions.map((a: Json) => a.id)).toEqual(['solved', 'human']);
  });

  it('answers an English question in English and remembers the conversation language', async () => {
    const c = await start();
    const res = await say(c, { text: 'How do I reset my password?' });
    expect(res.json.turns[1].citations[0].id).toBe('password-reset-en');
    const later = await call('GET', `/api/conversations/${c.id}/messages?after=0`, undefined, c.token);
    expect(later.json.language).toBe('en');
  });

  it('lets the customer switch language and then answers in it', async () => {
    const c = await start();
    const switched = await say(c, { text: '请用英文' });
    expect(switched.json.turns.at(-1)).toMatchObject({ role: 'bot', language: 'en' });
    const res = await say(c, { text: '怎么重置密码' });
    expect(res.json.turns[1]).toMatchObject({ language: 'en' });
    expect(res.json.turns[1].citations[0].id).toBe('password-reset-en');
  });

  it('escalates a request for a human with its reason; then the bot does not answer, acknowledging the next message once', async () => {
    const c = await start();
    const res = await say(c, { action: 'human' });
    expect(res.json.outcome).toBe('escalated');
    expect(res.json.state).toBe('escalated');
    const notice = res.json.turns.at(-1);
    expect(notice).toMatchObject({ role: 'system', kind: 'escalation', escalation: { reason: 'customer_requested_human', priority: 'normal' } });
    const after = await say(c, { text: 'How do I reset my password?' });
    expect(after.json.outcome).toBe('forwarded');
    expect(after.json.turns.map((x: Json) => [x.role, x.kind])).toEqual([
      ['customer', 'message'],
      ['bot', 'notice'],
    ]);
    const later = await say(c, { text: 'hello?' });
    expect(later.json.outcome).toBe('forwarded');
    expect(later.json.turns).toHaveLength(1);
    expect(later.json.turns[0].role).toBe('customer');
  });

  it('escalates a possible account takeover as urgent and still gives the immediate steps', async () => {
    const c = await start();
    const res = await say(c, { text: '我的账户被盗了，资产被转走了' });
    expect(res.json.outcome).toBe('escalated');
    const escalation = res.json.turns.at(-1);
    expect(escalation.escalation).toEqual({ reason: 'sensitive_topic', priority: 'urgent' });
    expect(escalation.text).toContain('紧急');
  });

  it('offers choices for a question the knowledge base does not cover instead of improvising, and hands off when none fits', async () => {
    const c = await start();
    const res = await say(c, { text: 'Can you recommend a good pizza place in Rome?' });
    expect(res.json.outcome).toBe('clarified');
    expect(res.json.turns.some((x: Json) => x.kind === 'answer')).toBe(false);
    const none = await say(c, { choice: { entryId: null } });
    expect(none.json.turns.at(-1).escalation.reason).toBe('low_confidence');
  });

  it('escalates after the bot answered the same question twice without solving it', async () => {
    const c = await start();
    expect((await say(c, { text: 'How do I reset my password?' })).json.outcome).toBe('answered');
    expect((await say(c, { text: 'how can I reset the password' })).json.outcome).toBe('answered');
    const third = await say(c, { text: 'password reset how??' });
    expect(third.json.turns.at(-1).escalation.reason).toBe('repeated_failure');
  });

  it('thanks the customer who pressed "this solved it" without escalating', async () => {
    const c = await start();
    await say(c, { text: 'What are the trading fees?' });
    const res = await say(c, { action: 'solved' });
    expect(res.json.outcome).toBe('acknowledged');
    expect(res.json.state).toBe('bot');
  });

  it('lists only turns after the given sequence number', async () => {
    const c = await start();
    await say(c, { text: 'What are the trading fees?' });
    const res = await call('GET', `/api/conversations/${c.id}/messages?after=2`, undefined, c.token);
    expect(res.json.turns.map((x: Json) => x.seq)).toEqual([3]);
  });

  describe('bad requests get a 4xx JSON error with a clear message', () => {
    it('rejects a wrong or missing token', async () => {
      const c = await start();
      expect((await call('POST', `/api/conversations/${c.id}/messages`, { text: 'hi' }, 'wrong')).status).toBe(403);
      const missing = await call('GET', `/api/conversations/${c.id}/messages`);
      expect(missing.status).toBe(403);
      expect(missing.json.error.message).toMatch(/token/);
    });

    it('rejects an unknown conversation (404) and a malformed conversation id (400)', async () => {
      const res = await call('POST', '/api/conversations/00000000-0000-4000-8000-000000000000/messages', { text: 'hi' }, 'x');
      expect(res.status).toBe(404);
      const malformed = await call('GET', '/api/conversations/not-a-uuid/messages', undefined, 'x');
      expect(malformed).toMatchObject({ status: 400, json: { error: { code: 'invalid_request' } } });
    });

    it('rejects wrong types, unknown fields, empty text and invalid JSON', async () => {
      const c = await start();
      const wrongType = await say(c, { text: 42 });
      expect(wrongType.status).toBe(400);
      expect(wrongType.json.error.message).toMatch(/text must be a string/);
      expect((await say(c, { text: 'hi', admin: true })).json.error.message).toMatch(/unknown field/);
      expect((await say(c, { text: '   ' })).status).toBe(400);
      expect((await say(c, { action: 'refund' })).status).toBe(400);
      expect((await say(c, {})).status).toBe(400);
      const broken = await call('POST', `/api/conversations/${c.id}/messages`, '{"text": ', c.token);
      expect(broken).toMatchObject({ status: 400, json: { error: { code: 'invalid_json' } } });
      const notJson = await call('POST', '/api/conversations', undefined, undefined, { 'content-type': 'text/plain' });
      expect(notJson.status).toBe(415);
      const undeclared = await call('POST', '/api/conversations', '{"language":"zh"}', undefined, { 'content-type': '' });
      expect(undeclared).toMatchObject({ status: 415, json: { error: { code: 'unsupported_media_type' } } });
      // Every field of a new conversation may be left out, the whole body too.
      expect((await call('POST', '/api/conversations', '')).status).toBe(201);
      expect((await call('POST', `/api/conversations/${c.id}/messages`, '', c.token)).json.error.code).toBe('invalid_request');
      expect((await call('GET', `/api/conversations/${c.id}/messages?after=-1`, undefined, c.token)).status).toBe(400);
    });

    it('rejects an oversized body and truncates a message over the length limit with a notice', async () => {
      const c = await start();
      const huge = await say(c, { text: 'x'.repeat(70_000) });
      expect(huge.status).toBe(413);
      // An overlong message is kept up to the limit and the customer is told, never refused.
      const long = await say(c, { text: '提'.repeat(4001) });
      expect(long.status).toBe(201);
      expect(long.json.turns[0].text).toBe('提'.repeat(4000));
      expect(long.json.turns[1]).toMatchObject({ role: 'bot', kind: 'notice' });
      expect(long.json.turns[1].text).toMatch(/4001/);
    });

    it('answers unknown routes with a JSON 404', async () => {
      const res = await call('GET', '/api/nothing');
      expect(res).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } });
    });
  });

  it('stores a message sent again with the same Idempotency-Key once and answers the repeat with the turns of the first', async () => {
    const c = await start();
    const send = (key: string, text: string) => call('POST', `/api/conversations/${c.id}/messages`, { text }, c.token, { 'idempotency-key': key });
    const first = await send('7f3c2a9e-retry-1', 'How do I reset my password?');
    expect(first.status).toBe(201);
    expect(first.json.outcome).toBe('answered');
    const repeat = await send('7f3c2a9e-retry-1', 'How do I reset my password?');
    expect(repeat.status).toBe(201);
    expect(repeat.json.outcome).toBe('duplicate');
    expect(repeat.json.turns).toEqual(first.json.turns);
    expect(repeat.json.state).toBe(first.json.state);
    // Another key is another message, also with the same text.
    const other = await send('7f3c2a9e-retry-2', 'How do I reset my password?');
    expect(other.json.outcome).toBe('answered');
    const all = await call('GET', `/api/conversations/${c.id}/messages?after=0`, undefined, c.token);
    expect(all.json.turns.filter((x: Json) => x.role === 'customer')).toHaveLength(2);
    // Keys belong to their conversation: the same key elsewhere is a new message there.
    const d = await start();
    const elsewhere = await call('POST', `/api/conversations/${d.id}/messages`, { text: 'How do I reset my password?' }, d.token, {
      'idempotency-key': '7f3c2a9e-retry-1',
    });
    expect(elsewhere.json.outcome).toBe('answered');
    expect(elsewhere.json.turns[0].seq).toBe(2);
  });

  it('stores an action and a language switch sent twice with one key once', async () => {
    const c = await start();
    const key = { 'idempotency-key': 'switch-1' };
    const a = await call('POST', `/api/conversations/${c.id}/messages`, { language: 'zh' }, c.token, key);
    const b = await call('POST', `/api/conversations/${c.id}/messages`, { language: 'zh' }, c.token, key);
    expect(b.json.turns).toEqual(a.json.turns);
    const human = { 'idempotency-key': 'human-1' };
    const h1 = await call('POST', `/api/conversations/${c.id}/messages`, { action: 'human' }, c.token, human);
    const h2 = await call('POST', `/api/conversations/${c.id}/messages`, { action: 'human' }, c.token, human);
    expect(h1.json.outcome).toBe('escalated');
    expect(h2.json).toMatchObject({ outcome: 'duplicate', state: 'escalated', turns: h1.json.turns });
    const all = await call('GET', `/api/conversations/${c.id}/messages?after=0`, undefined, c.token);
    expect(all.json.turns.map((x: Json) => x.kind)).toEqual(['greeting', 'language_switch', ...h1.json.turns.map((x: Json) => x.kind)]);
  });

  it('rejects a malformed Idempotency-Key and lets the widget send one across origins', async () => {
    const c = await start();
    for (const bad of ['', 'has space', 'x'.repeat(256), 'caf\u00e9']) {
      const res = await t.app.request(`/api/conversations/${c.id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}`, 'idempotency-key': bad },
        body: JSON.stringify({ text: 'hello' }),
      });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    const preflight = await t.app.request(`/api/conversations/${c.id}/messages`, {
      method: 'OPTIONS',
      headers: { origin: 'https://exchange.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'idempotency-key' },
    });
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
  });

  it('is ready (GET /readyz 200) with the database answering, migrations applied and the knowledge base loaded', async () => {
    const res = await call('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', knowledge: 'ok' } });
  });

  it('serves the widget page and the embeddable script', async () => {
    const page = await t.app.request('/');
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const script = await t.app.request('/widget.js');
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    const health = await t.app.request('/healthz');
    expect(await health.json()).toMatchObject({ status: 'ok' });
  });
});
