import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTION_CLAIM } from '../../src/adapters/slack/slack-messages.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { type FakeMessage, FakeSlack } from '../stand-ins/fake-slack.js';
import { createEmptyPostgresDatabase, testEngines } from '../support/databases.js';
import { call, KNOWLEDGE_DIR } from '../support/helpdesk.js';

// The real bolt App and @slack/socket-mode client, wired by the composition root (startHelpdesk)
// with SLACK_APP_TOKEN set, against the stand-in's Web API and Socket Mode WebSocket.

const CHANNEL = 'CSUPPORT';
type Json = Record<string, any>;

/** The environment of a helpdesk whose Slack side runs in Socket Mode against `fake`. */
function socketModeEnv(fake: FakeSlack, dataDir: string, databaseUrl?: string): Record<string, string> {
  return {
    PORT: '0',
    DATA_DIR: dataDir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    KNOWLEDGE_DIR,
    KB_WATCH: 'false',
    LOG_LEVEL: 'silent',
    HANDOFF_WORKING_HOURS: '24/7',
    SLACK_BOT_TOKEN: fake.token,
    SLACK_SIGNING_SECRET: fake.signingSecret,
    SLACK_SUPPORT_CHANNEL: CHANNEL,
    SLACK_API_URL: fake.apiUrl,
    SLACK_APP_TOKEN: fake.socket.appToken,
    SLACK_RETRY_BASE_MS: '10',
    SLACK_RETRY_MAX_MS: '200',
  };
}

