import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCheckpointFolder } from '../../src/adapters/postgres/turn-log/log-checkpoint-files.js';
import { createPgTurnLog, type PgTurnLog } from '../../src/adapters/postgres/turn-log/pg-turn-log.js';
import {
  createSlackLogPublisher,
  noteFromSlackText,
  type SlackLogPublisher,
  type SlackLogPublisherOptions,
} from '../../src/adapters/slack/slack-log-publisher.js';
import { createLogProofRoutes } from '../../src/adapters/web/log-proof-routes.js';
import { loadConfig } from '../../src/config.js';
import { startHelpdesk } from '../../src/main.js';
import { generateSignerKey, leafHash, openCheckpoint, parseSignerKey, parseVerifierKey, verifyConsistency, verifyInclusion } from '../../src/core/index.js';
import { FakeSlack } from '../stand-ins/fake-slack.js';
import { testEngines } from '../support/databases.js';
import { createTestHelpdesk, KNOWLEDGE_DIR, silentLogger } from '../support/helpdesk.js';
import { asOwner, rawExec } from '../support/log-tampering.js';

const ORIGIN = 'publishing.example/turn-log';
const SIGNER = parseSignerKey(generateSignerKey(ORIGIN));
const VERIFIER = parseVerifierKey(SIGNER.verifierKey);
const INTERVAL_MS = 600_000;
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'turn-log-publishing-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('turn log publishing configuration', () => {
  const slack = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_SUPPORT_CHANNEL: 'CSUPPORT' };

  it('posts checkpoints only when SLACK_LOG_CHANNEL is set, every 600 s unless told otherwise', () => {
    expect(loadConfig(slack).turnLog).toMatchObject({ slackChannel: undefined, slackIntervalMs: 600_000 });
    expect(loadConfig({ ...slack, SLACK_LOG_CHANNEL: 'C0LOG', SLACK_LOG_INTERVAL_S: '60' }).turnLog).toMatchObject({
      slackChannel: 'C0LOG',
      slackIntervalMs: 60_000,
    });
  });

  it('refuses a log channel without Slack, a channel name instead of an id, and a bad interval', () => {
    expect(() => loadConfig({ SLACK_LOG_CHANNEL: 'C0LOG' })).toThrow(/SLACK_LOG_CHANNEL: needs Slack/);
    expect(() => loadConfig({ ...slack, SLACK_LOG_CHANNEL: '#turn-log' })).toThrow(/SLACK_LOG_CHANNEL: expected a channel id/);
    expect(() => loadConfig({ ...slack, SLACK_LOG_INTERVAL_S: '0' })).toThrow(/SLACK_LOG_INTERVAL_S/);
  });
});

