import { asc, desc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import { createPassageSplitter } from '../../src/adapters/local/passage-splitter.js';
import { createPgKnowledgeIndex } from '../../src/adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { kbRevision, logEntry } from '../../src/adapters/postgres/schema/index.js';
import { createConsole } from '../../src/create-console.js';
import { createRetriever, createHelpdesk } from '../../src/core/index.js';
import { AGENT, ADMIN_TOKEN, createTestConsole, EDITOR } from '../support/console.js';
import { testEngines } from '../support/databases.js';
import { silentLogger } from '../support/helpdesk.js';

type Json = Record<string, any>;
type Fetcher = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

/** A browser's view of the admin API: keeps the session cookie, sends the CSRF token once signed in. */
function browser(app: Fetcher) {
  let cookie: string | undefined;
  let csrf: string | undefined;
  async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await app.request(path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(cookie ? { cookie } : {}),
        ...(csrf && method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) cookie = setCookie.split(';')[0];
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: (text ? JSON.parse(text) : {}) as Json };
  }
  return {
    send,
    async login(user: string, password: string) {
      const res = await send('POST', '/api/admin/login', { user, password });
      if (res.status === 200) csrf = res.json.csrfToken;
      return res;
    },
    forgetCsrf() {
      csrf = undefined;
    },
    get cookie() {
      return cookie;
    },
  };
}

/** Automation with the admin token: no cookie, no CSRF token. */
function automation(app: Fetcher) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: (text ? JSON.parse(text) : {}) as Json };
  };
}

const CASHBACK = {
  lang: 'en',
  title: 'How much cashback does the ExampleX card pay?',
  questions: ['What cashback does the ExampleX card give?', 'card cashback rate', 'how much cashback on card purchases'],
  tags: ['card'],
  links: [],
  translation: null,
  body: 'The ExampleX card pays **2% cashback** in USDT on every purchase, credited every Monday.',
};
const CASHBACK_QUESTION = 'How much cashback does the ExampleX card give on purchases?';