describe.each(testEngines())('Slack in Socket Mode on %s', (engine) => {
  let fake: FakeSlack;
  let dir: string;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let running: RunningHelpdesk;

  beforeAll(async () => {
    fake = await new FakeSlack().start();
    fake.addUser('UALICE', 'Alice');
    fake.addUser('UBOB', 'Bob');
    dir = await mkdtemp(join(tmpdir(), 'helpdesk-slack-socket-'));
    database = engine === 'postgres' ? await createEmptyPostgresDatabase() : undefined;
    running = await startHelpdesk({ env: socketModeEnv(fake, dir, database?.url) });
    // bolt connects in the background once the helpdesk listens.
    await vi.waitFor(() => expect(fake.socket.connections).toBe(1), { timeout: 30_000 });
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await database?.drop();
    await fake?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const webCustomer = async () => {
    const c = (await call(running.url, 'POST', '/api/conversations', { language: 'en' })).json as { id: string; token: string };
    return {
      ...c,
      say: (body: Json) => call(running.url, 'POST', `/api/conversations/${c.id}/messages`, body, c.token),
      seen: async () =>
        (await call(running.url, 'GET', `/api/conversations/${c.id}/messages?after=0`, undefined, c.token)).json as { state: string; turns: Json[] },
    };
  };
  const rootOf = (conversationId: string): FakeMessage | undefined =>
    fake.posted(CHANNEL).find((m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(conversationId));
  /** A web customer who asked for a human, and the thread root posted for them. */
  const escalated = async () => {
    const customer = await webCustomer();
    expect((await customer.say({ action: 'human' })).json.outcome).toBe('escalated');
    const root = await vi.waitFor(
      () => {
        const found = rootOf(customer.id);
        if (!found) throw new Error('no thread root yet');
        return found;
      },
      { timeout: 10_000 },
    );
    return { customer, root };
  };
  const agentTexts = async (customer: Awaited<ReturnType<typeof webCustomer>>) =>
    (await customer.seen()).turns.filter((t) => t.role === 'agent' && t.kind === 'message').map((t) => t.text as string);

  it('opens its connection with the app-level token through apps.connections.open and gets hello', () => {
    const opens = fake.calls.filter((c) => c.method === 'apps.connections.open');
    expect(opens.length).toBeGreaterThan(0);
    expect(opens.every((c) => c.token === fake.socket.appToken)).toBe(true);
    expect(fake.socket.hellos).toBeGreaterThan(0);
  });

  it('posts the thread root of an escalation through the Web API with the bot token', async () => {
    const { customer, root } = await escalated();
    expect(JSON.stringify(root.blocks)).toContain(ACTION_CLAIM);
    const post = fake.calls.find((c) => c.method === 'chat.postMessage' && JSON.stringify(c.params.blocks ?? '').includes(customer.id));
    expect(post?.token).toBe(fake.token);
  });

  it('acks an agent thread reply arriving over the socket and relays it to the web customer', async () => {
    const { customer, root } = await escalated();
    const sent = await fake.userRepliesOverSocket(CHANNEL, root.ts, 'UALICE', 'Hi, Alice here over Socket Mode.');
    expect(sent.status).toBe(200);
    expect(sent.attempts).toBe(1);
    expect(fake.socket.deliveries.find((d) => d.envelope_id === sent.envelopeId)?.type).toBe('events_api');
    await vi.waitFor(async () => {
      const turn = (await customer.seen()).turns.find((t) => t.role === 'agent' && t.kind === 'message');
      expect(turn).toMatchObject({ text: 'Hi, Alice here over Socket Mode.', author: 'Alice' });
    });
  });

  it('relays a reply once when Slack redelivers its envelope (retry_attempt 1) because the ack was lost', async () => {
    const { customer, root } = await escalated();
    const retryAfterMs = fake.socket.retryAfterMs;
    fake.socket.retryAfterMs = 300;
    fake.socket.loseAcks(1);
    try {
      const event = {
        type: 'message',
        channel: CHANNEL,
        user: 'UBOB',
        text: 'Only once over the socket',
        ts: '1800000003.000001',
        thread_ts: root.ts,
        channel_type: 'channel',
      };
      const sent = await fake.sendSocketEvent(event, { eventId: 'EvSOCKETRETRY1' });
      expect(sent.status).toBe(200);
      expect(sent.attempts).toBe(2);
      const deliveries = fake.socket.deliveries.filter((d) => d.envelope_id === sent.envelopeId);
      expect(deliveries.map((d) => [d.retry_attempt, d.retry_reason])).toEqual([
        [0, ''],
        [1, 'timeout'],
      ]);
      expect(fake.socket.acks.filter((a) => a.envelope_id === sent.envelopeId)).toHaveLength(2);
      expect(deliveries.every((d) => (d.payload as Json).event_id === 'EvSOCKETRETRY1')).toBe(true);
    } finally {
      fake.socket.retryAfterMs = retryAfterMs;
    }
    // A later reply on the same path is relayed after both deliveries were handled.
    await fake.userRepliesOverSocket(CHANNEL, root.ts, 'UBOB', 'A later reply');
    await vi.waitFor(async () => expect(await agentTexts(customer)).toContain('A later reply'));
    expect((await agentTexts(customer)).filter((t) => t === 'Only once over the socket')).toHaveLength(1);
  });

  it('claims the conversation when Claim arrives as an interactive envelope', async () => {
    const { customer, root } = await escalated();
    const clicked = await fake.clickButtonOverSocket(root, ACTION_CLAIM, 'UBOB');
    expect(clicked.status).toBe(200);
    expect(fake.socket.deliveries.find((d) => d.envelope_id === clicked.envelopeId)?.type).toBe('interactive');
    await vi.waitFor(() =>
      expect(
        fake
          .thread(CHANNEL, root.ts)
          .map((m) => m.text)
          .join('\n'),
      ).toContain('Claimed by <@UBOB>'),
    );
    await vi.waitFor(() => expect(JSON.stringify(rootOf(customer.id)?.blocks)).toContain('Claimed by <@UBOB>'));
    expect(JSON.stringify(rootOf(customer.id)?.blocks)).not.toContain(ACTION_CLAIM);
  });

  it('answers /helpdesk sent as a slash_commands envelope with the queue in the ack payload', async () => {
    const { customer } = await escalated();
    const listed = await fake.slashCommandOverSocket('/helpdesk', '', 'UBOB', CHANNEL);
    expect(listed.status).toBe(200);
    const envelope = fake.socket.deliveries.find((d) => d.envelope_id === listed.envelopeId);
    expect(envelope).toMatchObject({ type: 'slash_commands', accepts_response_payload: true });
    expect(listed.ack?.payload).toMatchObject({ response_type: 'ephemeral' });
    const text = String(listed.ack?.payload?.text);
    expect(text).toMatch(/open conversations?:/);
    expect(text).toContain(customer.id);
  });

  it('reconnects through apps.connections.open after Slack sends disconnect (refresh_requested) and still handles the next event', async () => {
    const { customer, root } = await escalated();
    const hellos = fake.socket.hellos;
    const opened = fake.socket.opened;
    fake.socket.disconnect('refresh_requested');
    // The client waits a few seconds before it reconnects (its clientPingTimeout, 5 s).
    await vi.waitFor(() => expect(fake.socket.hellos).toBeGreaterThan(hellos), { timeout: 30_000 });
    expect(fake.socket.opened).toBeGreaterThan(opened);
    expect(fake.socket.connections).toBe(1);
    const sent = await fake.userRepliesOverSocket(CHANNEL, root.ts, 'UALICE', 'Still here after the refresh');
    expect(sent.status).toBe(200);
    await vi.waitFor(async () => expect(await agentTexts(customer)).toContain('Still here after the refresh'));
  }, 60_000);

  it('reconnects after a disconnect even when apps.connections.open fails once on the way', async () => {
    const { customer, root } = await escalated();
    const hellos = fake.socket.hellos;
    fake.fail('apps.connections.open', { status: 500 });
    fake.socket.disconnect('refresh_requested');
    await vi.waitFor(() => expect(fake.socket.hellos).toBeGreaterThan(hellos), { timeout: 45_000 });
    expect(fake.calls.some((c) => c.method === 'apps.connections.open' && c.status === 500)).toBe(true);
    await fake.userRepliesOverSocket(CHANNEL, root.ts, 'UALICE', 'Back after a failed reconnect');
    await vi.waitFor(async () => expect(await agentTexts(customer)).toContain('Back after a failed reconnect'));
  }, 90_000);

  it('keeps running when Slack refuses the app-level token during a reconnect (invalid_auth), and reconnects once it is accepted again', async () => {
    const { customer, root } = await escalated();
    const hellos = fake.socket.hellos;
    const refusedBefore = fake.calls.filter((c) => c.method === 'apps.connections.open' && c.status === 200).length;
    // invalid_auth is final for @slack/socket-mode: unhandled, it would end Socket Mode (and the
    // test run would report the unhandled rejection).
    fake.fail('apps.connections.open', { error: 'invalid_auth' }, 3);
    fake.socket.disconnect('refresh_requested');
    await vi.waitFor(() => expect(fake.socket.hellos).toBeGreaterThan(hellos), { timeout: 60_000 });
    expect(fake.calls.filter((c) => c.method === 'apps.connections.open' && c.status === 200).length - refusedBefore).toBeGreaterThanOrEqual(4);
    expect(fake.socket.connections).toBe(1);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    await fake.userRepliesOverSocket(CHANNEL, root.ts, 'UALICE', 'Back after the token was accepted again');
    await vi.waitFor(async () => expect(await agentTexts(customer)).toContain('Back after the token was accepted again'));
  }, 90_000);

  it('answers POST /slack/events with 404: events come over the socket only', async () => {
    fake.appUrl = `${running.url}/slack/events`;
    const res = await fake.sendEvent(
      { type: 'message', channel: CHANNEL, user: 'UBOB', text: 'over HTTP', ts: '1800000009.000001', channel_type: 'channel' },
      { retries: 0 },
    );
    expect(res.status).toBe(404);
  });
});

describe('Socket Mode configuration', () => {
  it('rejects a SLACK_APP_TOKEN that is not an app-level token (xapp-…), before anything starts', async () => {
    const fake = new FakeSlack();
    const env = { ...socketModeEnv(fake, join(tmpdir(), 'helpdesk-never-created')), SLACK_API_URL: 'http://127.0.0.1:9/api/', SLACK_APP_TOKEN: fake.token };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/SLACK_APP_TOKEN: expected an app-level token/);
    await expect(startHelpdesk({ env })).rejects.toThrow(ConfigError);
    expect(() => loadConfig({ ...env, SLACK_APP_TOKEN: fake.socket.appToken })).not.toThrow();
  });

  it('is refused by the stand-in when a bot token asks for a Socket Mode connection, as by Slack', async () => {
    const fake = await new FakeSlack().start();
    try {
      const open = (token: string) =>
        fetch(`${fake.apiUrl}apps.connections.open`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<Json>);
      expect(await open(fake.token)).toEqual({ ok: false, error: 'not_allowed_token_type' });
      expect((await open(fake.socket.appToken)).url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);
    } finally {
      await fake.stop();
    }
  });
});
