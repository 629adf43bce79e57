/**
 * Fuzzing every public endpoint of the running product (web API, Telegram webhook, Slack events)
 * with thousands of malformed, oversized, truncated and random inputs while valid traffic continues:
 * no crash, no 5xx, nothing stored from a refused request, and the valid traffic still answered.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeInput } from '../../src/core/index.js';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { FakeSlack } from '../stand-ins/fake-slack.js';
import { type FakeTelegram, startFakeTelegram } from '../stand-ins/fake-telegram.js';
import { createEmptyPostgresDatabase, testEngines } from '../support/databases.js';

const KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge/', import.meta.url));
const TELEGRAM_TOKEN = '123456:FUZZ-token';
const TELEGRAM_SECRET = 'fuzz-webhook-secret';
const WEB_FUZZ = 2400;
const TELEGRAM_FUZZ = 800;
const SLACK_FUZZ = 600;
const VALID_EVERY = 40;

// Deterministic PRNG so that a failure can be replayed.
function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const junk = (n: number) => {
    let out = '';
    for (let i = 0; i < n; i++) {
      const r = next();
      out +=
        r < 0.5
          ? String.fromCharCode(32 + int(95))
          : r < 0.7
            ? String.fromCharCode(int(32))
            : r < 0.8
              ? String.fromCharCode(0xd800 + int(0x800))
              : r < 0.9
                ? String.fromCharCode(0x4e00 + int(0x5000))
                : pick(['\u202e', '\u200b', '\ufeff', '\u0000', '😀', '"', '\\', '{', '}', '[', ']']);
    }
    return out;
  };
  /** Junk that can be put in a URL (no lone surrogates). */
  const urlJunk = (n: number) => junk(n).replace(/[\ud800-\udfff]/g, '?');
  return { next, int, pick, junk, urlJunk };
}

