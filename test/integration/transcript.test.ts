import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgTurnLog } from '../../src/adapters/postgres/pg-turn-log.js';
import { createWebApp } from '../../src/adapters/web/web-app.js';
import {
  generateSignerKey,
  openCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  type TranscriptBundle,
  verifyTranscript,
} from '../../src/core/index.js';
import { createTestDatabase, testEngines } from '../support/databases.js';
import { wireHelpdesk } from '../support/helpdesk.js';

const ORIGIN = 'exchange.example/turn-log';
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The helpdesk with its turn log and web app on a fresh database (no knowledge base: every question escalates). */
async function createLoggedHelpdesk(engine: 'pglite' | 'postgres') {
  const test = await createTestDatabase(engine);
  const db = test.database.db;
  const signer = parseSignerKey(generateSignerKey(ORIGIN));
  const turnLog = createPgTurnLog({ db, origin: ORIGIN, signer });
  const { helpdesk } = wireHelpdesk(test.database, { turnLog: () => turnLog });
  const app = createWebApp({ helpdesk, bodyLimitBytes: 65_536, health: async () => ({}), onError: () => undefined });
  return { test, app, turnLog, signer };
}

describe.each(testEngines())('transcripts on %s', (engine) => {
  let t: Awaited<ReturnType<typeof createLoggedHelpdesk>>;
  let dir: string;
  beforeAll(async () => {
    t = await createLoggedHelpdesk(engine);
    dir = mkdtempSync(join(tmpdir(), 'transcript-'));
  });
  afterAll(async () => {
    await t.test.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (path: string, init: { method?: string; token?: string; body?: unknown } = {}) =>
    t.app.request(path, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  async function conversationWithTurns(messages: string[]) {
    const res = await request('/api/conversations', { method: 'POST', body: { language: 'zh' } });
    const c = (await res.json()) as { id: string; token: string };
    for (const text of messages) {
      const said = await request(`/api/conversations/${c.id}/messages`, { method: 'POST', token: c.token, body: { text } });
      expect(said.status).toBe(201);
    }
    return c;
  }

  async function download(c: { id: string; token: string }): Promise<TranscriptBundle & { readable: string }> {
    const res = await request(`/api/conversations/${c.id}/transcript`, { token: c.token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="transcript-.*\.json"/);
    return (await res.json()) as TranscriptBundle & { readable: string };
  }

  it('gives the customer a transcript that verifies offline with only the published public key', async () => {
    const c = await conversationWithTurns(['我的提现一直没到账', 'My withdrawal to 0xabc… is still pending — 请帮忙 🙏']);
    const bundle = await download(c);
    const publicKey = (await (await request('/log/public-key')).text()).trim();
    expect(publicKey).toBe(t.signer.verifierKey);
    const check = verifyTranscript(bundle, publicKey);
    expect(check.problems).toEqual([]);
    const listed = (await (await request(`/api/conversations/${c.id}/messages`, { token: c.token })).json()) as { turns: unknown[] };
    expect(check.turns).toHaveLength(listed.turns.length);
    expect(check.turns.map((x) => x.seq)).toEqual(check.turns.map((_, i) => i + 1));
    expect(check.turns.find((x) => x.role === 'customer')?.text).toBe('我的提现一直没到账');
    expect(check.turns.some((x) => x.text === 'My withdrawal to 0xabc… is still pending — 请帮忙 🙏')).toBe(true);
    expect(bundle.readable).toContain('对话记录 / Conversation transcript');
    expect(bundle.readable).toContain('客户 Customer');
  });

  it('renders the transcript as text with Chinese and English headings on request', async () => {
    const c = await conversationWithTurns(['how long does support take?']);
    const res = await request(`/api/conversations/${c.id}/transcript?format=text`, { token: c.token });
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/验证结果 \/ Verification: 通过 \/ PASSED/);
    expect(text).toContain('how long does support take?');
  });

  it("refuses a transcript without the conversation's token or with another conversation's", async () => {
    const a = await conversationWithTurns(['a']);
    const b = await conversationWithTurns(['b']);
    expect((await request(`/api/conversations/${a.id}/transcript`)).status).toBe(403);
    expect((await request(`/api/conversations/${a.id}/transcript`, { token: b.token })).status).toBe(403);
  });

  it('serves the latest signed checkpoint and the public key to check it with', async () => {
    await conversationWithTurns(['checkpoint please']);
    await t.turnLog.checkpointNow();
    const res = await request('/log/checkpoint');
    expect(res.status).toBe(200);
    const opened = openCheckpoint(await res.text(), parseVerifierKey((await (await request('/log/public-key')).text()).trim()), ORIGIN);
    expect(opened.ok).toBe(true);
    expect(opened.ok && opened.checkpoint.size).toBe((await t.turnLog.head()).size);
  });

  it('fails a transcript with a turn removed, reordered or altered, or checked with the wrong key, saying why', async () => {
    const c = await conversationWithTurns(['first question', 'second question', 'third question']);
    const bundle = await download(c);
    const key = t.signer.verifierKey;
    const problems = (b: TranscriptBundle, k = key) => verifyTranscript(b, k).problems.join('\n');

    const removed = { ...bundle, entries: bundle.entries.filter((_, i) => i !== 2) };
    expect(problems(removed)).toMatch(/does not follow the previous entry|is missing/);

    const reordered = { ...bundle, entries: [bundle.entries[0], bundle.entries[2], bundle.entries[1], ...bundle.entries.slice(3)] } as TranscriptBundle;
    expect(problems(reordered)).toMatch(/out of order|does not follow/);

    const alteredContent = structuredClone(bundle);
    const target = alteredContent.entries.find((e) => e.content && Buffer.from(e.content.bytes, 'base64').toString().includes('second question'));
    if (!target?.content) throw new Error('no customer turn found');
    target.content.bytes = Buffer.from(Buffer.from(target.content.bytes, 'base64').toString().replace('second', 'fourth')).toString('base64');
    expect(problems(alteredContent)).toMatch(/content altered/);

    const alteredHeader = structuredClone(bundle);
    const h = alteredHeader.entries[1];
    if (!h) throw new Error('no entry');
    h.header = Buffer.from(Buffer.from(h.header, 'base64').toString().replace('"role":"customer"', '"role":"agent"')).toString('base64');
    expect(problems(alteredHeader)).toMatch(/not in the signed log/);

    expect(problems(bundle, parseSignerKey(generateSignerKey(ORIGIN)).verifierKey)).toMatch(/checkpoint rejected: no signature by key/);
    expect(verifyTranscript(bundle, key).ok).toBe(true);
  });

  it('verifies a bundle with the transcript:verify command and fails a tampered one', async () => {
    const c = await conversationWithTurns(['cli check 中文']);
    const bundle = await download(c);
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    writeFileSync(good, JSON.stringify(bundle));
    writeFileSync(bad, JSON.stringify({ ...bundle, entries: bundle.entries.slice(0, 1).concat(bundle.entries.slice(2)) }));
    const run = (file: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/transcript-verify.ts', file, '--key', t.signer.verifierKey], { cwd: REPO, encoding: 'utf8' });
    const ok = run(good);
    expect(ok.stderr).toMatch(/VERIFIED/);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('cli check 中文');
    const failed = run(bad);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/NOT VERIFIED: .*(does not follow|missing)/);
  });

  it('serves the static verify page and its script', async () => {
    const page = await request('/verify-transcript');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Verify a transcript');
    const script = await request('/verify-transcript.js');
    expect(await script.text()).toContain("crypto.subtle.importKey('raw'");
  });
});
