import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../scripts/bench/in-process.js';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { FakeSlack } from '../stand-ins/fake-slack.js';
import { createEmptyPostgresDatabase, testEngines } from '../support/databases.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';
import { imageBytes } from '../support/images.js';
import { slackStandInEnv } from '../support/stand-in-env.js';

const CHANNEL = 'CSUPPORT';
const ADMIN_TOKEN = 'admin-token-for-file-tests';
const WAIT = { timeout: 30_000, interval: 50 };
const MAX_BYTES = 10 * 1024 * 1024;
type Json = Record<string, any>;

describe.each(testEngines())("customers' screenshots on %s", (engine) => {
  let slack: FakeSlack;
  let running: RunningHelpdesk;
  let dir: string;
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `helpdesk-files-${engine}-`));
    slack = await new FakeSlack().start();
    let databaseUrl: string | undefined;
    if (engine === 'postgres') {
      const empty = await createEmptyPostgresDatabase();
      databaseUrl = empty.url;
      dropDatabase = empty.drop;
    }
    running = await startHelpdesk({
      env: {
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
        DATA_DIR: dir,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        KNOWLEDGE_DIR,
        KB_WATCH: 'false',
        LOG_LEVEL: 'silent',
        ADMIN_TOKEN,
        HANDOFF_WORKING_HOURS: '24/7',
        ...slackStandInEnv(slack, CHANNEL),
      },
    });
    slack.appUrl = `${running.url}/slack/events`;
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await slack?.stop();
    await dropDatabase?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${running.url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const start = async () => (await call('POST', '/api/conversations', { language: 'zh' })).json as { id: string; token: string };
  const upload = async (
    c: { id: string; token?: string },
    bytes: Buffer,
    options: { name?: string; type?: string; caption?: string; headers?: Record<string, string> } = {},
  ) => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type: options.type ?? 'application/octet-stream' }), options.name ?? 'screen.png');
    if (options.caption !== undefined) form.append('caption', options.caption);
    const res = await fetch(`${running.url}/api/conversations/${c.id}/files`, {
      method: 'POST',
      headers: { ...(c.token ? { authorization: `Bearer ${c.token}` } : {}), ...options.headers },
      body: form,
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const adminFiles = async (conversationId: string) =>
    (await call('GET', `/api/admin/conversations/${conversationId}/files`, undefined, ADMIN_TOKEN)).json.files as Json[];
  const turnsOf = async (c: { id: string; token: string }) =>
    (await call('GET', `/api/conversations/${c.id}/messages?after=0`, undefined, c.token)).json.turns as Json[];

  it('takes a PNG screenshot with a caption: the name and caption through the firewall, the bytes back to staff exactly, with the type read from them', async () => {
    const c = await start();
    const marker = `screenshot-${randomBytes(6).toString('hex')}`;
    const bytes = imageBytes('png', marker);
    const phrase = 'abandon ability able about above absent absorb abstract absurd abuse access accident';
    const res = await upload(c, bytes, { name: `提现截图-${marker}.png`, type: 'image/png', caption: `提现失败了 ${phrase}` });
    expect(res.status).toBe(201);
    const customer = res.json.turns[0];
    const reply = res.json.turns.at(-1);
    expect(customer).toMatchObject({ role: 'customer', kind: 'attachment' });
    // The customer is warned about the phrase, as for any message.
    expect(res.json.turns.some((t: Json) => t.text.includes('助记词'))).toBe(true);
    // A recovery phrase in the caption never gets stored: the firewall's marker is in its place.
    expect(customer.text).toContain('提现失败了');
    expect(customer.text).not.toContain('abandon ability');
    expect(customer.attachments).toEqual([
      { type: 'photo', fileId: res.json.file.id, fileName: `提现截图-${marker}.png`, mediaType: 'image/png', size: bytes.length },
    ]);
    expect(reply).toMatchObject({ role: 'bot', kind: 'notice' });
    expect(reply.text).toContain('截图');

    const listed = await adminFiles(c.id);
    expect(listed).toEqual([expect.objectContaining({ id: res.json.file.id, mediaType: 'image/png', size: bytes.length, fileName: `提现截图-${marker}.png` })]);
    const got = await fetch(`${running.url}${listed[0]?.url}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('reads JPEG, WebP and GIF by their bytes, whatever name and type the client declared', async () => {
    const c = await start();
    for (const [kind, type] of [
      ['jpeg', 'image/jpeg'],
      ['webp', 'image/webp'],
      ['gif', 'image/gif'],
    ] as const) {
      const res = await upload(c, imageBytes(kind, `m-${kind}`), { name: 'report.pdf', type: 'application/pdf' });
      expect(res.status, kind).toBe(201);
      expect(res.json.file.mediaType).toBe(type);
    }
    expect((await adminFiles(c.id)).map((f) => f.mediaType)).toEqual(['image/jpeg', 'image/webp', 'image/gif']);
  });

  it('refuses what is not an image, what is too big, an empty file and a stranger, with a clear 4xx and nothing stored', async () => {
    const c = await start();
    const before = (await turnsOf(c)).length;
    // Text dressed as a PNG (name and declared type): refused by its bytes.
    const fake = await upload(c, Buffer.from('<script>alert(1)</script> not an image'), { name: 'shot.png', type: 'image/png' });
    expect(fake.status).toBe(415);
    expect(fake.json.error.code).toBe('unsupported_file_type');
    // An SVG is an image to a browser, and a page that runs scripts: not taken.
    const svg = await upload(c, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), {
      name: 'a.svg',
      type: 'image/svg+xml',
    });
    expect(svg.status).toBe(415);
    const big = await upload(c, imageBytes('png', 'too-big', MAX_BYTES + 1), { type: 'image/png' });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('file_too_large');
    const empty = await upload(c, Buffer.alloc(0));
    expect(empty.status).toBe(400);
    const stranger = await upload({ id: c.id }, imageBytes('png', 'stranger'));
    expect(stranger.status).toBe(403);
    const wrong = await upload({ id: c.id, token: 'x'.repeat(43) }, imageBytes('png', 'wrong-token'));
    expect(wrong.status).toBe(403);
    const json = await call('POST', `/api/conversations/${c.id}/files`, { file: 'aGVsbG8=' }, c.token);
    expect(json.status).toBe(415);
    expect(await adminFiles(c.id)).toEqual([]);
    expect(await turnsOf(c)).toHaveLength(before);
    // Exactly the limit is taken.
    const limit = await upload(c, imageBytes('png', 'at-limit', MAX_BYTES), { type: 'image/png' });
    expect(limit.status).toBe(201);
    expect(limit.json.file.size).toBe(MAX_BYTES);
  }, 60_000);

  it('stores an upload sent again with the same Idempotency-Key once', async () => {
    const c = await start();
    const bytes = imageBytes('png', 'again');
    const first = await upload(c, bytes, { headers: { 'idempotency-key': 'upload-1' } });
    const again = await upload(c, bytes, { headers: { 'idempotency-key': 'upload-1' } });
    expect(first.status).toBe(201);
    expect(again.json.outcome).toBe('duplicate');
    expect(again.json.file.id).toBe(first.json.file.id);
    expect((await adminFiles(c.id)).map((f) => f.id)).toEqual([first.json.file.id]);
  });

  it("keeps staff endpoints to staff: no token 401, another conversation's file 404, malformed ids 400", async () => {
    const c = await start();
    const res = await upload(c, imageBytes('gif', 'staff-only'));
    const path = `/api/admin/conversations/${c.id}/files/${res.json.file.id}`;
    expect((await fetch(`${running.url}${path}`)).status).toBe(401);
    expect((await fetch(`${running.url}${path}`, { headers: { authorization: `Bearer ${c.token}` } })).status).toBe(401);
    const other = await start();
    expect((await call('GET', `/api/admin/conversations/${other.id}/files/${res.json.file.id}`, undefined, ADMIN_TOKEN)).status).toBe(404);
    expect((await call('GET', `/api/admin/conversations/${c.id}/files/not-a-uuid`, undefined, ADMIN_TOKEN)).status).toBe(400);
  });

  it('uploads a screenshot sent while the conversation is with agents into its Slack thread, byte for byte, and says so in the thread', async () => {
    const c = await start();
    await call('POST', `/api/conversations/${c.id}/messages`, { text: '我的提现一直没到账' }, c.token);
    await call('POST', `/api/conversations/${c.id}/messages`, { action: 'human' }, c.token);
    const root = await vi.waitFor(() => {
      const found = slack.posted(CHANNEL).find((m) => !m.thread_ts && JSON.stringify(m.metadata ?? {}).includes(c.id));
      if (!found) throw new Error('no thread yet');
      return found;
    }, WAIT);
    const name = `withdrawal-${randomInt(1e9)}.png`;
    const bytes = imageBytes('png', `slack-${randomBytes(4).toString('hex')}`);
    const res = await upload(c, bytes, { name, caption: 'this is the error I get' });
    expect(res.status).toBe(201);
    // With agents, no bot reply: the agents see it.
    expect(res.json.turns.map((t: Json) => t.role)).toEqual(['customer']);
    const shared = await vi.waitFor(() => {
      const file = slack
        .thread(CHANNEL, root.ts)
        .flatMap((m) => m.files ?? [])
        .find((f) => f.name === name);
      if (!file) throw new Error('not uploaded yet');
      return file;
    }, WAIT);
    expect(slack.uploads.get(shared.id)?.data?.equals(bytes)).toBe(true);
    expect(shared.title).toContain(name);
    expect(JSON.stringify(slack.thread(CHANNEL, root.ts).map((m) => m.text))).toContain('this is the error I get');
  });

  it('takes an e-mail address for the answer: validated, screened, recorded for agents (Slack thread), refused when malformed or for a stranger', async () => {
    const c = await start();
    const desk = await call('GET', '/api/desk');
    expect(desk.json).toEqual({ open: true });
    for (const bad of ['not-an-address', 'a@b', 'two@@at.example', 'x@y.com <script>', `${'a'.repeat(250)}@x.com`]) {
      const res = await call('POST', `/api/conversations/${c.id}/contact`, { email: bad }, c.token);
      expect(res.status, bad).toBe(400);
    }
    const stranger = await call('POST', `/api/conversations/${c.id}/contact`, { email: 'me@example.com' });
    expect(stranger.status).toBe(403);
    await call('POST', `/api/conversations/${c.id}/messages`, { text: '我的账户被冻结了' }, c.token);
    await call('POST', `/api/conversations/${c.id}/messages`, { action: 'human' }, c.token);
    const root = await vi.waitFor(() => {
      const found = slack.posted(CHANNEL).find((m) => !m.thread_ts && JSON.stringify(m.metadata ?? {}).includes(c.id));
      if (!found) throw new Error('no thread yet');
      return found;
    }, WAIT);
    const email = `li.${randomInt(1e9)}@mail.example`;
    const res = await call('POST', `/api/conversations/${c.id}/contact`, { email: `  ${email} ` }, c.token);
    expect(res.status).toBe(201);
    expect(res.json.turns[0]).toMatchObject({ role: 'customer', text: email, contact: 'email' });
    expect(res.json.turns[1].text).toContain(email);
    await vi.waitFor(
      () => expect(slack.thread(CHANNEL, root.ts).some((m) => m.text.includes('e-mail address for the answer') && m.text.includes(email))).toBe(true),
      WAIT,
    );
    const turns = await call('GET', `/api/admin/handoffs/${c.id}/turns`, undefined, ADMIN_TOKEN);
    expect(turns.json.turns.some((t: Json) => t.contact === 'email' && t.text === email)).toBe(true);
  });
});
