/**
 * Limits per client on the running product (`npm start` composition), behind one trusted proxy:
 * new conversations, messages and refusals per client address, the global cap on new
 * conversations, and refusals recorded as one event per client and window.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { createEmptyPostgresDatabase, testEngines } from '../support/databases.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';

const ADMIN = 'limits-admin-token-0123456789';
type Json = Record<string, any>;

describe.each(testEngines())('limits per client on %s', (engine) => {
  let running: RunningHelpdesk;
  let dir: string;
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helpdesk-limits-'));
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
        ADMIN_TOKEN: ADMIN,
        // The test plays a reverse proxy on 127.0.0.1 that appends each client's address.
        TRUST_PROXY: '1',
        RATE_LIMIT_CLIENT_CONVERSATIONS: '3',
        RATE_LIMIT_CLIENT_MESSAGES: '5',
        RATE_LIMIT_CLIENT_REFUSALS: '5',
        RATE_LIMIT_GLOBAL_CONVERSATIONS: '8',
        RATE_LIMIT_CLIENT_WINDOW_SECONDS: '600',
      },
    });
  }, 180_000);

  afterAll(async () => {
    await running?.stop();
    await dropDatabase?.();
    await rm(dir, { recursive: true, force: true });
  });

  /** A request from `client`, as the proxy forwards it (whatever the client put in X-Forwarded-For itself comes first). */
  async function from(client: string, method: string, path: string, options: { body?: unknown; token?: string; spoofed?: string } = {}) {
    const res = await fetch(`${running.url}${path}`, {
      method,
      headers: {
        'x-forwarded-for': options.spoofed ? `${options.spoofed}, ${client}` : client,
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as Json };
  }
  const start = (client: string, spoofed?: string) => from(client, 'POST', '/api/conversations', { body: {}, ...(spoofed ? { spoofed } : {}) });
  const events = async (type: string) =>
    ((await from('192.0.2.250', 'GET', `/api/admin/security-events?type=${type}&limit=1000`, { token: ADMIN })).json.events ?? []) as Json[];

  it('limits new conversations per client with 429, Retry-After and a clear error; other clients go on, and a forged X-Forwarded-For entry changes nothing', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await start('198.51.100.1')).status);
    const refused = await start('198.51.100.1');
    expect(statuses).toEqual([201, 201, 201]);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.json.error).toMatchObject({ code: 'rate_limited' });
    expect(refused.json.error.message).toMatch(/wait \d+ seconds/);
    expect(refused.json.error.message).toMatch(/请 \d+ 秒后再试/);
    expect((await start('198.51.100.1', '203.0.113.99')).status).toBe(429);
    expect((await start('198.51.100.2')).status).toBe(201);
  });

  it("limits a client's messages across its conversations", async () => {
    const client = '198.51.100.3';
    const conversations = [(await start(client)).json, (await start(client)).json] as Array<{ id: string; token: string }>;
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const c = conversations[i % 2] as { id: string; token: string };
      statuses.push((await from(client, 'POST', `/api/conversations/${c.id}/messages`, { body: { text: `What are the fees? ${i}` }, token: c.token })).status);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
  });

  it('refuses every request of a client after too many refusals, and records them as one event with the count', async () => {
    const client = '198.51.100.4';
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await from(client, 'GET', '/api/admin/conversations', { token: `wrong-token-${i}-0123456789` })).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403]);
    // Even with the right token now, and on any route.
    expect((await from(client, 'GET', '/api/admin/conversations', { token: ADMIN })).status).toBe(429);
    expect((await start(client)).status).toBe(429);
    const denials = (await events('access_denied')).filter((e) => e.detail.client === client);
    expect(denials).toHaveLength(1);
    expect(denials[0]?.detail).toMatchObject({ count: 5, reason: 'wrong_admin_token', route: 'GET /api/admin/conversations' });
    const limited = (await events('rate_limited')).filter((e) => e.detail.client === client);
    expect(limited).toHaveLength(1);
    expect(limited[0]?.detail).toMatchObject({ count: 2, reason: 'client_refusals' });
  });

  it('caps new conversations from all clients together', async () => {
    // 3 + 1 + 2 conversations above; the global cap is 8.
    const statuses = [];
    for (let i = 10; i < 13; i++) statuses.push((await start(`198.51.100.${i}`)).status);
    expect(statuses).toEqual([201, 201, 429]);
    const refused = await start('198.51.100.20');
    expect(refused.status).toBe(429);
    const global = (await events('rate_limited')).filter((e) => e.detail.reason === 'global_conversations');
    expect(global.map((e) => e.detail.count)).toEqual([1, 1]);
  });
});
