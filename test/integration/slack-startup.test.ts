import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHelpdesk } from '../../src/main.js';
import { FakeSlack } from '../stand-ins/fake-slack.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';

const ADMIN = 'admin-token-0123456789';
const post = (url: string, body: unknown, token?: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describe('handoff wiring in the composition root', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helpdesk-slack-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('posts an escalation to Slack when SLACK_* are set and takes agent replies at /slack/events', async () => {
    const fake = await new FakeSlack().start();
    const running = await startHelpdesk({
      env: {
        PORT: '0',
        DATA_DIR: join(dir, 'a'),
        KNOWLEDGE_DIR,
        KB_WATCH: 'false',
        LOG_LEVEL: 'silent',
        SLACK_BOT_TOKEN: fake.token,
        SLACK_SIGNING_SECRET: fake.signingSecret,
        SLACK_SUPPORT_CHANNEL: 'CSUP',
        SLACK_API_URL: fake.apiUrl,
        HANDOFF_WORKING_HOURS: '24/7',
      },
    });
    try {
      fake.appUrl = `${running.url}/slack/events`;
      const c = (await (await post(`${running.url}/api/conversations`, {})).json()) as { id: string; token: string };
      await post(`${running.url}/api/conversations/${c.id}/messages`, { action: 'human' }, c.token);
      const root = await vi.waitFor(
        () => {
          const r = fake.posted('CSUP').find((m) => !m.thread_ts);
          if (!r) throw new Error('no root');
          return r;
        },
        { timeout: 10_000 },
      );
      await fake.userReplies('CSUP', root.ts, 'UX', 'Hello from Slack');
      await vi.waitFor(
        async () => {
          const res = await fetch(`${running.url}/api/conversations/${c.id}/messages?after=0`, { headers: { authorization: `Bearer ${c.token}` } });
          const body = (await res.json()) as { turns: Array<{ role: string; text: string }> };
          expect(body.turns.some((t) => t.role === 'agent' && t.text === 'Hello from Slack')).toBe(true);
        },
        { timeout: 10_000 },
      );
    } finally {
      await running.stop();
      await fake.stop();
    }
  }, 120_000);

  it('without Slack, tells the customer the wait and lets an agent answer through the admin API', async () => {
    const running = await startHelpdesk({
      env: { PORT: '0', DATA_DIR: join(dir, 'b'), KNOWLEDGE_DIR, KB_WATCH: 'false', LOG_LEVEL: 'silent', ADMIN_TOKEN: ADMIN, HANDOFF_WORKING_HOURS: '24/7' },
    });
    try {
      const c = (await (await post(`${running.url}/api/conversations`, {})).json()) as { id: string; token: string };
      await post(`${running.url}/api/conversations/${c.id}/messages`, { action: 'human' }, c.token);
      const list = await vi.waitFor(
        async () => {
          const res = await fetch(`${running.url}/api/admin/handoffs`, { headers: { authorization: `Bearer ${ADMIN}` } });
          const body = (await res.json()) as { handoffs: Array<{ conversationId: string }> };
          if (!body.handoffs.some((h) => h.conversationId === c.id)) throw new Error('not open yet');
          return body;
        },
        { timeout: 10_000 },
      );
      expect(list.handoffs[0]?.conversationId).toBe(c.id);
      expect((await fetch(`${running.url}/api/admin/handoffs`)).status).toBe(403);
      const replied = await post(`${running.url}/api/admin/handoffs/${c.id}/reply`, { agent: 'Dana', text: 'Hi, Dana here.' }, ADMIN);
      expect(replied.status).toBe(200);
      const res = await fetch(`${running.url}/api/conversations/${c.id}/messages?after=0`, { headers: { authorization: `Bearer ${c.token}` } });
      const body = (await res.json()) as { turns: Array<{ role: string; kind: string; text: string; author?: string }> };
      expect(body.turns.find((t) => t.kind === 'handoff' && t.role === 'bot')?.text).toMatch(/minute/);
      expect(body.turns.find((t) => t.role === 'agent' && t.kind === 'message')).toMatchObject({ text: 'Hi, Dana here.', author: 'Dana' });
      expect((await post(`${running.url}/api/admin/handoffs/${c.id}/resolve`, { agent: 'Dana' }, ADMIN)).status).toBe(200);
    } finally {
      await running.stop();
    }
  }, 120_000);
});