/** One malformed or hostile body (string or bytes) for a JSON endpoint. */
function malformedBody(rnd: ReturnType<typeof createRandom>, valid: string): string | Uint8Array {
  switch (rnd.int(14)) {
    case 0:
      return valid.slice(0, rnd.int(valid.length)); // truncated
    case 1:
      return rnd.junk(rnd.int(300));
    case 2:
      return new Uint8Array(Array.from({ length: rnd.int(400) }, () => rnd.int(256))); // invalid UTF-8
    case 3:
      return `${'['.repeat(5000)}${']'.repeat(5000)}`; // deep nesting
    case 4:
      return JSON.stringify({ text: 'x'.repeat(70_000 + rnd.int(10_000)) }); // over the body limit
    case 5:
      return rnd.pick([
        'null',
        '1',
        '"text"',
        '[]',
        'true',
        '{"text":5}',
        '{"text":null}',
        '{"text":["a"]}',
        '{"action":"delete"}',
        '{"language":"fr"}',
        '{"text":"hi","extra":1}',
        '{"__proto__":{"admin":true},"text":"x"}',
        '{"constructor":{"prototype":{}}}',
      ]);
    case 6:
      return JSON.stringify({ text: rnd.junk(1 + rnd.int(200)) }); // random text: accepted and normalized
    case 7:
      return JSON.stringify({ text: rnd.junk(4100 + rnd.int(3000)) }); // overlong but under the body limit
    case 8:
      return `{"text": "${'\\ud800'.repeat(50)}"}`; // lone surrogates through JSON escapes
    case 9:
      return JSON.stringify({ text: '\u0000\u0001\u0007'.repeat(10) }); // only control characters
    case 10:
      return '';
    case 11:
      return JSON.stringify({ text: 'a', action: 'human', language: 'zh', more: rnd.junk(10) });
    case 12:
      return valid.replace(/"/g, "'");
    default:
      return JSON.stringify({ input: rnd.junk(rnd.int(600)) });
  }
}

describe.each(testEngines())('fuzzing the public endpoints on %s', (engine) => {
  let running: RunningHelpdesk;
  let telegram: FakeTelegram;
  let slack: FakeSlack;
  let dir: string;
  let dropDatabase: (() => Promise<void>) | undefined;
  const statuses = new Map<string, Map<number, number>>();
  const count = (endpoint: string, status: number) => {
    const m = statuses.get(endpoint) ?? new Map<number, number>();
    m.set(status, (m.get(status) ?? 0) + 1);
    statuses.set(endpoint, m);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helpdesk-fuzz-'));
    telegram = await startFakeTelegram({ token: TELEGRAM_TOKEN, maxHoldMs: 200 });
    slack = await new FakeSlack().start();
    let databaseUrl: string | undefined;
    if (engine === 'postgres') {
      const empty = await createEmptyPostgresDatabase();
      databaseUrl = empty.url;
      dropDatabase = empty.drop;
    }
    running = await startHelpdesk({
      env: {
        PORT: '0',
        DATA_DIR: join(dir, 'data'),
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        KNOWLEDGE_DIR,
        KB_WATCH: 'false',
        LOG_LEVEL: 'silent',
        TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_WEBHOOK_URL: 'http://127.0.0.1:9/telegram/webhook',
        TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
        SLACK_BOT_TOKEN: slack.token,
        SLACK_SIGNING_SECRET: slack.signingSecret,
        SLACK_SUPPORT_CHANNEL: 'CSUP',
        SLACK_API_URL: slack.apiUrl,
        ADMIN_TOKEN: 'fuzz-admin-token-0123456789',
        // Every request comes from this one address; the fuzzing is about inputs, not about these limits.
        RATE_LIMIT_CLIENT_CONVERSATIONS: '1000000',
        RATE_LIMIT_CLIENT_MESSAGES: '1000000',
        RATE_LIMIT_CLIENT_REFUSALS: '1000000',
      },
    });
    slack.appUrl = `${running.url}/slack/events`;
  }, 180_000);

  afterAll(async () => {
    await running?.stop();
    await telegram?.close?.();
    await slack?.stop();
    await dropDatabase?.();
    await rm(dir, { recursive: true, force: true });
    const lines = [...statuses].map(
      ([endpoint, m]) =>
        `${endpoint}: ${[...m]
          .sort((a, b) => a[0] - b[0])
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')}`,
    );
    console.info(`fuzz on ${engine}:\n  ${lines.join('\n  ')}`);
  }, 60_000);

  const post = (path: string, body: string | Uint8Array | undefined, headers: Record<string, string> = {}) =>
    fetch(`${running.url}${path}`, { method: 'POST', headers, body: body as BodyInit | undefined });

  /** A real customer, start to answer: must succeed in the middle of the fuzzing. */
  async function validCustomer(i: number): Promise<void> {
    const created = await post('/api/conversations', JSON.stringify({ language: i % 2 ? 'zh' : 'en' }), { 'content-type': 'application/json' });
    expect(created.status).toBe(201);
    const c = (await created.json()) as { id: string; token: string };
    const text = i % 2 ? '我的提现一直没到账' : 'How do I reset my password?';
    const res = await post(`/api/conversations/${c.id}/messages`, JSON.stringify({ text }), {
      'content-type': 'application/json',
      authorization: `Bearer ${c.token}`,
    });
    count('valid web traffic', res.status);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { turns: Array<{ role: string; kind: string }> };
    expect(body.turns.some((t) => t.role === 'bot' && t.kind === 'answer')).toBe(true);
  }

  it(`survives ${WEB_FUZZ} malformed web API requests with valid customers served throughout`, async () => {
    const rnd = createRandom(1);
    const victim = (await (await post('/api/conversations', '{}', { 'content-type': 'application/json' })).json()) as { id: string; token: string };
    let accepted = 0;
    for (let i = 0; i < WEB_FUZZ; i++) {
      if (i % VALID_EVERY === 0) await validCustomer(i / VALID_EVERY);
      const target = rnd.pick([
        `/api/conversations/${victim.id}/messages`,
        `/api/conversations/${victim.id}/messages`,
        '/api/conversations',
        '/api/verify-channel',
        `/api/conversations/${rnd.pick(['x', '../../etc/passwd', '%00', 'a'.repeat(300), '00000000-0000-0000-0000-000000000000', encodeURIComponent(rnd.urlJunk(8))])}/messages`,
        `/api/admin/conversations?state=${encodeURIComponent(rnd.urlJunk(5))}`,
        `/api/conversations/${victim.id}/messages?after=${encodeURIComponent(rnd.pick(['-1', '1e400', 'NaN', '0x10', rnd.urlJunk(4)]))}`,
      ]);
      const method = target.includes('?') ? rnd.pick(['GET', 'GET', 'DELETE', 'PUT']) : rnd.pick(['POST', 'POST', 'POST', 'PATCH', 'GET']);
      const headers: Record<string, string> = {
        'content-type': rnd.pick([
          'application/json',
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          '',
        ]),
        authorization: rnd.pick([
          `Bearer ${victim.token}`,
          `Bearer ${victim.token}`,
          'Bearer',
          `Bearer ${rnd.junk(20).replace(/[^\x21-\x7e]/g, 'a')}`,
          `Basic ${victim.token}`,
          '',
        ]),
      };
      if (!headers['content-type']) delete headers['content-type'];
      if (!headers.authorization) delete headers.authorization;
      const body = method === 'GET' ? undefined : malformedBody(rnd, JSON.stringify({ text: 'How do I reset my password?' }));
      const res = await fetch(`${running.url}${target}`, { method, headers, body: body as BodyInit | undefined });
      count('web API (fuzz)', res.status);
      expect(res.status, `${method} ${target}`).toBeLessThan(500);
      const type = res.headers.get('content-type') ?? '';
      if (res.status >= 400) expect(type).toContain('application/json');
      await res.arrayBuffer();
      if (res.status === 201 && target === `/api/conversations/${victim.id}/messages`) accepted++;
    }
    // Nothing stored from a refused request: the victim's record holds exactly the accepted messages, all normalized.
    const history = await fetch(`${running.url}/api/conversations/${victim.id}/messages?after=0`, { headers: { authorization: `Bearer ${victim.token}` } });
    const turns = ((await history.json()) as { turns: Array<{ role: string; kind: string; text: string }> }).turns;
    expect(turns.filter((t) => t.role === 'customer')).toHaveLength(accepted);
    for (const turn of turns) {
      expect(normalizeInput(turn.text, 100_000).text, 'stored text is normalized').toBe(turn.text);
      expect(Array.from(turn.text).length).toBeLessThanOrEqual(4000 + 200);
    }
  }, 600_000);

  it(`survives ${TELEGRAM_FUZZ} malformed Telegram webhook calls, and still answers a real update`, async () => {
    const rnd = createRandom(2);
    const update = (id: number, text: string) =>
      JSON.stringify({
        update_id: id,
        message: { message_id: id, date: 1_700_000_000, chat: { id: 4242, type: 'private' }, from: { id: 4242, is_bot: false, first_name: 'Fuzz' }, text },
      });
    for (let i = 0; i < TELEGRAM_FUZZ; i++) {
      const secret = rnd.pick([TELEGRAM_SECRET, TELEGRAM_SECRET, 'wrong', '']);
      // U+0000 and lone surrogates inside an accepted update are the known issue below; kept out here.
      const storable = (v: string | Uint8Array) =>
        typeof v === 'string' && secret === TELEGRAM_SECRET ? v.replace(/\u0000|\\u0000|[\ud800-\udfff]|\\ud[89a-f][0-9a-f]{2}/gi, '?') : v;
      const body =
        rnd.next() < 0.3
          ? JSON.stringify({
              update_id: rnd.pick([-1, 0, 1e20, 'x', null, 9_000_000 + i]),
              message: rnd.pick([
                null,
                {},
                { chat: {} },
                { text: rnd.junk(50) },
                { chat: { id: 'x' }, text: 5 },
                { chat: { id: 1 }, from: {}, text: rnd.junk(5000) },
              ]),
            })
          : malformedBody(rnd, update(9_100_000 + i, 'hello'));
      const res = await post('/telegram/webhook', storable(body), {
        'content-type': 'application/json',
        ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}),
      });
      count('Telegram webhook (fuzz)', res.status);
      expect(res.status, `${secret} ${String(storable(body)).slice(0, 300)}`).toBeLessThan(500);
      await res.arrayBuffer();
    }
    const res = await post('/telegram/webhook', update(9_999_999, 'How do I reset my password?'), {
      'content-type': 'application/json',
      'x-telegram-bot-api-secret-token': TELEGRAM_SECRET,
    });
    count('valid Telegram update', res.status);
    expect(res.status).toBe(200);
  }, 600_000);

  it(`survives ${SLACK_FUZZ} malformed Slack events and interactions, signed and unsigned`, async () => {
    const rnd = createRandom(3);
    const failures: string[] = [];
    const requests = Array.from({ length: SLACK_FUZZ }, () => {
      const form = rnd.next() < 0.3;
      const raw = form
        ? `payload=${encodeURIComponent(rnd.pick([rnd.urlJunk(100), JSON.stringify({ type: 'block_actions', actions: [{ action_id: rnd.urlJunk(5) }], channel: { id: 'CEVIL' }, user: { id: 'U1' } }), '{']))}`
        : malformedBody(rnd, JSON.stringify({ type: 'event_callback', event: { type: 'message', channel: 'CSUP', text: 'hi', ts: '1.1' } }));
      const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('latin1');
      const signed = rnd.next() < 0.6;
      const headers: Record<string, string> = {
        'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
        ...(signed
          ? slack.sign(text)
          : { 'x-slack-request-timestamp': String(rnd.int(2e9)), 'x-slack-signature': `v0=${rnd.urlJunk(10)}`.replace(/[^\x21-\x7e]/g, 'a') }),
      };
      // A signed JSON null is the known issue below; kept out here.
      return { body: signed && text === 'null' ? '{}' : signed ? text : raw, headers, signed, text };
    });
    // Slack events the app does not handle are held until the ack timeout: send them 40 at a time.
    for (let i = 0; i < requests.length; i += 40) {
      await Promise.all(
        requests.slice(i, i + 40).map(async (r) => {
          const res = await post('/slack/events', r.body, { ...r.headers, ...(r.signed ? slack.sign(typeof r.body === 'string' ? r.body : r.text) : {}) });
          count('Slack events (fuzz)', res.status);
          if (res.status >= 500) failures.push(`${res.status} signed=${r.signed} ${r.text.slice(0, 200)}`);
          await res.arrayBuffer();
        }),
      );
      await validCustomer(i);
    }
    expect(failures).toEqual([]);
  }, 600_000);

  it('answers a signed Slack request whose body is JSON null with a 4xx', async () => {
    const res = await post('/slack/events', 'null', { 'content-type': 'application/json', ...slack.sign('null') });
    count('Slack JSON null', res.status);
    expect(res.status).toBeLessThan(500);
  });

  it('stores and answers 200 a Telegram update whose text holds U+0000', async () => {
    const res = await post(
      '/telegram/webhook',
      JSON.stringify({
        update_id: 9_999_000,
        message: { message_id: 1, date: 1, chat: { id: 77, type: 'private' }, from: { id: 77, is_bot: false, first_name: 'x' }, text: 'a\u0000b' },
      }),
      { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
    );
    count('Telegram update with U+0000', res.status);
    expect(res.status).toBe(200);
  });

  it('records refused Telegram webhook calls and Slack requests as access denials', async () => {
    const res = await fetch(`${running.url}/api/admin/security-events?type=access_denied&limit=1000`, {
      headers: { authorization: 'Bearer fuzz-admin-token-0123456789' },
    });
    expect(res.status).toBe(200);
    const body = JSON.stringify(await res.json());
    expect(body).toContain('webhook_secret');
    expect(body).toContain('slack_signature');
  });

  it('is still healthy after the fuzzing and served every valid customer', async () => {
    const health = await fetch(`${running.url}/healthz`);
    expect(health.status).toBe(200);
    await validCustomer(0);
    expect(statuses.get('valid web traffic')?.get(201)).toBe(
      statuses.get('valid web traffic') ? [...(statuses.get('valid web traffic') as Map<number, number>).values()].reduce((a, b) => a + b, 0) : 0,
    );
  });
});
