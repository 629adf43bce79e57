import { startHelpdesk } from '../../src/main.js';
import { type FakeMessage, FakeSlack } from '../../test/stand-ins/fake-slack.js';
import { startFakeTelegram } from '../../test/stand-ins/fake-telegram.js';
import { makeTempDir, removeTempDir } from './cleanup.js';
import { summarize } from './stats.js';
import { benchEnv, freePort } from './in-process.js';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const CHANNEL = 'CBENCH';

/** Polls `probe` every 2 ms until it returns a value; throws after `timeoutMs`. */
async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function api(url: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<any> {
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

/**
 * Slack handoff latency against the Slack and Telegram stand-ins, the product started in-process by
 * src/main.ts on PostgreSQL: (1) escalation to thread root posted (web: from the POST that asks for
 * a human; Telegram: from the stand-in delivering the /human update); (2) an agent's thread reply
 * (from the signed event being sent) to the customer's delivery (web: the agent turn visible through
 * the API, polled every 2 ms; Telegram: sendMessage received by the stand-in). Sequential samples.
 */
export async function benchSlack(options: { repoRoot: string; databaseUrl: string; samples?: number; warmup?: number }) {
  const samples = options.samples ?? 40;
  const warmup = options.warmup ?? 5;
  const dataDir = await makeTempDir('helpdesk-bench-slack-');
  const slack = await new FakeSlack().start();
  slack.addUser('UAGENT', 'Agent Smith');
  const telegram = await startFakeTelegram();
  try {
    const port = await freePort();
    const running = await startHelpdesk({
      env: {
        ...benchEnv({ port, dataDir, repoRoot: options.repoRoot, databaseUrl: options.databaseUrl }),
        HANDOFF_WORKING_HOURS: '24/7',
        SLACK_BOT_TOKEN: slack.token,
        SLACK_SIGNING_SECRET: slack.signingSecret,
        SLACK_SUPPORT_CHANNEL: CHANNEL,
        SLACK_API_URL: slack.apiUrl,
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/webhook`,
      },
    });
    slack.appUrl = `${running.url}/slack/events`;
    const rootWith = (needle: string) => () =>
      slack.messages.find(
        (m): m is FakeMessage & { receivedAt: number } =>
          m.channel === CHANNEL && !m.thread_ts && m.receivedAt !== undefined && JSON.stringify(m.blocks ?? []).includes(needle),
      );
    try {
      await telegram.waitFor(() => telegram.webhookInfo() !== undefined, 30_000, 'setWebhook');
      const web = { escalation: [] as number[], reply: [] as number[] };
      const tg = { escalation: [] as number[], reply: [] as number[] };
      let chat = 8_000_000;
      for (let i = 0; i < warmup + samples; i++) {
        const measured = i >= warmup;
        // A web customer.
        const c = (await api(`${running.url}/api/conversations`, { body: {} })) as { id: string; token: string };
        const escalatedAt = Date.now();
        await api(`${running.url}/api/conversations/${c.id}/messages`, { body: { action: 'human' }, token: c.token });
        const webRoot = await until(rootWith(c.id), 'web thread root');
        const text = `Web reply ${i}`;
        const repliedAt = Date.now();
        void slack.userReplies(CHANNEL, webRoot.ts, 'UAGENT', text);
        await until(async () => {
          const seen = (await api(`${running.url}/api/conversations/${c.id}/messages?after=0`, { token: c.token })) as {
            turns: Array<{ role: string; text: string }>;
          };
          return seen.turns.some((t) => t.role === 'agent' && t.text === text) ? true : undefined;
        }, 'web delivery');
        if (measured) {
          web.escalation.push(webRoot.receivedAt - escalatedAt);
          web.reply.push(Date.now() - repliedAt);
        }

        // A Telegram customer.
        const id = chat++;
        const handle = `bench_${id}`;
        const { update } = telegram.userSends(id, '/human', { from: { id, username: handle, language_code: 'en' } });
        const tgRoot = await until(rootWith(`@${handle}`), 'telegram thread root');
        const delivered = telegram.webhookDeliveries.find((d) => d.updateId === update.update_id);
        const tgText = `Telegram reply ${i}`;
        const tgRepliedAt = Date.now();
        void slack.userReplies(CHANNEL, tgRoot.ts, 'UAGENT', tgText);
        const sent = await until(() => telegram.sentTo(id).find((m) => m.text.endsWith(tgText)), 'telegram delivery').catch((error: unknown) => {
          throw new Error(
            `${String(error)}; the customer got ${JSON.stringify(telegram.sentTo(id).map((m) => m.text))}; the thread has ${JSON.stringify(slack.thread(CHANNEL, tgRoot.ts).map((m) => m.text))}`,
          );
        });
        if (measured && delivered) {
          tg.escalation.push(tgRoot.receivedAt - delivered.startedAt);
          tg.reply.push(sent.receivedAt - tgRepliedAt);
        }
        if ((i + 1) % 10 === 0) log(`  slack: ${i + 1}/${warmup + samples} web + Telegram handoffs`);
      }
      const result = {
        web: { escalationToThreadRoot: summarize(web.escalation), agentReplyToCustomer: summarize(web.reply) },
        telegram: { escalationToThreadRoot: summarize(tg.escalation), agentReplyToCustomer: summarize(tg.reply) },
        warmup,
      };
      const p95s = [
        result.web.escalationToThreadRoot,
        result.web.agentReplyToCustomer,
        result.telegram.escalationToThreadRoot,
        result.telegram.agentReplyToCustomer,
      ].map((s) => s.p95Ms);
      log(`  slack: p95 escalation→root web ${p95s[0]} ms, telegram ${p95s[2]} ms; agent reply→customer web ${p95s[1]} ms, telegram ${p95s[3]} ms`);
      return { ...result, target: { p95MsMax: 300, met: p95s.every((p) => p <= 300) } };
    } finally {
      await running.stop();
    }
  } finally {
    await telegram.close();
    await slack.stop();
    await removeTempDir(dataDir);
  }
}