describe('turn log publishing in the composition root', () => {
  it('posts checkpoints to SLACK_LOG_CHANNEL and serves proofs when the server runs with Slack', async () => {
    const fake = await new FakeSlack().start();
    const dataDir = tempDir();
    const running = await startHelpdesk({
      env: {
        PORT: '0',
        DATA_DIR: dataDir,
        KNOWLEDGE_DIR,
        KB_WATCH: 'false',
        LOG_LEVEL: 'silent',
        LOG_ORIGIN: ORIGIN,
        LOG_CHECKPOINT_INTERVAL_MS: '100',
        SLACK_BOT_TOKEN: fake.token,
        SLACK_SIGNING_SECRET: fake.signingSecret,
        SLACK_SUPPORT_CHANNEL: 'CSUP',
        SLACK_API_URL: fake.apiUrl,
        SLACK_LOG_CHANNEL: 'CMAINLOG',
        SLACK_LOG_INTERVAL_S: '3600',
      },
    });
    try {
      const post = (path: string, body: unknown, token?: string) =>
        fetch(`${running.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        });
      const c = (await (await post('/api/conversations', { language: 'en' })).json()) as { id: string; token: string };
      expect((await post(`/api/conversations/${c.id}/messages`, { text: 'How do I reset my password?' }, c.token)).status).toBe(201);
      const message = await vi.waitFor(
        () => {
          const m = fake.posted('CMAINLOG')[0];
          if (!m) throw new Error('no checkpoint posted yet');
          return m;
        },
        { timeout: 15_000, interval: 50 },
      );
      const publicKey = (await (await fetch(`${running.url}/log/public-key`)).text()).trim();
      const opened = openCheckpoint(noteFromSlackText(message.text) ?? '', parseVerifierKey(publicKey), ORIGIN);
      expect(opened.ok).toBe(true);
      const size = opened.ok ? opened.checkpoint.size : 0;
      expect(size).toBeGreaterThan(0);
      const proof = await fetch(`${running.url}/log/consistency?first=1&second=${size}`);
      expect(proof.status).toBe(200);
      expect((await fetch(`${running.url}/log/consistency?first=2&second=1`)).status).toBe(400);
      // No alert: the log is intact.
      expect(fake.posted().filter((m) => /INTEGRITY ALERT/.test(m.text))).toEqual([]);
    } finally {
      await running.stop();
      await fake.stop();
    }
  }, 120_000);
});

describe.each(testEngines())('turn log publishing on %s', (engine) => {
  const tag = engine === 'pglite' ? 'LITE' : 'PG';
  let fake: FakeSlack;
  let t: Awaited<ReturnType<typeof createTestHelpdesk>>;
  let log: PgTurnLog;
  /** Publishers told about each new checkpoint, as main.ts wires the publish hook. */
  const listeners = new Set<SlackLogPublisher>();
  const clock = { now: 1_000_000 };

  beforeAll(async () => {
    fake = await new FakeSlack().start();
    const folder = createCheckpointFolder(tempDir());
    t = await createTestHelpdesk(engine, {
      turnLog: (database) =>
        (log = createPgTurnLog({
          database,
          origin: ORIGIN,
          signer: SIGNER,
          publish: async (note) => {
            await folder.publish(note);
            for (const p of listeners) p.notify();
          },
        })),
    });
    t.app.route('/', createLogProofRoutes({ log }));
  });
  afterAll(async () => {
    for (const p of listeners) await p.stop();
    await fake?.stop();
    await t?.drop();
  });

  /** A publisher on the fake Slack; driven by `runOnce` and the test clock unless started. */
  function publisher(options: Partial<SlackLogPublisherOptions> & { checkpointChannel: string | undefined; alertChannel: string }, realClock = false) {
    const p = createSlackLogPublisher({
      options: {
        botToken: fake.token,
        apiUrl: fake.apiUrl,
        intervalMs: INTERVAL_MS,
        retryBaseMs: 1000,
        retryMaxMs: 60_000,
        origin: ORIGIN,
        publicKey: SIGNER.verifierKey,
        timeoutMs: 5000,
        ...options,
      },
      latestCheckpoint: () => log.latestCheckpoint(),
      logger: silentLogger,
      ...(realClock ? {} : { now: () => clock.now }),
    });
    listeners.add(p);
    return p;
  }

  /** One customer message through the web API (a greeting, the message and the bot's answer are logged). */
  async function customerSays(text: string): Promise<void> {
    const created = await t.app.request('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"language":"en"}' });
    const { id, token } = (await created.json()) as { id: string; token: string };
    const said = await t.app.request(`/api/conversations/${id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ text }),
    });
    expect(said.status).toBe(201);
  }

  async function grow(): Promise<number> {
    await customerSays('How do I reset my password?');
    const checkpoint = await log.checkpointNow();
    return checkpoint?.size ?? 0;
  }

  const postsTo = (channel: string) => fake.posted(channel);
  const postCalls = (channel: string) => fake.calls.filter((c) => c.method === 'chat.postMessage' && c.params.channel === channel);
  const sizeOf = (note: string) => {
    const opened = openCheckpoint(note, VERIFIER, ORIGIN);
    if (!opened.ok) throw new Error(`checkpoint does not verify: ${opened.reason}`);
    return opened.checkpoint;
  };
  const postedSizes = (channel: string) => postsTo(channel).map((m) => sizeOf(noteFromSlackText(m.text) ?? '').size);

  it('posts a signed checkpoint that verifies with the public key and matches GET /log/checkpoint', async () => {
    const channel = `C${tag}CHECKPOINT`;
    const p = publisher({ checkpointChannel: channel, alertChannel: channel, stateFile: join(tempDir(), 'slack-posted.json') }, true);
    p.start();
    await customerSays('我的提现一直没到账');
    await log.checkpointNow();
    await vi.waitFor(() => expect(postsTo(channel)).toHaveLength(1), { timeout: 15_000, interval: 50 });
    const publicKey = (await (await t.app.request('/log/public-key')).text()).trim();
    const served = await (await t.app.request('/log/checkpoint')).text();
    const note = noteFromSlackText((postsTo(channel)[0] as { text: string }).text) ?? '';
    const opened = openCheckpoint(note, parseVerifierKey(publicKey), ORIGIN);
    expect(opened.ok).toBe(true);
    expect(opened.ok && opened.checkpoint.size).toBe(sizeOf(served).size);
    expect(note).toBe(served);
    expect(opened.ok && opened.checkpoint.root.equals((await log.head()).root)).toBe(true);
    // A note altered in the channel no longer verifies.
    expect(
      openCheckpoint(
        note.replace(/\n(\d+)\n/, (_, n: string) => `\n${Number(n) + 1}\n`),
        parseVerifierKey(publicKey),
        ORIGIN,
      ).ok,
    ).toBe(false);
    await p.stop();
    listeners.delete(p);
  });

  it('posts at most once per interval, the newest checkpoint, and never the same size twice (restarts included)', async () => {
    const channel = `C${tag}RATE`;
    const stateFile = join(tempDir(), 'slack-posted.json');
    const p = publisher({ checkpointChannel: channel, alertChannel: channel, stateFile });
    const start = clock.now;
    const first = await grow();
    await p.runOnce();
    expect(postedSizes(channel)).toEqual([first]);

    const second = await grow();
    expect(second).toBeGreaterThan(first);
    clock.now = start + 1000;
    await p.runOnce();
    clock.now = start + INTERVAL_MS - 1;
    await p.runOnce();
    expect(postedSizes(channel)).toEqual([first]);

    const third = await grow();
    clock.now = start + INTERVAL_MS;
    await p.runOnce();
    expect(postedSizes(channel)).toEqual([first, third]);

    clock.now = start + 3 * INTERVAL_MS;
    await p.runOnce();
    expect(postedSizes(channel)).toEqual([first, third]);

    // A restarted publisher remembers the last size it posted.
    const restarted = publisher({ checkpointChannel: channel, alertChannel: channel, stateFile });
    await restarted.runOnce();
    expect(postedSizes(channel)).toEqual([first, third]);
    const fourth = await grow();
    await restarted.runOnce();
    expect(postedSizes(channel)).toEqual([first, third, fourth]);
    expect(postCalls(channel)).toHaveLength(3);
  });

  it('keeps checkpointing while Slack is down (500, network, 429) and posts the newest checkpoint after recovery', async () => {
    const channel = `C${tag}DOWN`;
    const p = publisher({ checkpointChannel: channel, alertChannel: channel });
    const start = clock.now;
    const before = await grow();
    fake.down({ status: 500 });
    try {
      await p.runOnce();
      expect(postCalls(channel).map((c) => c.status)).toEqual([500]);
      // The log is not blocked: checkpoints are still signed and published.
      const during = await grow();
      expect(during).toBeGreaterThan(before);
      clock.now = start + 999;
      await p.runOnce();
      expect(postCalls(channel)).toHaveLength(1);
    } finally {
      fake.recover();
    }
    fake.fail('chat.postMessage', { network: true });
    clock.now = start + 1000;
    await p.runOnce();
    expect(postCalls(channel).map((c) => c.status)).toEqual([500, 0]);

    fake.fail('chat.postMessage', { status: 429, retryAfterS: 30 });
    clock.now = start + 1000 + 2000;
    await p.runOnce();
    expect(postCalls(channel).map((c) => c.status)).toEqual([500, 0, 429]);
    // Slack's Retry-After is honoured.
    clock.now = start + 3000 + 29_999;
    await p.runOnce();
    expect(postCalls(channel)).toHaveLength(3);
    expect(postsTo(channel)).toEqual([]);

    const newest = await grow();
    clock.now = start + 3000 + 30_000;
    await p.runOnce();
    expect(postCalls(channel).map((c) => c.status)).toEqual([500, 0, 429, 200]);
    expect(postedSizes(channel)).toEqual([newest]);
    expect(p.postedSize).toBe(newest);
  });

  it('serves consistency proofs that verify between two signed checkpoints, and inclusion proofs by index', async () => {
    const older = sizeOf((await log.checkpointNow())?.note ?? '');
    await grow();
    await grow();
    const newer = sizeOf((await log.checkpointNow())?.note ?? '');
    expect(newer.size).toBeGreaterThan(older.size);

    const res = await t.app.request(`/log/consistency?first=${older.size}&second=${newer.size}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { first: number; second: number; proof: string[] };
    expect(body).toMatchObject({ first: older.size, second: newer.size });
    const proof = body.proof.map((h) => Buffer.from(h, 'base64'));
    expect(proof.length).toBeGreaterThan(0);
    expect(verifyConsistency(older.size, newer.size, proof, older.root, newer.root)).toBe(true);
    // The proof binds these two trees: another root or a changed hash fails.
    expect(verifyConsistency(older.size, newer.size, proof, newer.root, newer.root)).toBe(false);
    const flipped = proof.map((h, i) => (i === 0 ? Buffer.from(h.map((b, j) => (j === 0 ? b ^ 1 : b))) : h));
    expect(verifyConsistency(older.size, newer.size, flipped, older.root, newer.root)).toBe(false);

    const same = (await (await t.app.request(`/log/consistency?first=${newer.size}&second=${newer.size}`)).json()) as { proof: string[] };
    expect(same.proof).toEqual([]);

    for (const index of [0, older.size - 1, older.size, newer.size - 1]) {
      const inc = await t.app.request(`/log/inclusion?index=${index}&size=${newer.size}`);
      expect(inc.status).toBe(200);
      const got = (await inc.json()) as { index: number; size: number; leafHash: string; proof: string[] };
      const entry = await log.entry(index);
      const leaf = leafHash(entry?.header as Buffer);
      expect(got.leafHash).toBe(leaf.toString('base64'));
      expect(
        verifyInclusion(
          index,
          newer.size,
          leaf,
          got.proof.map((h) => Buffer.from(h, 'base64')),
          newer.root,
        ),
      ).toBe(true);
    }
  });

  it('answers 400 to bad proof parameters', async () => {
    const { size } = await log.head();
    const bad = [
      '/log/consistency?first=abc&second=2',
      '/log/consistency?first=1.5&second=2',
      '/log/consistency?first=-1&second=2',
      '/log/consistency?first=1e1&second=20',
      '/log/consistency?first=0x1&second=2',
      '/log/consistency?first=1',
      '/log/consistency?second=2',
      '/log/consistency?first=3&second=2',
      `/log/consistency?first=1&second=${size + 1}`,
      '/log/consistency?first=1&second=99999999999999999999',
      '/log/inclusion?index=2&size=2',
      '/log/inclusion?index=x&size=2',
      '/log/inclusion?size=2',
      '/log/inclusion?index=0',
      `/log/inclusion?index=0&size=${size + 1}`,
    ];
    for (const path of bad) {
      const res = await t.app.request(path);
      const body = (await res.json()) as { error?: { code: string; message: string } };
      expect({ path, status: res.status, code: body.error?.code }).toEqual({ path, status: 400, code: 'invalid_request' });
      expect(body.error?.message.length).toBeGreaterThan(0);
    }
    const beyond = (await (await t.app.request(`/log/consistency?first=1&second=${size + 1}`)).json()) as { error: { message: string } };
    expect(beyond.error.message).toMatch(new RegExp(`beyond the log, which has ${size} entries`));
    expect((await t.app.request(`/log/consistency?first=1&second=${size}`)).status).toBe(200);
  });

  // Last: it tampers with this database.
  it('posts one Slack alert per distinct integrity failure found by the scheduled self-check, not one per run', async () => {
    const channel = `C${tag}ALERTS`;
    // Without a log channel: alerts only (main.ts sends them to the support channel then).
    const p = publisher({ checkpointChannel: undefined, alertChannel: channel });
    const selfCheck = log.startSelfCheck(3_600_000, (violations) => p.alert(violations));
    try {
      await selfCheck.check();
      await p.runOnce();
      expect(postsTo(channel)).toEqual([]);

      const created = await t.helpdesk.startConversation({ channel: 'web', language: 'en', withToken: true });
      await customerSays('Where is my deposit?');
      const last = await t.conversations.append(created.conversation.id, [
        { role: 'agent', kind: 'message', text: 'Your deposit will be credited', language: 'en' },
      ]);
      await log.checkpointNow();
      const exec = rawExec(t.database.db);
      await exec(
        asOwner(
          ['turn'],
          `UPDATE turn SET text = 'We never received a deposit' WHERE conversation_id = '${created.conversation.id}' AND seq = ${last.turns[0]?.seq}`,
        ),
      );
      for (let run = 0; run < 3; run++) {
        await selfCheck.check();
        clock.now += 1000;
        await p.runOnce();
      }
      expect(postsTo(channel)).toHaveLength(1);
      const alert = (postsTo(channel)[0] as { text: string }).text;
      expect(alert).toMatch(/TURN LOG INTEGRITY ALERT/);
      expect(alert).toMatch(/turn row differs from the logged content/);
      expect(fake.posted().filter((m) => /INTEGRITY ALERT/.test(m.text))).toHaveLength(1);

      // A rolled-back head is reported by every run of the self-check: Slack still gets it once.
      const { size } = await log.head();
      await exec(asOwner(['log_head'], `UPDATE log_head SET size = ${size - 2}`));
      for (let run = 0; run < 3; run++) {
        await selfCheck.check();
        clock.now += 1000;
        await p.runOnce();
      }
      expect(postsTo(channel)).toHaveLength(2);
      expect((postsTo(channel)[1] as { text: string }).text).toMatch(new RegExp(`log head went back from ${size} to ${size - 2} entries`));
    } finally {
      selfCheck.stop();
    }
  });
});
