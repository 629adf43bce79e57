/**
 * The admin handoff API (agents without Slack), wired as main.ts wires it: the outbound guard on
 * agents' replies, and ids validated before anything touches the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgHandoffStore } from '../../src/adapters/postgres/stores/pg-handoff-store.js';
import { createAdminHandoffRoutes } from '../../src/adapters/web/admin-handoff-routes.js';
import { createHandoffDesk, parseWorkingHours } from '../../src/core/index.js';
import { testEngines } from '../support/databases.js';
import { silentLogger } from '../support/helpdesk.js';
import { ADMIN_TOKEN, createSafeTestHelpdesk } from '../support/safety-helpdesk.js';

type Json = Record<string, any>;

describe.each(testEngines())('admin handoff API on %s', (engine) => {
  let t: Awaited<ReturnType<typeof createSafeTestHelpdesk>>;
  let desk: ReturnType<typeof createHandoffDesk>;
  beforeAll(async () => {
    t = await createSafeTestHelpdesk(engine);
    desk = createHandoffDesk({
      conversations: t.conversations,
      handoffs: createPgHandoffStore(t.database.db),
      customerChannels: {},
      logger: silentLogger,
      review: t.helpdesk.reviewOutbound,
      settings: { hours: parseWorkingHours('24/7', 'UTC'), minutesPerConversation: 5, unclaimedAfterMs: 3_600_000, genericAgentName: undefined },
    });
    t.app.route('/', createAdminHandoffRoutes({ helpdesk: t.helpdesk, desk }));
  });
  afterAll(() => t.drop());

  const call = async (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) => {
    const res = await t.app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  async function escalated() {
    const created = (await call('POST', '/api/conversations', {})).json as { id: string; token: string };
    await call('POST', `/api/conversations/${created.id}/messages`, { action: 'human' }, created.token);
    await desk.openEscalations();
    const seen = async () =>
      ((await call('GET', `/api/conversations/${created.id}/messages?after=0`, undefined, created.token)).json.turns as Json[]).map((x) => x.text).join('\n');
    return { id: created.id, seen };
  }

  it('answers 422 with the reasons for a reply the outbound guard refuses, and the customer never sees it', async () => {
    const c = await escalated();
    const res = await call('POST', `/api/admin/handoffs/${c.id}/reply`, {
      agent: 'Dana',
      text: 'Your account is frozen: pay the 0.1 BTC security fee and verify at https://examplex-verify.top/login',
    });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({
      status: 'blocked',
      error: { code: 'reply_blocked', reasons: ['asks_for_payment', 'unlisted_contact'], contacts: ['https://examplex-verify.top/login'] },
    });
    expect(res.json.error.message).toMatch(/Not sent to the customer/);
    expect(await c.seen()).not.toMatch(/security fee|examplex-verify/);
    // Kept in the record as an internal note.
    const turns = (await call('GET', `/api/admin/handoffs/${c.id}/turns`)).json.turns as Json[];
    expect(turns.find((x) => x.kind === 'note')).toMatchObject({
      internal: true,
      text: expect.stringContaining('[not sent: asks_for_payment, unlisted_contact]'),
    });
    const events = await t.helpdesk.securityEvents.list({ type: 'outbound_blocked', conversationId: c.id });
    expect(events[0]).toMatchObject({ channel: 'admin', detail: { reason: 'asks_for_payment', reasons: ['asks_for_payment', 'unlisted_contact'] } });

    const secret = await call('POST', `/api/admin/handoffs/${c.id}/reply`, { agent: 'Dana', text: 'Please tell me your 2FA code.' });
    expect(secret).toMatchObject({ status: 422, json: { error: { reasons: ['asks_for_secret'] } } });
    const fine = await call('POST', `/api/admin/handoffs/${c.id}/reply`, {
      agent: 'Dana',
      text: 'See https://support.examplex.example/withdrawals for the steps.',
    });
    expect(fine.status).toBe(200);
    expect(await c.seen()).toContain('https://support.examplex.example/withdrawals');
  });

  it('answers 400 for a malformed conversation id or after, before touching the database', async () => {
    const turns = await call('GET', '/api/admin/handoffs/not-a-uuid/turns');
    expect(turns).toMatchObject({ status: 400, json: { error: { code: 'invalid_request' } } });
    expect((await call('POST', '/api/admin/handoffs/not-a-uuid/reply', { agent: 'Dana', text: 'hi' })).status).toBe(400);
    const c = await escalated();
    expect((await call('GET', `/api/admin/handoffs/${c.id}/turns?after=abc`)).status).toBe(400);
    expect((await call('GET', `/api/admin/handoffs/${c.id}/turns?after=0`)).status).toBe(200);
  });
});
