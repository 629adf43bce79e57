import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../scripts/bench/in-process.js';
import { loadContentKeys } from '../../src/adapters/postgres/db/content-keys.js';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { FakeSlack } from '../stand-ins/fake-slack.js';
import { type FakeTelegram, startFakeTelegram } from '../stand-ins/fake-telegram.js';
import { createEmptyPostgresDatabase, testEngines } from '../support/databases.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';
import { imageBytes } from '../support/images.js';
import { slackStandInEnv, telegramStandInEnv } from '../support/stand-in-env.js';

const CHANNEL = 'CSUPPORT';
const WAIT = { timeout: 30_000, interval: 50 };

/** Chinese characters no knowledge file holds together: a phrase that appears nowhere but where this run put it. */
function uniqueChinese(length: number): string {
  return Array.from({ length }, () => String.fromCodePoint(0x4e00 + randomInt(0x5000))).join('');
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Which of `needles` occur in which file, as UTF-8 or as UTF-16 (either byte order). */
function occurrences(files: string[], needles: string[]): Array<{ file: string; needle: string }> {
  const encoded = needles.flatMap((needle) => [
    { needle, bytes: Buffer.from(needle, 'utf8') },
    { needle, bytes: Buffer.from(needle, 'utf16le') },
    { needle, bytes: Buffer.from(needle, 'utf16le').swap16() },
  ]);
  const found: Array<{ file: string; needle: string }> = [];
  for (const file of files) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch {
      continue; // removed meanwhile (a WAL segment recycled)
    }
    for (const { needle, bytes } of encoded) if (data.includes(bytes)) found.push({ file, needle });
  }
  return found;
}

/**
 * The files that hold a PostgreSQL database: its folder under base/ and the WAL (shared by every
 * database of the server). Undefined when the server's files cannot be read from here.
 */
async function postgresFiles(databaseUrl: string): Promise<string[] | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
    const dir = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]?.data_directory as string;
    const oid = (await client.query<{ oid: number }>('SELECT oid FROM pg_database WHERE datname = current_database()')).rows[0]?.oid;
    const base = join(dir, 'base', String(oid));
    try {
      statSync(base);
      readdirSync(base);
    } catch {
      return undefined;
    }
    return [...filesUnder(base), ...filesUnder(join(dir, 'pg_wal'))];
  } finally {
    await client.end();
  }
}

