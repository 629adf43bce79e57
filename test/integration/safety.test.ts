import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { wordlist as simplifiedChinese } from '@scure/bip39/wordlists/simplified-chinese.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/adapters/postgres/db/database.js';
import type { RawKnowledgeFile } from '../../src/core/index.js';
import { testEngines } from '../support/databases.js';
import { seededMnemonic } from '../support/mnemonics.js';
import { ADMIN_TOKEN, createSafeTestHelpdesk } from '../support/safety-helpdesk.js';

type Json = Record<string, any>;

describe.each(testEngines())('safety on %s', (engine) => {
  let t: Awaited<ReturnType<typeof createSafeTestHelpdesk>>;
  beforeAll(async () => {
    t = await createSafeTestHelpdesk(engine, { rateLimit: { limit: 5, windowMs: 3_600_000 }, maxMessageChars: 300 });
  });
  afterAll(() => t.drop());

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await t.app.request(path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, json: (await res.json()) as Json };
  };
  const start = async (language?: 'zh' | 'en') => {
    const res = await call('POST', '/api/conversations', language ? { language } : {});
    expect(res.status).toBe(201);
    return res.json as { id: string; token: string; turns: Json[] };
  };
  const say = (c: { id: string; token: string }, body: Json) => call('POST', `/api/conversations/${c.id}/messages`, body, c.token);

  /** Every row of every table as text: where a leaked secret would show up. */
  async function everythingStored(): Promise<string> {
    const tables = await queryRows<{ table_name: string }>(
      t.database.db,
      sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const dumps: string[] = [];
    for (const { table_name } of tables) {
      const rows = await queryRows<{ row: string }>(t.database.db, sql.raw(`SELECT t::text AS row FROM "${table_name}" t`));
      dumps.push(...rows.map((r) => r.row));
    }
    return dumps.join('\n');
  }

  it('removes a recovery phrase before storing, warns the customer in English at once and records the event by type only', async () => {
    const c = await start('en');
    const phrase = seededMnemonic('safety-en', english);
    const numbered = phrase
      .split(' ')
      .map((w, i) => `${i + 1}. ${w}`)
      .join('\n');
    const res = await say(c, { text: `My withdrawal is stuck, support asked me to verify my wallet:\n${numbered}` });
    expect(res.status).toBe(201);
    const [customer, warning] = res.json.turns;
    expect(customer.text).toContain('[recovery phrase removed]');
    expect(warning).toMatchObject({ role: 'bot', kind: 'notice', language: 'en' });
    expect(warning.text).toMatch(/recovery \(seed\) phrase/);
    expect(warning.text).toMatch(/move your funds/);
    const stored = await everythingStored();
    for (const word of phrase.split(' ').filter((w) => w.length > 5)) expect(stored).not.toContain(`. ${word}\n`);
    expect(stored).not.toContain(phrase.split(' ').slice(0, 4).join('\n'));
    const events = await t.events.list({ type: 'secret_removed', conversationId: c.id });
    expect(events).toHaveLength(1);
    expect(events[0]?.detail).toEqual({ secretTypes: ['recovery_phrase'], count: 1 });
    for (const word of phrase.split(' ')) expect(JSON.stringify(events)).not.toMatch(new RegExp(`\\b${word}\\b`));
  });

  it('removes a Chinese phrase and a password and warns in Chinese', async () => {
    const c = await start('zh');
    const phrase = seededMnemonic('safety-zh', simplifiedChinese, 256);
    const res = await say(c, { text: `我的助记词是 ${phrase}，登录密码是 Abc12345!，帮我找回资产` });
    const [customer, warning] = res.json.turns;
    expect(customer.text).toContain('[recovery phrase removed]');
    expect(customer.text).toContain('[password removed]');
    expect(customer.text).not.toContain('Abc12345');
    expect(warning).toMatchObject({ role: 'bot', kind: 'notice', language: 'zh' });
    expect(warning.text).toContain('助记词');
    expect(warning.text).toContain('修改密码');
    const stored = await everythingStored();
    expect(stored).not.toContain('Abc12345');
    expect(stored).not.toContain(phrase);
  });

  it("keeps the secret out of the agents' view of an escalated conversation too", async () => {
    const c = await start('en');
    await say(c, { action: 'human' });
    const res = await say(c, { text: `the agent wants my 2FA code: 123456 and my private key 0x${'a1b2c3d4'.repeat(8)}` });
    expect(res.json.outcome).toBe('forwarded');
    const [customer, warning] = res.json.turns;
    expect(customer.text).toBe('the agent wants my 2FA code: [2FA code removed] and my private key [private key removed]');
    expect(warning.text).toMatch(/scammer/);
    expect(await everythingStored()).not.toContain('a1b2c3d4a1b2c3d4');
  });

  it("warns in the conversation's language: a Chinese conversation is warned in Chinese about a message that was only an English phrase, with no escalation", async () => {
    const c = await start('zh');
    const res = await say(c, { text: seededMnemonic('safety-zh-only-phrase', english) });
    expect(res.status).toBe(201);
    expect(res.json.outcome).toBe('acknowledged');
    const [customer, warning, ...rest] = res.json.turns;
    expect(customer.text).toBe('[recovery phrase removed]');
    expect(warning).toMatchObject({ role: 'bot', kind: 'notice', language: 'zh' });
    expect(warning.text).toContain('助记词');
    expect(rest).toEqual([]);
    const seen = await call('GET', `/api/conversations/${c.id}/messages`, undefined, c.token);
    expect(seen.json).toMatchObject({ state: 'bot', language: 'zh' });
  });

  it('treats "support asked me for my recovery words" as an urgent scam report, in English and in Chinese', async () => {
    const en = await start('en');
    const reported = await say(en, { text: 'support asked me for my recovery words, is that normal?' });
    expect(reported.json.outcome).toBe('escalated');
    const escalation = reported.json.turns.find((turn: Json) => turn.kind === 'escalation');
    expect(escalation.escalation).toEqual({ reason: 'scam_report', priority: 'urgent' });
    expect(escalation.text).toContain('scam attempt');
    expect(escalation.text).toMatch(/marked urgent/);

    const zh = await start('zh');
    const phrase = seededMnemonic('safety-scam-zh', simplifiedChinese);
    const res = await say(zh, { text: `客服让我提供助记词：${phrase.replace(/ /g, '')}` });
    expect(res.json.outcome).toBe('escalated');
    const [customer, warning] = res.json.turns;
    expect(customer.text).toMatch(/^客服让我提供助记词：\[recovery phrase removed\]$/);
    expect(warning).toMatchObject({ kind: 'notice', language: 'zh' });
    expect(warning.text).toContain('骗子');
    const zhEscalation = res.json.turns.find((turn: Json) => turn.kind === 'escalation');
    expect(zhEscalation).toMatchObject({ language: 'zh', escalation: { reason: 'scam_report', priority: 'urgent' } });
    expect(zhEscalation.text).toContain('诈骗');
    const listed = await call('GET', '/api/admin/conversations?state=escalated', undefined, ADMIN_TOKEN);
    expect(listed.json.conversations.find((v: Json) => v.id === zh.id)).toMatchObject({ priority: 'urgent', escalationReason: 'scam_report' });
  });

  it('removes the part of a phrase split over two messages that is in the second, says what happened, and records it', async () => {
    const c = await start('en');
    const words = seededMnemonic('safety-split', english).split(' ');
    const first = await say(c, { text: `my seed phrase is ${words.slice(0, 6).join(' ')}` });
    expect(first.status).toBe(201);
    const second = await say(c, { text: words.slice(6).join(' ') });
    const [customer, warning] = second.json.turns;
    expect(customer.text).toBe('[recovery phrase removed]');
    expect(warning.text).toMatch(/last two messages together/);
    expect(warning.text).toMatch(/previous message had already been recorded/);
    const events = await t.events.list({ type: 'secret_removed', conversationId: c.id });
    expect(events[0]?.detail).toEqual({ secretTypes: ['recovery_phrase'], count: 1, acrossMessages: true });
    expect(await everythingStored()).not.toContain(words.slice(6, 9).join(' '));
  });

  it('removes a private key from a message about a failed deposit', async () => {
    const c = await start('en');
    const key = 'e9873d79c6d87dc0fb6a5778633389f4453213303da61f20bd67fc233aa33262';
    const res = await say(c, { text: `my deposit failed, my key is ${key}` });
    expect(res.json.turns[0].text).toBe('my deposit failed, my key is [private key removed]');
    expect(await everythingStored()).not.toContain(key);
  });

  it('keeps a transaction hash the customer needs to send', async () => {
    const c = await start('en');
    const txid = `0x${'9f8e7d6c'.repeat(8)}`;
    const res = await say(c, { text: `My deposit has not arrived, txid ${txid}` });
    expect(res.json.turns[0].text).toContain(txid);
    expect(res.json.turns.some((turn: Json) => /removed it/.test(turn.text))).toBe(false);
  });

  it('truncates an overlong message with a notice instead of refusing it', async () => {
    const c = await start('en');
    const long = `How do I reset my password? ${'Please help. '.repeat(60)}`;
    const res = await say(c, { text: long });
    expect(res.status).toBe(201);
    const [customer, notice] = res.json.turns;
    expect(Array.from(customer.text as string).length).toBeLessThanOrEqual(300);
    expect(long.startsWith(customer.text)).toBe(true);
    expect(notice).toMatchObject({ role: 'bot', kind: 'notice' });
    expect(notice.text).toContain(`(${long.length} characters), so I kept the first 300`);
    expect(res.json.turns.at(-1).kind).not.toBe('notice');
  });

  it('normalizes control characters, bidi overrides and invalid Unicode before storing', async () => {
    const c = await start('en');
    const res = await say(c, { text: 'How do I\u0000 reset my\u202e password\ud800?\u0007' });
    expect(res.status).toBe(201);
    expect(res.json.turns[0].text).toBe('How do I reset my password\ufffd?');
  });

  it('limits each customer politely: 429 with the wait, in their language, and the refusals are recorded as one event with their count', async () => {
    const c = await start('zh');
    const statuses: number[] = [];
    let refusal: Json | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await say(c, { text: `怎么重置密码 ${i}` });
      statuses.push(res.status);
      if (res.status === 429) refusal = { ...res.json, retryAfter: res.headers.get('retry-after') };
    }
    expect(statuses.slice(0, 5)).toEqual([201, 201, 201, 201, 201]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(refusal?.error.code).toBe('rate_limited');
    expect(refusal?.error.message).toContain('请稍候');
    expect(Number(refusal?.retryAfter)).toBeGreaterThan(0);
    const limited = await t.helpdesk.securityEvents.list({ type: 'rate_limited', conversationId: c.id });
    expect(limited).toHaveLength(1);
    expect(limited[0]?.detail).toMatchObject({ count: 3, reason: 'messages_per_window' });
    const history = await call('GET', `/api/conversations/${c.id}/messages?after=0`, undefined, c.token);
    expect(history.json.turns.filter((turn: Json) => turn.role === 'customer')).toHaveLength(5);
    // Another customer is not affected.
    const other = await start('en');
    expect((await say(other, { text: 'fees' })).status).toBe(201);
  });

  it('refuses the admin listing without the admin token, records the denials as one event with their count and reasons, and lists escalations with it', async () => {
    const c = await start('en');
    await say(c, { action: 'human' });
    expect((await call('GET', '/api/admin/conversations?state=escalated')).status).toBe(403);
    expect((await call('GET', '/api/admin/conversations?state=escalated', undefined, 'wrong-token-wrong-token')).status).toBe(403);
    expect((await call('GET', '/api/admin/conversations?state=escalated', undefined, c.token)).status).toBe(403);
    const denials = (await t.helpdesk.securityEvents.list({ type: 'access_denied' })).filter((d) => d.channel === 'admin');
    expect(denials).toHaveLength(1);
    expect(denials[0]?.detail).toMatchObject({ count: 3, reason: 'wrong_admin_token', reasons: { wrong_admin_token: 2, missing_admin_token: 1 } });
    // One row in the table, not one per refused request.
    expect((await t.events.list({ type: 'access_denied' })).filter((d) => d.channel === 'admin')).toHaveLength(1);
    const ok = await call('GET', '/api/admin/conversations?state=escalated', undefined, ADMIN_TOKEN);
    expect(ok.status).toBe(200);
    expect(ok.json.conversations.map((v: Json) => v.id)).toContain(c.id);
    expect(ok.json.conversations.every((v: Json) => v.state === 'escalated')).toBe(true);
    const events = await call('GET', '/api/admin/security-events?type=access_denied', undefined, ADMIN_TOKEN);
    expect(events.json.events.length).toBeGreaterThanOrEqual(1);
  });

  it("records a request with another conversation's token as a denial", async () => {
    const a = await start('en');
    const b = await start('en');
    const res = await call('GET', `/api/conversations/${a.id}/messages?after=0`, undefined, b.token);
    expect(res.status).toBe(403);
    const post = await call('POST', `/api/conversations/${a.id}/messages`, { text: 'hi' });
    expect(post.status).toBe(403);
    const denials = await t.helpdesk.securityEvents.list({ type: 'access_denied', conversationId: a.id });
    expect(denials).toHaveLength(1);
    expect(denials[0]?.detail).toMatchObject({ count: 2, reasons: { missing_token: 1, wrong_token: 1 } });
  });

  it('tells whether a channel is official through the verify endpoint, and names lookalikes', async () => {
    const official = await call('POST', '/api/verify-channel', { input: 'https://t.me/ExampleXSupportBot' });
    expect(official.json).toMatchObject({ official: true, kind: 'telegram', matched: '@ExampleXSupportBot' });
    const fake = await call('POST', '/api/verify-channel', { input: '@ExampleX_Support_Bot', language: 'zh' });
    expect(fake.json).toMatchObject({ official: false, kind: 'telegram', imitates: '@ExampleXSupportBot' });
    expect(fake.json.message).toContain('不是');
    const phone = await call('POST', '/api/verify-channel', { input: '+1 (555) 010-9999' });
    expect(phone.json).toMatchObject({ official: false, kind: 'phone' });
    expect(phone.json.message).toContain('no phone support');
    expect((await call('POST', '/api/verify-channel', { input: '' })).status).toBe(400);
    const list = await call('GET', '/api/official-channels?language=en');
    expect(list.json.channels.telegramHandles).toEqual(['@ExampleXSupportBot', '@ExampleXAnnouncements']);
  });

  it('answers "is this official?" typed in the chat with the check instead of an article', async () => {
    const c = await start('en');
    const res = await say(c, { text: 'Is @ExampleXSupport_Official your official account? He says my account is frozen' });
    const reply = res.json.turns.at(-1);
    expect(reply).toMatchObject({ role: 'bot', kind: 'notice' });
    expect(reply.text).toContain('NOT an official');
    expect(reply.text).toContain('@ExampleXSupportBot');
  });

  it("states the official channels in the Telegram greeting, and behind the widget's Verify control on the web", async () => {
    const telegram = await t.helpdesk.startConversation({ channel: 'telegram', externalId: 'official-greeting', language: 'en' });
    expect(telegram.turns[0]?.text).toContain('@ExampleXSupportBot');
    expect(telegram.turns[0]?.text).toContain('no phone support');
    const c = await start('en');
    expect(c.turns[0]?.text).not.toContain('@ExampleXSupportBot');
    const list = await call('GET', '/api/official-channels?language=en');
    expect(list.json.message).toContain('@ExampleXSupportBot');
  });

  it('rejects at sync a knowledge entry that names an unlisted contact, and keeps the others', async () => {
    const files: RawKnowledgeFile[] = [
      {
        source: 'en/fake-hotline.md',
        frontMatter: { id: 'fake-hotline-en', lang: 'en', title: 'Phone support' },
        body: 'Call our hotline +1 415 555 0100 or write to @ExampleXHelpDesk.',
      },
      {
        source: 'en/fine.md',
        frontMatter: { id: 'fine-en', lang: 'en', title: 'Contact', links: [{ title: 'explorer', url: 'https://explorer.example.org/tx' }] },
        body: 'Write to support@examplex.example or see https://explorer.example.org/tx/abc and https://support.examplex.example/contact.',
      },
    ];
    const report = await t.helpdesk.syncKnowledge(files);
    expect(report.problems).toEqual([expect.objectContaining({ source: 'en/fake-hotline.md', reason: expect.stringContaining('+1 415 555 0100') })]);
    expect(report.added).toContain('fine-en');
    const events = await t.events.list({ type: 'knowledge_contact_rejected' });
    expect(events[0]?.detail.reason).toBe('en/fake-hotline.md');
  });

  it('accepts the starter knowledge base: every contact in it is official or one of its links', () => {
    expect(t.report.problems).toEqual([]);
  });
});
