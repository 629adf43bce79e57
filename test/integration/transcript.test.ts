import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgTurnLog } from '../../src/adapters/postgres/turn-log/pg-turn-log.js';
import { createWebApp } from '../../src/adapters/web/web-app.js';
import {
  describeTranscript,
  generateSignerKey,
  openCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  renderTranscriptText,
  TRANSCRIPT_FORMAT,
  type TranscriptBundle,
  type TranscriptReport,
  verifyTranscript,
} from '../../src/core/index.js';
import { leafMutations } from '../support/bundle-mutations.js';
import { createTestDatabase, testEngines } from '../support/databases.js';
import { wireHelpdesk } from '../support/helpdesk.js';

const ORIGIN = 'exchange.example/turn-log';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const V1_FIXTURE = fileURLToPath(new URL('../fixtures/transcript-v1.json', import.meta.url));

/** The helpdesk with its turn log and web app on a fresh database (no knowledge base: every question escalates). */
async function createLoggedHelpdesk(engine: 'pglite' | 'postgres') {
  const test = await createTestDatabase(engine);
  const signer = parseSignerKey(generateSignerKey(ORIGIN));
  const turnLog = createPgTurnLog({ database: test.database, origin: ORIGIN, signer });
  const { helpdesk, conversations } = wireHelpdesk(test.database, { turnLog: () => turnLog });
  const app = createWebApp({ helpdesk, bodyLimitBytes: 65_536, health: async () => ({}), onError: () => undefined });
  return { test, app, turnLog, signer, conversations };
}

/** The command-line verifier, run as a user runs it. */
function runVerifyCommand(file: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/transcript-verify.ts', file, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '', LC_MESSAGES: '', ...env },
  });
}

