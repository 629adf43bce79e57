/**
 * The product (src/main.ts, as child processes) under web and Telegram load while its PostgreSQL
 * restarts (fast and immediate), stops for a while, and while the product itself is killed with
 * SIGKILL and restarted. On a private cluster of its own (test/support/private-postgres.ts). And
 * on PGlite, the embedded default: killed with SIGKILL under Telegram load and restarted.
 *
 * Instance A polls Telegram and serves the web API; instance B serves the web API only. Both write
 * the same conversations, so appends take the locked write path (a transaction holding a client).
 * Checked: both processes live through every database fault; every web message acknowledged (201)
 * is stored, and none twice (the clients retry with the same Idempotency-Key, as the widget does);
 * every Telegram update is answered, duplicates counted; /readyz follows the database;
 * `npm run audit:verify` passes. The figures are printed as one JSON line (`fault figures`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeTelegram, startFakeTelegram } from '../stand-ins/fake-telegram.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';
import { type PrivatePostgres, privatePostgresAvailable, startPrivatePostgres } from '../support/private-postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const QUESTION = 'How do I reset my password?';
const WEB_CLIENTS = 4;
const TELEGRAM_UPDATES_PER_S = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Product {
  name: string;
  url: string;
  child: ChildProcess;
  /** Set when the process ended: its exit code or signal. */
  exit: string | undefined;
  output: string[];
  ready: Promise<void>;
}

function startProduct(name: string, env: Record<string, string>): Promise<Product> {
  return freePort().then((port) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        KNOWLEDGE_DIR,
        KB_WATCH: 'false',
        LOG_LEVEL: 'warn',
        // The clients are few and fast; the per-customer limit is not under test here.
        RATE_LIMIT_MESSAGES: '10000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const product: Product = { name, url: `http://127.0.0.1:${port}`, child, exit: undefined, output: [], ready: Promise.resolve() };
    const keep = (chunk: Buffer) => {
      product.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (product.output.length > 400) product.output.splice(0, product.output.length - 400);
    };
    child.stderr?.on('data', keep);
    product.ready = new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        keep(chunk);
        if (chunk.toString('utf8').includes('Helpdesk ready at')) resolve();
      });
      child.on('exit', (code, signal) => {
        product.exit = signal ?? `exit ${code}`;
        reject(new Error(`${name} ended before it was ready (${product.exit}):\n${product.output.slice(-40).join('\n')}`));
      });
    });
    return product;
  });
}

async function request(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 15_000) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

function runScript(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** The chat got some message twice (one update per chat: each reply is distinct). */
function repeated(fake: FakeTelegram, chat: number): boolean {
  const texts = fake.sentTo(chat).map((m) => m.text);
  return new Set(texts).size < texts.length;
}

const spread = (values: number[]) => {
  const sorted = values.filter((ms) => ms >= 0).sort((x, y) => x - y);
  return sorted.length ? { median: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) } : null;
};