describe.each(testEngines())('erasure that holds against the files on %s', (engine) => {
  let telegram: FakeTelegram;
  let slack: FakeSlack;
  let running: RunningHelpdesk | undefined;
  let dir: string;
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `helpdesk-erasure-${engine}-`));
    telegram = await startFakeTelegram();
    slack = await new FakeSlack().start();
    slack.addUser('UALICE', 'Alice');
    if (engine === 'postgres') {
      const empty = await createEmptyPostgresDatabase();
      databaseUrl = empty.url;
      dropDatabase = empty.drop;
    }
    const port = await freePort();
    env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      KNOWLEDGE_DIR,
      KB_WATCH: 'false',
      LOG_LEVEL: 'silent',
      HANDOFF_WORKING_HOURS: '24/7',
      ...telegramStandInEnv(telegram, port, 'erasure-test-secret'),
      ...slackStandInEnv(slack, CHANNEL),
    };
    running = await startHelpdesk({ env });
    slack.appUrl = `${running.url}/slack/events`;
    await telegram.waitFor(() => telegram.webhookInfo() !== undefined, 15_000, 'setWebhook');
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await telegram?.close();
    await slack?.stop();
    await dropDatabase?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("leaves none of an erased Telegram user's words, name or handle, nor a web customer's screenshot (bytes, name, caption) and e-mail address, in any file of the data folder, from their private chat and a group; what a copy made before holds no longer opens; the bot's Slack thread is redacted once the server runs again", async () => {
    const userId = 700_000_000 + randomInt(99_999_999);
    const nonce = uniqueChinese(6);
    const privateWords = `我的提现一直没有到账${nonce}`;
    const groupWords = `群里问一下充值${uniqueChinese(6)}`;
    const firstName = `张${uniqueChinese(3)}`;
    const username = `trader_${randomInt(1e9).toString(36)}x`;
    const from = { id: userId, username, first_name: firstName, language_code: 'zh-hans' };
    const otherWords = `别人的问题${uniqueChinese(6)}`;
    const other = 600_000_000 + randomInt(99_999_999);

    // A private chat: a question, a handoff to Slack (the thread mirrors the words), a transcript file.
    telegram.userSends(userId, privateWords, { from });
    await vi.waitFor(() => expect(telegram.sentTo(userId).length).toBeGreaterThanOrEqual(1), WAIT);
    telegram.userSends(userId, '/human', { from });
    await vi.waitFor(() => expect(JSON.stringify(slack.posted(CHANNEL))).toContain(nonce), WAIT);
    const root = await vi.waitFor(() => {
      const found = slack.posted(CHANNEL).find((m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(username));
      if (!found) throw new Error('no thread root yet');
      return found;
    }, WAIT);
    telegram.userSendsPhoto(userId, `截图${nonce}`, { from });
    const uploaded = await vi.waitFor(() => {
      const file = slack.thread(CHANNEL, root.ts).find((m) => m.files?.length)?.files?.[0];
      if (!file) throw new Error('no upload yet');
      return file;
    }, WAIT);
    telegram.userSends(userId, '/transcript', { from });
    await vi.waitFor(() => expect(telegram.documentsTo(userId)).toHaveLength(1), WAIT);
    // The same user in a group, addressing the bot; and someone else, who is not erased.
    const group = { id: -(1_000_000_000 + randomInt(1e9)), type: 'supergroup' as const, title: 'Traders' };
    telegram.userSends(group, `@examplex_support_bot ${groupWords}`, { from });
    await vi.waitFor(() => expect(telegram.sentTo(group.id).length).toBeGreaterThanOrEqual(1), WAIT);
    telegram.userSends(other, otherWords, { from: { id: other, username: 'someone_else', language_code: 'zh-hans' } });
    await vi.waitFor(() => expect(telegram.sentTo(other).length).toBeGreaterThanOrEqual(1), WAIT);
    // A web customer's screenshot: its bytes, name and caption are the customer's too.
    const web = (await (
      await fetch(`${running?.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    ).json()) as { id: string; token: string };
    const imageMarker = `pixels-${randomInt(1e9).toString(36)}-${randomInt(1e9).toString(36)}`;
    const imageName = `截图${uniqueChinese(5)}.png`;
    const caption = `提现失败${uniqueChinese(6)}`;
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(imageBytes('png', imageMarker))], { type: 'image/png' }), imageName);
    form.append('caption', caption);
    const uploadedWeb = await fetch(`${running?.url}/api/conversations/${web.id}/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${web.token}` },
      body: form,
    });
    expect(uploadedWeb.status).toBe(201);
    // And the e-mail address they left for the answer.
    const email = `trader.${randomInt(1e9).toString(36)}@mail-${randomInt(1e9).toString(36)}.example`;
    const left = await fetch(`${running?.url}/api/conversations/${web.id}/contact`, {
      method: 'POST',
      headers: { authorization: `Bearer ${web.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    });
    expect(left.status).toBe(201);
    await running?.stop();
    running = undefined;
    // Stored sealed: the image's bytes are in no file even before the erasure.
    const beforeErasure = engine === 'pglite' ? filesUnder(dir) : await postgresFiles(databaseUrl as string);
    if (beforeErasure) expect(occurrences(beforeErasure, [imageMarker])).toEqual([]);

    const keyFile = join(dir, 'content-master-key');
    const before = await storedKeys();
    expect(before.length).toBeGreaterThanOrEqual(4);

    const erase = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/erase-customer.ts', '--channel', 'telegram', '--user', String(userId)], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(erase.stderr).toBe('');
    expect(erase.status).toBe(0);
    // The private chat and the group conversation, each a logged erasure; then the master key moved on.
    expect(erase.stdout.match(/^erased \d+ turns of /gm)).toHaveLength(2);
    expect(erase.stdout).toMatch(/content master key rotated to v2/);
    const eraseWeb = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/erase-customer.ts', '--conversation', web.id], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(eraseWeb.stderr).toBe('');
    expect(eraseWeb.status).toBe(0);
    expect(eraseWeb.stdout).toMatch(/content master key rotated to v3/);

    // The whole log still verifies after the erasures and the key rotation, from the key file now.
    const audit = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(audit.stdout).toMatch(/INTACT/);
    expect(audit.status).toBe(0);

    const needles = [privateWords, nonce, groupWords, firstName, username, imageMarker, imageName, caption, email];
    const files = engine === 'pglite' ? filesUnder(dir) : await postgresFiles(databaseUrl as string);
    if (!files) {
      console.warn(`erasure file check skipped on ${engine}: the server's data directory is not readable from this process`);
    } else {
      // The search reads what it should: a knowledge base answer is stored as text, and found.
      expect(occurrences(files, ['ExampleX']).length).toBeGreaterThan(0);
      expect(occurrences(files, needles)).toEqual([]);
    }

    // A copy made before the erasure holds the keys wrapped under the master key the erasure forgot.
    const now = loadContentKeys({ file: keyFile }).keys;
    expect(now.current).toBe(3);
    for (const { id, key } of before) expect(() => now.unwrap(key, id), id).toThrow();

    // The product runs on: the other customer's words still read, the erased user starts afresh.
    running = await startHelpdesk({ env });
    const remaining = await storedKeys();
    expect(remaining.length).toBe(before.length - 3);
    telegram.userSends(other, '/transcript', { from: { id: other, username: 'someone_else', language_code: 'zh-hans' } });
    await vi.waitFor(() => expect(telegram.sentTo(other).some((m) => m.text.includes(otherWords))).toBe(true), WAIT);

    // Once running again, the server redacts the bot's messages in the agents' thread and deletes its uploads.
    const threadText = () => JSON.stringify([slack.posted(CHANNEL).find((m) => m.ts === root.ts), ...slack.thread(CHANNEL, root.ts)]);
    await vi.waitFor(() => expect(slack.uploads.has(uploaded.id)).toBe(false), WAIT);
    await vi.waitFor(() => expect(threadText()).not.toContain(nonce), WAIT);
    expect(threadText()).not.toContain(username);
    expect(threadText()).toContain('Erased at the customer');
    expect(slack.calls.filter((c) => c.method === 'chat.update' && c.params.ts === root.ts).length).toBeGreaterThanOrEqual(1);
  }, 240_000);

  /** The stored (wrapped) content keys, as a backup would hold them. */
  async function storedKeys(): Promise<Array<{ id: string; key: Buffer }>> {
    if (engine === 'postgres') {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const rows = await client.query<{ conversation_id: string; key: Buffer }>('SELECT conversation_id, key FROM conversation_key');
        return rows.rows.map((r) => ({ id: r.conversation_id, key: r.key }));
      } finally {
        await client.end();
      }
    }
    const { PGlite } = await import('@electric-sql/pglite');
    const { vector } = await import('@electric-sql/pglite-pgvector');
    const db = await PGlite.create(dir, { extensions: { vector } });
    try {
      const rows = await db.query<{ conversation_id: string; key: Uint8Array }>('SELECT conversation_id, key FROM conversation_key');
      return rows.rows.map((r) => ({ id: r.conversation_id, key: Buffer.from(r.key) }));
    } finally {
      await db.close();
    }
  }
});