const shownText = (report: TranscriptReport) => renderTranscriptText(describeTranscript(report, 'en'));

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

  async function conversationWithTurns(messages: string[], language: 'zh' | 'en' = 'zh') {
    const res = await request('/api/conversations', { method: 'POST', body: { language } });
    const c = (await res.json()) as { id: string; token: string };
    for (const text of messages) {
      const said = await request(`/api/conversations/${c.id}/messages`, { method: 'POST', token: c.token, body: { text } });
      expect(said.status).toBe(201);
    }
    return c;
  }

  async function download(c: { id: string; token: string }): Promise<TranscriptBundle> {
    const res = await request(`/api/conversations/${c.id}/transcript`, { token: c.token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="transcript-.*\.json"/);
    return (await res.json()) as TranscriptBundle;
  }

  /**
   * A conversation with every kind of entry a transcript shows: a greeting, turns erased at the
   * customer's request (after a legal hold deferred the first request), a later customer message,
   * an agent's internal note (withheld) and an agent reply.
   */
  async function richConversation() {
    const c = await conversationWithTurns(['我的地址是 0xdeadbeef，请删除我的资料']);
    await t.turnLog.placeLegalHold(c.id, 'open dispute #42');
    expect((await t.turnLog.erase(c.id)).status).toBe('deferred');
    await t.turnLog.releaseLegalHold(c.id);
    const erasure = await t.turnLog.erase(c.id);
    expect(erasure.status).toBe('erased');
    const said = await request(`/api/conversations/${c.id}/messages`, { method: 'POST', token: c.token, body: { text: '我的提现一直没有到账' } });
    expect(said.status).toBe(201);
    await t.conversations.append(c.id, [
      { role: 'agent', kind: 'note', text: 'internal: chain congestion, check tx', language: 'zh', data: { internal: true } },
      { role: 'agent', kind: 'message', text: '我们正在处理，请稍候。We are on it.', language: 'zh' },
    ]);
    return { ...c, erasureIdx: erasure.entryIdx };
  }

  it('gives the customer a transcript that verifies offline with only the published public key', async () => {
    const c = await conversationWithTurns(['我的提现一直没到账', 'My withdrawal to 0xabc… is still pending — 请帮忙 🙏']);
    const bundle = await download(c);
    const publicKey = (await (await request('/log/public-key')).text()).trim();
    expect(publicKey).toBe(t.signer.verifierKey);
    const report = await verifyTranscript(bundle, { key: publicKey });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const listed = (await (await request(`/api/conversations/${c.id}/messages`, { token: c.token })).json()) as { turns: unknown[] };
    expect(report.turns).toHaveLength(listed.turns.length);
    expect(report.turns.map((x) => x.seq)).toEqual(report.turns.map((_, i) => i + 1));
    expect(report.turns.find((x) => x.role === 'customer')?.text).toBe('我的提现一直没到账');
    expect(report.turns.some((x) => x.text === 'My withdrawal to 0xabc… is still pending — 请帮忙 🙏')).toBe(true);
    expect(report.checkpoint).toMatchObject({ origin: ORIGIN, signedBy: `${ORIGIN} ${t.signer.keyId.toString('hex')}` });
    expect(report.key).toMatchObject({ text: publicKey, source: 'given' });
  });

  it('hands out a bundle that carries only what verification covers: no readable text, no generation time', async () => {
    const bundle = await download(await conversationWithTurns(['what does the file hold?']));
    expect(bundle.format).toBe(TRANSCRIPT_FORMAT);
    expect(Object.keys(bundle).sort()).toEqual(['checkpoint', 'conversationId', 'entries', 'format', 'origin', 'publicKey']);
    for (const entry of bundle.entries) {
      for (const field of Object.keys(entry)) expect(['idx', 'header', 'proof', 'receipt', 'content', 'erasedBy', 'withheld']).toContain(field);
    }
  });

  it('fails a bundle that carries a field no verification covers, such as a readable text', async () => {
    const bundle = await download(await conversationWithTurns(['我的提现一直没有到账']));
    const withReadable = { ...bundle, readable: '我的提现已经到账了' };
    const report = await verifyTranscript(withReadable, { key: t.signer.verifierKey });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ code: 'unexpected_field', idx: null, params: { path: 'readable' } }]);
    const entryNote = structuredClone(bundle) as TranscriptBundle & { entries: Array<Record<string, unknown>> };
    (entryNote.entries[1] as Record<string, unknown>).note = 'the customer agreed';
    expect((await verifyTranscript(entryNote, { key: t.signer.verifierKey })).problems.map((p) => p.code)).toEqual(['unexpected_field']);
  });

  it('shows erased turns as erased with the erasure log entry, internal notes as withheld, and the log events', async () => {
    const c = await richConversation();
    const report = await verifyTranscript(await download(c), { key: t.signer.verifierKey });
    expect(report.problems).toEqual([]);
    expect(report.turns.map((x) => [x.role, x.status])).toEqual([
      ['bot', 'erased'],
      ['customer', 'erased'],
      ['system', 'erased'],
      ['customer', 'verified'],
      // While waiting for a human, the customer's message is acknowledged once.
      ['bot', 'verified'],
      ['agent', 'withheld'],
      ['agent', 'verified'],
    ]);
    for (const turn of report.turns.slice(0, 3)) expect(turn.erasure).toMatchObject({ idx: c.erasureIdx, reason: 'customer_request' });
    expect(report.items.filter((i) => i.type === 'event').map((e) => e.type === 'event' && [e.kind, e.on ?? e.reason])).toEqual([
      ['legal_hold', true],
      ['erasure_deferred', 'legal_hold'],
      ['legal_hold', false],
      ['erasure', 'customer_request'],
    ]);
    const en = shownText(report);
    expect(en).toContain(`[erased at the customer's request: log entry #${c.erasureIdx}, customer_request`);
    expect(en).toContain("[an agents' internal note: logged and proven, content not disclosed]");
    expect(en).not.toContain('chain congestion');
    expect(en).not.toContain('0xdeadbeef');
    const zh = renderTranscriptText(describeTranscript(report, 'zh'));
    expect(zh).toContain(`【已应客户要求删除：日志记录 #${c.erasureIdx}，customer_request`);
    expect(zh).toContain('✔ 验证通过');
  });

  it('fails, naming the change, every single altered string, number or flag anywhere in a real bundle (including inside its encoded headers and contents)', async () => {
    const c = await richConversation();
    const bundle = await download(c);
    expect((await verifyTranscript(bundle, { key: t.signer.verifierKey })).ok).toBe(true);
    let count = 0;
    const paths = new Set<string>();
    for (const m of leafMutations(bundle)) {
      count += 1;
      paths.add(m.path.replace(/\[\d+\]/g, '[]'));
      // Checked both ways a reader checks: with the published key, and with none (the file's own).
      for (const key of [t.signer.verifierKey, undefined]) {
        const report = await verifyTranscript(m.bundle, { key });
        expect(report.ok, `${m.path}: ${JSON.stringify(m.before)} → ${JSON.stringify(m.after)} (key ${key ? 'given' : 'from the file'})`).toBe(false);
        expect(report.problems.length).toBeGreaterThan(0);
        // Nothing altered is ever shown as a verified turn.
        if (typeof m.after === 'string' && m.path.includes('content.bytes⟨decoded⟩.text')) {
          expect(report.turns.some((x) => x.status === 'verified' && x.text === m.after)).toBe(false);
        }
      }
    }
    // Every kind of leaf was reached: top-level fields, proofs, receipts, salts, and the leaves inside headers and contents.
    for (const path of [
      'format',
      'origin',
      'publicKey',
      'conversationId',
      'checkpoint',
      'entries[].idx',
      'entries[].proof[]',
      'entries[].receipt',
      'entries[].erasedBy',
      'entries[].withheld',
      'entries[].content.salt',
      'entries[].header⟨decoded⟩.commit',
      'entries[].header⟨decoded⟩.at',
      'entries[].header⟨decoded⟩.role',
      'entries[].content.bytes⟨decoded⟩.text',
    ]) {
      expect(paths, path).toContain(path);
    }
    expect(count).toBeGreaterThan(200);
  });

  it('renders the transcript as text in the conversation language, or the one asked for, from the verified entries', async () => {
    const c = await conversationWithTurns(['how long does support take?'], 'en');
    const res = await request(`/api/conversations/${c.id}/transcript?format=text`, { token: c.token });
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^✔ VERIFIED: \d+ turns/);
    expect(text).toContain('how long does support take?');
    expect(text).toContain(t.signer.verifierKey);
    expect(text).toContain('npm run transcript:verify FILE');
    const zh = await (await request(`/api/conversations/${c.id}/transcript?format=text&lang=zh`, { token: c.token })).text();
    expect(zh).toMatch(/^✔ 验证通过/);
    expect(zh).toContain('签名检查点');
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
    const codes = async (b: unknown, k = key) => (await verifyTranscript(b, { key: k })).problems.map((p) => p.code);

    const removed = { ...bundle, entries: bundle.entries.filter((_, i) => i !== 2) };
    expect(await codes(removed)).toEqual(expect.arrayContaining(['chain_broken', 'turn_missing']));

    const reordered = { ...bundle, entries: [bundle.entries[0], bundle.entries[2], bundle.entries[1], ...bundle.entries.slice(3)] };
    expect(await codes(reordered)).toEqual(expect.arrayContaining(['out_of_order', 'chain_broken']));

    const alteredContent = structuredClone(bundle);
    const target = alteredContent.entries.find((e) => e.content && Buffer.from(e.content.bytes, 'base64').toString().includes('second question'));
    if (!target?.content) throw new Error('no customer turn found');
    target.content.bytes = Buffer.from(Buffer.from(target.content.bytes, 'base64').toString().replace('second', 'fourth')).toString('base64');
    const altered = await verifyTranscript(alteredContent, { key });
    expect(altered.problems.map((p) => p.code)).toEqual(['content_altered']);
    expect(altered.turns.find((x) => x.idx === target.idx)).toMatchObject({ status: 'unproven', text: null });
    expect(shownText(altered)).not.toContain('fourth question');

    const alteredHeader = structuredClone(bundle);
    const h = alteredHeader.entries[1];
    if (!h) throw new Error('no entry');
    h.header = Buffer.from(Buffer.from(h.header, 'base64').toString().replace('"role":"customer"', '"role":"agent"')).toString('base64');
    expect(await codes(alteredHeader)).toEqual(expect.arrayContaining(['not_in_log']));

    // A genuine, proven entry of another conversation under the same checkpoint: reported, not shown.
    const other = await conversationWithTurns(['someone else’s secret question']);
    const mine = await download(c);
    const theirs = await download(other);
    expect(theirs.checkpoint).toBe(mine.checkpoint);
    const foreign = theirs.entries.find((e) => e.content && Buffer.from(e.content.bytes, 'base64').toString().includes('secret question'));
    if (!foreign) throw new Error('no foreign turn');
    const mixed = await verifyTranscript({ ...mine, entries: [...mine.entries, foreign].sort((a, b) => a.idx - b.idx) }, { key });
    expect(mixed.problems.map((p) => [p.code, p.idx])).toEqual([['other_conversation', foreign.idx]]);
    expect(shownText(mixed)).not.toContain('secret question');

    for (const notBundle of [null, [], 'text', { format: '__proto__' }, { format: 'helpdesk-transcript/v3' }]) {
      expect((await verifyTranscript(notBundle, { key })).problems.map((p) => p.code)).toEqual(['not_transcript']);
    }

    const otherKey = parseSignerKey(generateSignerKey(ORIGIN)).verifierKey;
    const wrongKey = await verifyTranscript(bundle, { key: otherKey });
    expect(wrongKey.problems.map((p) => [p.code, p.params.reason])).toEqual([
      ['key_differs', undefined],
      ['checkpoint_rejected', 'no_signature'],
    ]);
    expect(shownText(wrongKey)).toContain('the signed checkpoint is rejected: it carries no signature by this key');
    expect((await verifyTranscript(bundle, { key })).ok).toBe(true);
  });

  it('verifies a bundle with the transcript:verify command, showing the verified turns, the checkpoint and the key to compare, in English or Chinese', async () => {
    const c = await richConversation();
    const bundle = await download(c);
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(bundle));
    const en = runVerifyCommand(good, ['--key', t.signer.verifierKey, '--lang', 'en']);
    expect(en.status).toBe(0);
    expect(en.stderr).toMatch(/^✔ VERIFIED: 7 turns/);
    expect(en.stdout).toContain('我的提现一直没有到账');
    expect(en.stdout).toMatch(
      /Signed checkpoint\n {2}log \(origin\) +exchange\.example\/turn-log\n {2}tree size +\d+ entries\n {2}root hash +[A-Za-z0-9+/]{43}=\n {2}signature +valid, by key exchange\.example\/turn-log [0-9a-f]{8}/,
    );
    expect(en.stdout).toContain(`key used  ${t.signer.verifierKey}`);
    expect(en.stdout).toContain('Compare it with the key the exchange publishes');
    expect(en.stdout).toContain(`[erased at the customer's request: log entry #${c.erasureIdx}`);
    // LANG chooses the language when --lang is not given.
    const zh = runVerifyCommand(good, ['--key', t.signer.verifierKey], { LANG: 'zh_CN.UTF-8' });
    expect(zh.status).toBe(0);
    expect(zh.stdout).toMatch(/^✔ 验证通过：共 7 条/);
    expect(zh.stdout).toContain(`【已应客户要求删除：日志记录 #${c.erasureIdx}`);
    expect(zh.stdout).toContain('签名检查点');
    // Without a key, the file's own key is used and said to prove nothing until compared.
    const ownKey = runVerifyCommand(good, ['--lang', 'en']);
    expect(ownKey.status).toBe(0);
    expect(ownKey.stdout).toMatch(/^✔ VERIFIED WITH THE FILE'S OWN KEY/);
    expect(ownKey.stdout).toContain('Taken from the file itself');
  });

  it('rejects with the transcript:verify command a transcript whose readable text was altered, or with a turn removed', async () => {
    const bundle = await download(await conversationWithTurns(['我的提现一直没有到账']));
    const added = join(dir, 'added-readable.json');
    writeFileSync(added, JSON.stringify({ ...bundle, readable: '我的提现已经到账了' }));
    const addedRun = runVerifyCommand(added, ['--key', t.signer.verifierKey, '--lang', 'en']);
    expect(addedRun.status).toBe(1);
    expect(addedRun.stderr).toMatch(/^✘ NOT VERIFIED/);
    expect(addedRun.stdout).toContain('the file carries “readable”, which no verification covers');
    expect(addedRun.stdout).not.toContain('已经到账');

    const removed = join(dir, 'removed.json');
    writeFileSync(removed, JSON.stringify({ ...bundle, entries: bundle.entries.slice(0, 1).concat(bundle.entries.slice(2)) }));
    const removedRun = runVerifyCommand(removed, ['--key', t.signer.verifierKey, '--lang', 'en']);
    expect(removedRun.status).toBe(1);
    expect(removedRun.stdout).toMatch(/does not follow the previous entry|is missing/);
  });

  it('serves the verify page and its script, bundled from the core verifier', async () => {
    const page = await request('/verify-transcript');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Verify a transcript');
    const script = await request('/verify-transcript.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/text\/javascript/);
    const js = await script.text();
    // The same verifier and texts as the command line, not a copy.
    expect(js).toContain('helpdesk-transcript/v2');
    expect(js).toContain('the file carries “');
    expect(js).not.toMatch(/\brequire\(|from ['"]node:/);
  });
});

describe('transcripts of the earlier format (v1, with a readable text)', () => {
  const fixture = JSON.parse(readFileSync(V1_FIXTURE, 'utf8')) as TranscriptBundle & { readable: string; generatedAt: string };

  it('still verifies, reporting that the readable text matches the verified entries and that the generation time is only claimed', async () => {
    const report = await verifyTranscript(fixture, { key: fixture.publicKey });
    expect(report.problems).toEqual([]);
    expect(report.readable).toBe('matches');
    expect(report.unverified).toEqual([{ field: 'generatedAt', value: fixture.generatedAt }]);
    expect(report.turns.map((x) => x.status)).toEqual(['erased', 'erased', 'erased', 'verified', 'withheld', 'verified']);
  });

  it('fails one whose readable text was altered, naming the first difference', async () => {
    const altered = { ...fixture, readable: fixture.readable.replace('我的提现一直没有到账', '我的提现已经到账了') };
    expect(altered.readable).not.toBe(fixture.readable);
    const report = await verifyTranscript(altered, { key: fixture.publicKey });
    expect(report.ok).toBe(false);
    expect(report.readable).toBe('differs');
    const line = fixture.readable.split('\n').findIndex((l) => l.includes('我的提现一直没有到账')) + 1;
    expect(report.problems).toEqual([
      { code: 'readable_differs', idx: null, params: { line, carried: '    我的提现已经到账了', verified: '    我的提现一直没有到账' } },
    ]);
    // The altered words appear only where the difference is named, never among the turns.
    const shown = shownText(report);
    expect(shown.slice(shown.indexOf('Turns ('))).not.toContain('已经到账');
    expect(shown).toContain('    我的提现一直没有到账\n');
  });

  it('is rejected by the transcript:verify command when its readable text was altered', () => {
    const dir = mkdtempSync(join(tmpdir(), 'transcript-v1-'));
    try {
      const file = join(dir, 'altered.json');
      writeFileSync(file, readFileSync(V1_FIXTURE, 'utf8').replace('我的提现一直没有到账', '我的提现已经到账了'));
      const run = runVerifyCommand(file, ['--key', fixture.publicKey, '--lang', 'en']);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^✘ NOT VERIFIED: 1 problem/);
      expect(run.stdout).toMatch(
        /the readable text in the file differs from what the verified entries say, first at line \d+: the file says “ {4}我的提现已经到账了”, the verified entries say “ {4}我的提现一直没有到账”/,
      );
      const intact = runVerifyCommand(V1_FIXTURE, ['--key', fixture.publicKey, '--lang', 'en']);
      expect(intact.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails every single altered string, number or flag anywhere in it, readable text and generation time included', async () => {
    let count = 0;
    for (const m of leafMutations(fixture)) {
      count += 1;
      const report = await verifyTranscript(m.bundle, { key: fixture.publicKey });
      expect(report.ok, `${m.path}: ${JSON.stringify(m.before)} → ${JSON.stringify(m.after)}`).toBe(false);
    }
    expect(count).toBeGreaterThan(100);
  });
});