describe('the product on PGlite through kill -9 under Telegram load', () => {
  let fake: FakeTelegram;
  let dataDir: string;
  const products: Product[] = [];
  beforeAll(async () => {
    fake = await startFakeTelegram({ maxHoldMs: 1_000 });
    dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-faults-pglite-'));
  });
  afterAll(async () => {
    for (const p of products) if (!p.exit) p.child.kill('SIGKILL');
    await fake?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('restarts on its own data folder, sends the replies the killed process held at once, answers every update, and the log verifies', async () => {
    const env = { DATA_DIR: dataDir, TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot };
    const first = await startProduct('PGlite', env);
    products.push(first);
    await first.ready;
    const updates: Array<{ chat: number; at: number }> = [];
    // Offered until the kill: what the restarted process owes is then only what the killed one held.
    let loadOn = true;
    const load = (async () => {
      for (let chat = 950_000; loadOn; chat++) {
        fake.userSends(chat, QUESTION);
        updates.push({ chat, at: Date.now() });
        await sleep(1000 / TELEGRAM_UPDATES_PER_S);
      }
    })();
    const answerOf = (chat: number) => fake.sentTo(chat).find((m) => m.text.includes('Source:'));
    await sleep(8_000);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    loadOn = false;
    await load;
    const waiting = updates.filter((u) => !answerOf(u.chat)).map((u) => u.chat);
    // The lock the killed process left names it: taken over, as its process is gone.
    const restarted = await startProduct('PGlite restarted', env);
    products.push(restarted);
    await restarted.ready;
    const readyAt = Date.now();
    await fake.waitFor(() => updates.every((u) => answerOf(u.chat)), 60_000, 'an answer in every chat').catch(() => undefined);
    const answeredAt = waiting.map((chat) => answerOf(chat)?.receivedAt ?? Number.NaN);
    restarted.child.kill('SIGTERM');
    await new Promise((resolve) => restarted.child.once('exit', resolve));
    const audit = await runScript('scripts/audit-verify.ts', { DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const figures = {
      updates: updates.length,
      unanswered: updates.filter((u) => !answerOf(u.chat)).length,
      answeredTwice: updates.filter((u) => repeated(fake, u.chat)).length,
      restartMs: readyAt - killedAt,
      chatsWaitingAtKill: waiting.length,
      silenceMs: spread(answeredAt.map((at) => at - killedAt)),
      afterRestartMs: spread(answeredAt.map((at) => Math.max(0, at - readyAt))),
      auditExit: audit.code,
    };
    console.log(`fault figures pglite ${JSON.stringify(figures)}`);
    if (audit.code !== 0) console.log(audit.output.slice(-3000));
    expect(figures.unanswered).toBe(0);
    expect(audit.code, audit.output).toBe(0);
  }, 480_000);
});

const available = privatePostgresAvailable();

describe.skipIf(!available)('the product through database restarts, an outage and kill -9 (private PostgreSQL)', () => {
  let cluster: PrivatePostgres;
  let fake: FakeTelegram;
  let dataDir: string;
  const products: Product[] = [];

  beforeAll(async () => {
    cluster = await startPrivatePostgres();
    fake = await startFakeTelegram({ maxHoldMs: 1_000 });
    dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-faults-'));
  }, 120_000);

  afterAll(async () => {
    for (const p of products) if (!p.exit) p.child.kill('SIGKILL');
    await fake?.close();
    await cluster?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('stays up, loses and doubles no acknowledged message, answers every Telegram update, and the log verifies', async () => {
    const common = { DATABASE_URL: cluster.url, DATA_DIR: dataDir };
    const telegramEnv = { ...common, TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot };
    let a = await startProduct('A (web + Telegram polling)', telegramEnv);
    products.push(a);
    await a.ready;
    const b = await startProduct('B (web)', common);
    products.push(b);
    await b.ready;
    const web = () => [a, b];

    // ---- web load: each client sends numbered messages, retrying a failure with the same key on the other instance
    const sentMessages: Array<{ conversation: string; text: string; acked: boolean }> = [];
    const conversations = new Map<string, string>(); // id -> token
    let loadOn = true;
    let webRetries = 0;
    async function untilAnswered<T>(attempt: (instance: Product) => Promise<T | undefined>, give: number): Promise<T | undefined> {
      const end = Date.now() + 60_000;
      for (let i = give; Date.now() < end; i++) {
        const instance = web()[i % 2] as Product;
        try {
          const result = await attempt(instance);
          if (result !== undefined) return result;
        } catch {
          // refused, reset or timed out: the instance or its database is away
        }
        webRetries += 1;
        await sleep(250);
      }
      return undefined;
    }
    async function webClient(client: number): Promise<void> {
      let conversation: { id: string; token: string } | undefined;
      for (let n = 0; loadOn; n++) {
        if (!conversation || n % 8 === 0) {
          conversation = await untilAnswered(async (instance) => {
            const res = await request(`${instance.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
            return res.status === 201 ? (res.json as { id: string; token: string }) : undefined;
          }, client);
          if (!conversation) continue;
          conversations.set(conversation.id, conversation.token);
        }
        const current = conversation;
        const text = `probe message ${client}-${n}`;
        const key = `fault-${client}-${n}`;
        const answered = await untilAnswered(async (instance) => {
          const res = await request(`${instance.url}/api/conversations/${current.id}/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${current.token}`, 'idempotency-key': key },
            body: JSON.stringify({ text }),
          });
          if (res.status >= 400 && res.status < 500) throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.json)}`);
          return res.status === 201 ? true : undefined;
        }, client + n);
        sentMessages.push({ conversation: current.id, text, acked: answered === true });
        await sleep(20);
      }
    }

    // ---- Telegram load: a new chat per update, the same question
    const updates: Array<{ chat: number; at: number }> = [];
    let nextChat = 900_000;
    // Offered until the kill: the restarted instance then owes only what the killed one held.
    let telegramOn = true;
    async function telegramLoad(): Promise<void> {
      while (loadOn && telegramOn) {
        const chat = nextChat++;
        fake.userSends(chat, QUESTION);
        updates.push({ chat, at: Date.now() });
        await sleep(1000 / TELEGRAM_UPDATES_PER_S);
      }
    }
    const answerOf = (chat: number) => fake.sentTo(chat).find((m) => m.text.includes('Source:'));

    const load = Promise.all([...Array.from({ length: WEB_CLIENTS }, (_, i) => webClient(i)), telegramLoad()]);
    const faults: string[] = [];
    const readyDuringOutage: Array<{ status: number; database?: string }> = [];
    await sleep(4_000);
    await cluster.restart('fast');
    faults.push('restart fast');
    await sleep(4_000);
    await cluster.restart('immediate');
    faults.push('restart immediate');
    await sleep(4_000);
    await cluster.stop('fast');
    const outageStart = Date.now();
    while (Date.now() - outageStart < 10_000) {
      for (const p of web()) {
        const res = await request(`${p.url}/readyz`, { timeoutMs: 5_000 }).catch(() => ({ status: 0, json: null }));
        readyDuringOutage.push({ status: res.status, database: res.json?.checks?.database });
      }
      await sleep(1_000);
    }
    await cluster.start();
    faults.push('stopped 10 s');
    // The updates held during the outage answered (up to 60 s), so that the kill below catches
    // only the replies in flight under steady load.
    const caughtUp = Date.now();
    while (Date.now() - caughtUp < 30_000 && updates.filter((u) => u.at < Date.now() - 2_000).some((u) => !answerOf(u.chat))) await sleep(250);
    await sleep(1_000);
    const alive = web().map((p) => ({ name: p.name, exit: p.exit }));

    // ---- kill -9 of the Telegram instance under load, restarted at once
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    telegramOn = false;
    const waiting = updates.filter((u) => !answerOf(u.chat)).map((u) => u.chat);
    const restarted = await startProduct('A restarted', telegramEnv);
    products.push(restarted);
    await restarted.ready;
    const readyAt = Date.now();
    const restartMs = readyAt - killedAt;
    a = restarted;
    await sleep(3_000);
    loadOn = false;
    await load;

    // ---- drain: every Telegram update answered
    await fake.waitFor(() => updates.every((u) => answerOf(u.chat)), 60_000, 'an answer in every chat').catch(() => undefined);
    const unanswered = updates.filter((u) => !answerOf(u.chat));
    const doubled = updates.filter((u) => repeated(fake, u.chat));
    const answeredAt = waiting.map((chat) => answerOf(chat)?.receivedAt ?? Number.NaN);

    // ---- web: every acknowledged message stored once, nothing stored twice
    const stored = new Map<string, number>();
    for (const [id, token] of conversations) {
      const res = await request(`${b.url}/api/conversations/${id}/messages?after=0`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      for (const turn of res.json.turns as Array<{ role: string; text: string }>) {
        if (turn.role === 'customer') stored.set(`${id} ${turn.text}`, (stored.get(`${id} ${turn.text}`) ?? 0) + 1);
      }
    }
    const acked = sentMessages.filter((m) => m.acked);
    const lost = acked.filter((m) => !stored.has(`${m.conversation} ${m.text}`));
    const twice = [...stored.values()].filter((count) => count > 1).length;

    const audit = await runScript('scripts/audit-verify.ts', { ...common, LOG_LEVEL: 'silent' });
    const figures = {
      faults,
      processesAliveThroughDatabaseFaults: alive.filter((p) => !p.exit).length,
      web: { sent: sentMessages.length, acknowledged: acked.length, lost: lost.length, storedTwice: twice, retries: webRetries },
      telegram: { updates: updates.length, unanswered: unanswered.length, answeredTwice: doubled.length },
      killMinus9: {
        restartMs,
        chatsWaitingAtKill: waiting.length,
        // From the kill to the answer of each chat left waiting; and from the restarted process's readiness.
        silenceMs: spread(answeredAt.map((at) => at - killedAt)),
        afterRestartMs: spread(answeredAt.map((at) => Math.max(0, at - readyAt))),
      },
      readyzDuringOutage: readyDuringOutage,
      auditExit: audit.code,
    };
    console.log(`fault figures ${JSON.stringify(figures)}`);

    expect(alive, products.map((p) => `${p.name}:\n${p.output.slice(-30).join('\n')}`).join('\n')).toEqual([
      { name: 'A (web + Telegram polling)', exit: undefined },
      { name: 'B (web)', exit: undefined },
    ]);
    expect(b.exit).toBeUndefined();
    expect(restarted.exit).toBeUndefined();
    expect(lost).toEqual([]);
    expect(twice).toBe(0);
    expect(acked.length).toBeGreaterThan(50);
    expect(unanswered.map((u) => u.chat)).toEqual([]);
    expect(updates.length).toBeGreaterThan(100);
    // The database away: not ready (503, naming it), while alive.
    expect(readyDuringOutage.filter((r) => r.status === 503 && r.database === 'unreachable').length).toBeGreaterThan(0);
    expect(readyDuringOutage.filter((r) => r.status === 200)).toEqual([]);
    expect((await request(`${a.url}/readyz`)).status).toBe(200);
    expect(audit.code, audit.output).toBe(0);
  }, 480_000);
});