describe.each(testEngines())('admin API on %s', (engine) => {
  let t: Awaited<ReturnType<typeof createTestConsole>>;
  let api: ReturnType<typeof automation>;

  beforeAll(async () => {
    t = await createTestConsole(engine);
    api = automation(t.app);
  }, 240_000);
  afterAll(async () => {
    await t?.drop();
  });

  it('signs in with a session cookie that is HttpOnly, SameSite=Strict, limited to the API and Secure behind HTTPS', async () => {
    const res = await t.app.request('/api/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: EDITOR.user, password: EDITOR.password }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/api\/admin/);
    expect(cookie).not.toMatch(/Secure/);
    const body = (await res.json()) as Json;
    expect(body.user).toEqual({ name: EDITOR.user, role: 'kb_editor' });
    expect(body.permissions).toContain('kb.edit');
    expect(typeof body.csrfToken).toBe('string');

    const secure = await t.app.request('/api/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ user: EDITOR.user, password: EDITOR.password }),
    });
    expect(secure.headers.get('set-cookie')).toMatch(/Secure/);
  });

  it('refuses a wrong password with the same answer as an unknown user, and nothing without a session or token', async () => {
    const b = browser(t.app);
    const wrong = await b.login(EDITOR.user, 'not-the-password');
    const unknown = await b.login('nobody-here', 'not-the-password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json.error.message).toBe(unknown.json.error.message);
    expect((await b.send('GET', '/api/admin/kb/entries')).status).toBe(401);
    const badToken = await t.app.request('/api/admin/kb/entries', { headers: { authorization: 'Bearer wrong-token' } });
    expect(badToken.status).toBe(401);
  });

  it("lists and searches entries for a signed-in editor, and refuses a change without the session's CSRF token", async () => {
    const b = browser(t.app);
    expect((await b.login(EDITOR.user, EDITOR.password)).status).toBe(200);
    const all = await b.send('GET', '/api/admin/kb/entries');
    expect(all.status).toBe(200);
    expect(all.json.entries.length).toBeGreaterThan(10);
    const zh = await b.send('GET', '/api/admin/kb/entries?lang=zh');
    expect(zh.json.entries.length).toBeGreaterThan(0);
    expect(zh.json.entries.every((e: Json) => e.lang === 'zh')).toBe(true);
    const found = await b.send('GET', `/api/admin/kb/entries?q=${encodeURIComponent('withdraw')}`);
    expect(found.json.entries.length).toBeGreaterThan(0);
    expect(found.json.entries.length).toBeLessThan(all.json.entries.length);

    b.forgetCsrf();
    const forged = await b.send('PUT', '/api/admin/kb/entries/forged-en', { ...CASHBACK, title: 'Forged' });
    expect(forged.status).toBe(403);
    expect(forged.json.error.code).toBe('csrf_failed');
    expect((await api('GET', '/api/admin/kb/entries/forged-en')).status).toBe(404);
  });

  it('publishes PUT /api/admin/kb/entries/:id as {id, version}, and the hit test then answers with it', async () => {
    const before = await api('POST', '/api/admin/kb/hit-test', { text: CASHBACK_QUESTION });
    expect(before.status).toBe(200);
    expect(before.json.results.map((r: Json) => r.id)).not.toContain('card-cashback-en');

    const b = browser(t.app);
    await b.login(EDITOR.user, EDITOR.password);
    const saved = await b.send('PUT', '/api/admin/kb/entries/card-cashback-en', CASHBACK);
    expect(saved.status).toBe(201);
    expect(saved.json).toEqual({ id: 'card-cashback-en', version: 1 });

    const hit = await b.send('POST', '/api/admin/kb/hit-test', { text: CASHBACK_QUESTION });
    expect(hit.status).toBe(200);
    expect(hit.json.results[0]).toMatchObject({ id: 'card-cashback-en' });
    expect(typeof hit.json.results[0].score).toBe('number');
    expect(hit.json.confidence).toBeGreaterThanOrEqual(hit.json.threshold);
    expect(hit.json.decision).toBe('answer');
    expect(hit.json.reply.at(-1).text).toContain('2% cashback');

    const view = await b.send('GET', '/api/admin/kb/entries/card-cashback-en');
    expect(view.json).toMatchObject({ status: 'published', version: 1, liveVersion: 1, updatedBy: EDITOR.user });
  });

  it('keeps a draft out of the answers until it is published', async () => {
    const draft = await api(
      'PUT',
      '/api/admin/kb/entries/card-cashback-en/draft',
      { ...CASHBACK, body: 'The ExampleX card pays **3% cashback** from next month.' },
      { 'if-match': '"1"' },
    );
    expect(draft.status).toBe(200);
    expect(draft.json.version).toBe(2);
    const hit = await api('POST', '/api/admin/kb/hit-test', { text: CASHBACK_QUESTION });
    expect(hit.json.reply.at(-1).text).toContain('2% cashback');
    const view = await api('GET', '/api/admin/kb/entries/card-cashback-en');
    expect(view.json).toMatchObject({ version: 2, liveVersion: 1, hasDraft: true });
    const published = await api('POST', '/api/admin/kb/entries/card-cashback-en/publish', undefined, { 'if-match': '"2"' });
    expect(published.json).toEqual({ id: 'card-cashback-en', version: 3 });
    const after = await api('POST', '/api/admin/kb/hit-test', { text: CASHBACK_QUESTION });
    expect(after.json.reply.at(-1).text).toContain('3% cashback');
  });

  it('gives the second of two editors saving the same version a 409 with the current text, and loses neither', async () => {
    const first = browser(t.app);
    const second = browser(t.app);
    await first.login(EDITOR.user, EDITOR.password);
    await second.login(EDITOR.user, EDITOR.password);
    const base = (await first.send('GET', '/api/admin/kb/entries/card-cashback-en')).json.version as number;
    const mine = await first.send(
      'PUT',
      '/api/admin/kb/entries/card-cashback-en',
      { ...CASHBACK, body: 'First editor: **3% cashback**, paid on Mondays.' },
      { 'if-match': `"${base}"` },
    );
    expect(mine.status).toBe(200);
    const theirs = await second.send(
      'PUT',
      '/api/admin/kb/entries/card-cashback-en',
      { ...CASHBACK, body: 'Second editor: 4% cashback.' },
      { 'if-match': `"${base}"` },
    );
    expect(theirs.status).toBe(409);
    expect(theirs.json.error.code).toBe('version_conflict');
    expect(theirs.json.error.current.version).toBe(mine.json.version);
    expect(theirs.json.error.current.entry.body).toContain('First editor');
    const live = await api('GET', '/api/admin/kb/entries/card-cashback-en');
    expect(live.json.head.entry.body).toContain('First editor');
  });

  it('shows the history with authors and restores an earlier version as a new one', async () => {
    const history = await api('GET', '/api/admin/kb/entries/card-cashback-en/history');
    const versions = history.json.revisions as Json[];
    expect(versions.map((r) => r.version)).toEqual([1, 2, 3, 4]);
    expect(versions.map((r) => r.status)).toEqual(['published', 'draft', 'published', 'published']);
    expect(versions[0]).toMatchObject({ author: EDITOR.user, origin: 'console' });
    expect(versions[1]).toMatchObject({ author: 'token:admin', origin: 'api' });
    const restored = await api('POST', '/api/admin/kb/entries/card-cashback-en/restore', { version: 1, publish: true }, { 'if-match': '"4"' });
    expect(restored.json).toEqual({ id: 'card-cashback-en', version: 5 });
    const after = await api('GET', '/api/admin/kb/entries/card-cashback-en/history');
    expect(after.json.revisions.at(-1)).toMatchObject({ version: 5, restoredFrom: 1, origin: 'restore', status: 'published' });
    expect(after.json.revisions.at(-1).entry.body).toBe(CASHBACK.body);
  });

  it('saves a translation naming its entry, and shows each side its translation', async () => {
    const zh = await api('PUT', '/api/admin/kb/entries/card-cashback-zh', {
      lang: 'zh',
      title: 'ExampleX 卡的返现是多少？',
      questions: ['卡消费返现多少'],
      tags: ['card'],
      links: [],
      translation: 'card-cashback-en',
      body: 'ExampleX 卡每笔消费返还 **2%** USDT，每周一到账。',
    });
    expect(zh.status).toBe(201);
    const view = await api('GET', '/api/admin/kb/entries/card-cashback-zh');
    expect(view.json.translation).toMatchObject({ id: 'card-cashback-en' });
    expect(view.json.head.entry.translation).toBe('card-cashback-en');
    const missing = await api('PUT', '/api/admin/kb/entries/orphan-zh', { lang: 'zh', title: '孤儿', body: '内容', translation: 'no-such-entry-en' });
    expect(missing.status).toBe(422);
    expect((missing.json.error.issues as Json[]).map((i) => i.field)).toContain('translation');
  });

  it('refuses invalid fields field by field, HTML and scripts in the answer, oversize answers, duplicate ids and stale versions, changing nothing', async () => {
    const invalid = await api('PUT', '/api/admin/kb/entries/broken-en', { lang: 'fr', title: '', questions: 'not a list', body: 'x' });
    expect(invalid.status).toBe(422);
    expect(invalid.json.error.code).toBe('invalid_entry');
    const fields = (invalid.json.error.issues as Json[]).map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['lang', 'title', 'questions']));

    const script = await api('PUT', '/api/admin/kb/entries/script-en', {
      ...CASHBACK,
      title: 'Script',
      body: 'Hello <script>alert(1)</script> <img src=x onerror=alert(2)>',
    });
    expect(script.status).toBe(422);
    expect((script.json.error.issues as Json[]).map((i) => i.code)).toContain('html_in_markdown');

    const jsLink = await api('PUT', '/api/admin/kb/entries/script-en', { ...CASHBACK, title: 'Link', body: 'Click [here](javascript:alert(1))' });
    expect(jsLink.status).toBe(422);
    expect((jsLink.json.error.issues as Json[]).map((i) => i.code)).toContain('unsafe_link');

    const huge = await api('PUT', '/api/admin/kb/entries/huge-en', { ...CASHBACK, title: 'Huge', body: 'word '.repeat(4_100) });
    expect(huge.status).toBe(422);
    expect(huge.json.error.issues).toEqual([expect.objectContaining({ field: 'body', code: 'too_long' })]);

    const duplicate = await api('PUT', '/api/admin/kb/entries/card-cashback-en', { ...CASHBACK, title: 'Another' }, { 'if-none-match': '*' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.error.code).toBe('duplicate_id');

    const stale = await api('PUT', '/api/admin/kb/entries/card-cashback-en', { ...CASHBACK, body: 'stale' }, { 'if-match': '"1"' });
    expect(stale.status).toBe(409);

    const unknownField = await api('PUT', '/api/admin/kb/entries/card-cashback-en', { ...CASHBACK, author: 'mallory' });
    expect(unknownField.status).toBe(400);
    const notJson = await t.app.request('/api/admin/kb/entries/card-cashback-en', {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(notJson.status).toBe(415);

    for (const id of ['broken-en', 'script-en', 'huge-en']) expect((await api('GET', `/api/admin/kb/entries/${id}`)).status).toBe(404);
    const history = await api('GET', '/api/admin/kb/entries/card-cashback-en/history');
    expect(history.json.revisions).toHaveLength(5);
  });

  it('lets an agent read and hit-test but not edit', async () => {
    const b = browser(t.app);
    await b.login(AGENT.user, AGENT.password);
    expect((await b.send('GET', '/api/admin/kb/entries')).status).toBe(200);
    expect((await b.send('POST', '/api/admin/kb/hit-test', { text: CASHBACK_QUESTION })).status).toBe(200);
    const edit = await b.send('PUT', '/api/admin/kb/entries/card-cashback-en', CASHBACK);
    expect(edit.status).toBe(403);
    expect(edit.json.error.code).toBe('forbidden');
    expect((await b.send('GET', '/api/admin/kb/gaps')).status).toBe(403);
  });

  it('reports questions customers asked that the bot could not answer, clustered, and answers them once an entry is published', async () => {
    const asked = [
      'Can I pay my electricity bill with the Lightning gift voucher?',
      'can i pay electricity bills with a lightning gift voucher',
      'Is there a Lightning gift voucher for electricity bills?',
    ];
    const conversations: string[] = [];
    for (const text of asked) {
      const started = await t.app.request('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"language":"en"}' });
      const { id, token } = (await started.json()) as Json;
      conversations.push(id);
      const reply = await t.app.request(`/api/conversations/${id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ text }),
      });
      expect(reply.ok).toBe(true);
    }
    const gaps = await api('GET', '/api/admin/kb/gaps?days=7');
    expect(gaps.status).toBe(200);
    const cluster = (gaps.json.clusters as Json[]).find((c) => (c.questions as Json[]).some((q) => /voucher/i.test(q.text)));
    expect(cluster).toBeDefined();
    expect(cluster?.count).toBeGreaterThanOrEqual(2);
    expect(cluster?.signals.low_confidence).toBeGreaterThanOrEqual(2);

    const saved = await api('PUT', '/api/admin/kb/entries/lightning-voucher-en', {
      lang: 'en',
      title: 'Can I pay bills with a Lightning gift voucher?',
      questions: ((cluster?.questions ?? []) as Json[]).map((q) => q.text),
      tags: ['vouchers'],
      links: [],
      body: 'Lightning gift vouchers can only be redeemed for crypto on ExampleX; they cannot pay electricity or other bills.',
    });
    expect(saved.status).toBe(201);
    const hit = await api('POST', '/api/admin/kb/hit-test', { text: asked[0] });
    expect(hit.json.results[0].id).toBe('lightning-voucher-en');
    expect(hit.json.decision).toBe('answer');

    // Erased conversations leave the report.
    for (const id of conversations) await t.turnLog.erase(id);
    const after = await api('GET', '/api/admin/kb/gaps?days=7');
    expect(JSON.stringify(after.json.clusters)).not.toMatch(/voucher/i);
  });

  it('logs every knowledge change in the turn log (entry, version, content hash, author) and the audit verifies it', async () => {
    const rows = await t.database.db.select({ header: logEntry.header }).from(logEntry).where(eq(logEntry.kind, 'knowledge')).orderBy(asc(logEntry.idx));
    const headers = rows.map((r) => JSON.parse(Buffer.from(r.header).toString('utf8')) as Json).filter((h) => h.entry === 'card-cashback-en');
    expect(headers.map((h) => [h.version, h.op, h.by])).toEqual([
      [1, 'publish', EDITOR.user],
      [2, 'draft', 'token:admin'],
      [3, 'publish', 'token:admin'],
      [4, 'publish', EDITOR.user],
      [5, 'publish', 'token:admin'],
    ]);
    expect(headers.every((h) => /^[0-9a-f]{64}$/.test(h.hash))).toBe(true);
    const report = await t.turnLog.verify();
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);

    // History cannot be rewritten behind the log's back.
    const tampered = await t.database.db.execute("UPDATE kb_revision SET body = 'tampered' WHERE entry_id = 'card-cashback-en'").then(
      () => 'updated',
      (error: Error) => String((error.cause as Error | undefined)?.message ?? error.message),
    );
    expect(tampered).toMatch(/append-only/);
  });

  it('answers with a change published on another instance within its next search after half a second', async () => {
    // A second instance: its own knowledge index (and copies) on the same database.
    const otherIndex = createPgKnowledgeIndex(t.database);
    const embedder = createLocalEmbedder();
    const other = createHelpdesk({
      conversations: t.conversations,
      knowledge: otherIndex,
      embedder,
      retriever: createRetriever({ index: otherIndex, embedder }),
      splitPassages: createPassageSplitter(),
      answerer: undefined,
      logger: silentLogger,
      settings: { exchangeName: 'ExampleX', answerThreshold: 0.5, maxMessageChars: 4000 },
    });
    const warm = await other.hitTest(CASHBACK_QUESTION);
    expect(warm.reply.at(-1)?.text).toContain('2% cashback');
    const current = (await api('GET', '/api/admin/kb/entries/card-cashback-en')).json.version as number;
    await api(
      'PUT',
      '/api/admin/kb/entries/card-cashback-en',
      { ...CASHBACK, body: 'The ExampleX card now pays **5% cashback**.' },
      { 'if-match': `"${current}"` },
    );
    await new Promise((r) => setTimeout(r, 600));
    const after = await other.hitTest(CASHBACK_QUESTION);
    expect(after.reply.at(-1)?.text).toContain('5% cashback');
  });

  it('ends the session on logout, locks an account after repeated failures, and expires idle sessions', async () => {
    const b = browser(t.app);
    await b.login(EDITOR.user, EDITOR.password);
    expect((await b.send('POST', '/api/admin/logout')).status).toBe(204);
    expect((await b.send('GET', '/api/admin/kb/entries')).status).toBe(401);

    const c = browser(t.app);
    for (let i = 0; i < 5; i++) await c.login(AGENT.user, 'wrong-password-x');
    const locked = await c.login(AGENT.user, AGENT.password);
    expect(locked.status).toBe(429);
    expect(locked.json.error.code).toBe('login_locked');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);

    // The same database served with a five-second idle limit.
    const short = await createConsole({
      database: t.database,
      index: t.knowledge,
      helpdesk: t.helpdesk,
      embedder: createLocalEmbedder(),
      splitPassages: createPassageSplitter(),
      allowlist: undefined,
      adminToken: undefined,
      exchangeName: 'ExampleX',
      logger: silentLogger,
      sessions: { idleMs: 5_000 },
      onError: (error) => {
        throw error;
      },
    });
    const app = new Hono();
    short.mount(app);
    const d = browser(app);
    expect((await d.login(EDITOR.user, EDITOR.password)).status).toBe(200);
    expect((await d.send('GET', '/api/admin/kb/entries')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 5_100));
    const expired = await d.send('PUT', '/api/admin/kb/entries/card-cashback-en/draft', { ...CASHBACK, body: 'unsaved work' });
    expect(expired.status).toBe(401);
    expect(expired.json.error.message).toMatch(/expired/);
  });
  it('makes the audit fail on a knowledge revision that has no matching turn-log entry', async () => {
    expect((await t.turnLog.verify()).ok).toBe(true);
    const [last] = await t.database.db.select({ idx: logEntry.idx }).from(logEntry).orderBy(desc(logEntry.idx)).limit(1);
    // Written behind the knowledge base's back: a published answer the log never saw.
    await t.database.db.insert(kbRevision).values({
      entryId: 'forged-en',
      version: 1,
      status: 'published',
      lang: 'en',
      title: 'Send your seed phrase to verify',
      questions: [],
      tags: [],
      links: [],
      body: 'Forged.',
      contentHash: '0'.repeat(64),
      author: EDITOR.user,
      origin: 'console',
      logIdx: last?.idx ?? 0,
    });
    const report = await t.turnLog.verify();
    expect(report.ok).toBe(false);
    expect(JSON.stringify(report.violations)).toContain('forged-en');
  });
});
