import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadContentKeys, sealText } from '../../src/adapters/postgres/db/content-keys.js';
import { type Database, openDatabase, queryRows } from '../../src/adapters/postgres/db/database.js';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import { eraseCustomer, SETTLED_PAYLOAD_MS, sweepRetention } from '../../src/adapters/postgres/stores/pg-erasure.js';
import { createPgChannelOutbox, sealPayload } from '../../src/adapters/postgres/stores/pg-telegram-store.js';
import { createPgTurnLog } from '../../src/adapters/postgres/turn-log/pg-turn-log.js';
import { generateSignerKey, parseSignerKey, verifyTranscript } from '../../src/core/index.js';
import { createEmptyPostgresDatabase, type Engine, testEngines } from '../support/databases.js';
import { screened } from '../support/screened.js';

const ORIGIN = 'test.example/retention';
const SIGNER = parseSignerKey(generateSignerKey(ORIGIN));

/** A database whose master keys are in a key file, as `npm start` keeps them; `open()` gives another instance on it (PostgreSQL). */
async function setup(engine: Engine) {
  const dir = mkdtempSync(join(tmpdir(), 'helpdesk-retention-'));
  const keyFile = join(dir, 'content-master-key');
  const keys = () => loadContentKeys({ file: keyFile, createIfMissing: true }).keys;
  const empty = engine === 'postgres' ? await createEmptyPostgresDatabase() : undefined;
  const open = async (): Promise<Database> => {
    const database = await openDatabase(
      empty ? { databaseUrl: empty.url, dataDir: 'unused', contentKeys: keys() } : { dataDir: 'memory://', contentKeys: keys() },
    );
    await database.migrate();
    return database;
  };
  const first = await open();
  const instance = (database: Database) => ({
    database,
    db: database.db,
    store: createPgConversationStore(database),
    log: createPgTurnLog({ database, origin: ORIGIN, signer: SIGNER }),
  });
  return {
    ...instance(first),
    /** Another instance on the same PostgreSQL, with its own copy of the key file's keys. */
    async another() {
      return instance(await open());
    },
    async drop(...others: Database[]) {
      for (const o of others) await o.close();
      await first.close();
      await empty?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Setup = Awaited<ReturnType<typeof setup>>;

async function converse(s: Pick<Setup, 'store'>, channel: 'telegram' | 'web', externalId: string, words: string, close = false) {
  const { conversation } = await s.store.open({ channel, externalId, language: 'zh', tokenHash: null, customerHandle: screened(`@${externalId}`) });
  await s.store.append(
    conversation.id,
    [
      { role: 'customer', kind: 'message', text: screened(words), language: 'zh' },
      { role: 'bot', kind: 'answer', text: '请稍等', language: 'zh' },
    ],
    close ? { state: 'closed' } : {},
  );
  return conversation.id;
}

const texts = async (s: Pick<Setup, 'store'>, id: string) => (await s.store.turns(id, 0)).map((t) => t.text);

/** 'stored', or the database's refusal (drizzle wraps the database's error: its message is the cause's). */
const outcome = (write: Promise<unknown>): Promise<string> =>
  write.then(
    () => 'stored',
    (e: { cause?: Error }) => String(e.cause?.message ?? e),
  );

/** Resolves once one session of this test's database waits on a lock (the statement the test holds back). */
async function untilOneWaitsOnALock(q: Database['db']): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const [row] = await queryRows<{ n: number }>(
      q,
      sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (row?.n === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no session waited on a lock');
}

describe.each(testEngines())('erasure by customer, retention and audits on %s', (engine) => {
  it('erases every conversation of a Telegram user, private chat and group member alike, and a web customer; other members keep theirs; the audit and transcripts verify with the erased turns marked', async () => {
    const s = await setup(engine);
    try {
      const own = await converse(s, 'telegram', '555001', '我的提现没到账');
      const inGroup = await converse(s, 'telegram', '-100777:555001', '群里的问题');
      const neighbour = await converse(s, 'telegram', '-100777:555002', '邻居的问题');
      const suffixOnly = await converse(s, 'telegram', '1555001', '号码相似的人');
      const web = await converse(s, 'web', 'w-abc', 'web customer words');

      const telegram = await eraseCustomer(s.db, s.log, { channel: 'telegram', userId: '555001' });
      expect(telegram.conversations.map((c) => c.conversationId).sort()).toEqual([own, inGroup].sort());
      expect(telegram.conversations.every((c) => c.result.status === 'erased')).toBe(true);
      expect(telegram.rotation).toMatchObject({ version: 2, retired: [1] });
      const webErasure = await eraseCustomer(s.db, s.log, { channel: 'web', externalId: 'w-abc' });
      expect(webErasure.conversations.map((c) => c.conversationId)).toEqual([web]);
      expect(webErasure.rotation?.version).toBe(3);

      expect(await texts(s, own)).toEqual(['', '']);
      expect(await texts(s, inGroup)).toEqual(['', '']);
      expect(await texts(s, web)).toEqual(['', '']);
      expect(await texts(s, neighbour)).toEqual(['邻居的问题', '请稍等']);
      expect(await texts(s, suffixOnly)).toEqual(['号码相似的人', '请稍等']);
      expect((await s.store.find(neighbour))?.customerHandle).toBe('@-100777:555002');
      expect((await s.store.find(own))?.customerHandle).toBeNull();

      await s.log.checkpointNow();
      const report = await s.log.verify();
      expect(report.violations).toEqual([]);
      expect(report).toMatchObject({ ok: true, erasedTurns: 6 });
      const transcript = await verifyTranscript(await s.log.transcript(own), { key: SIGNER.verifierKey });
      expect(transcript.problems).toEqual([]);
      expect(transcript.turns.map((t) => t.status)).toEqual(['erased', 'erased']);
    } finally {
      await s.drop();
    }
  }, 120_000);

  it('refuses keys, handles and payloads sealed before a rotation and stored after it (a writer held by its lock), and stores them sealed again', async () => {
    const s = await setup(engine);
    try {
      const alice = await converse(s, 'telegram', '801', '甲的问题');
      const bob = await converse(s, 'telegram', '802', '乙的问题');
      const keys = s.database.contentKeys;
      // Sealed under v1 by a writer that has not stored them yet when the erasure rotates to v2.
      const staleKey = keys.wrap(randomBytes(32), bob);
      const staleHandle = sealText(keys, '@bob', `handle:${bob}`);
      const stalePayload = sealPayload(keys, { chat_id: 802, text: '稍后发送' }, 'outbox:stale');
      expect((await eraseCustomer(s.db, s.log, { conversationId: alice })).rotation?.version).toBe(2);

      const refused = /retired content master key v1/;
      expect(await outcome(s.db.execute(sql`UPDATE conversation_key SET key = ${staleKey} WHERE conversation_id = ${bob}`))).toMatch(refused);
      expect(await outcome(s.db.execute(sql`UPDATE conversation SET customer_handle = ${staleHandle} WHERE id = ${bob}`))).toMatch(refused);
      expect(
        await outcome(
          s.db.execute(sql`INSERT INTO channel_outbox (channel, chat_id, dedupe_key, method, payload)
          VALUES ('telegram', '802', 'outbox:stale', 'sendMessage', ${JSON.stringify(stalePayload)}::jsonb)`),
        ),
      ).toMatch(refused);
      expect(
        await outcome(
          s.db.execute(sql`INSERT INTO channel_update (source, update_id, chat_id, payload)
          VALUES ('telegram:1', 7, '802', ${JSON.stringify(stalePayload)}::jsonb)`),
        ),
      ).toMatch(refused);

      // Sealed again, under the live key, the same writes are stored and read back.
      await s.db.execute(sql`UPDATE conversation SET customer_handle = ${sealText(keys, '@bob', `handle:${bob}`)} WHERE id = ${bob}`);
      expect((await s.store.find(bob))?.customerHandle).toBe('@bob');
      const outbox = createPgChannelOutbox(s.database);
      await outbox.enqueue([
        { channel: 'telegram', chatId: '802', dedupeKey: 'outbox:again', method: 'sendMessage', payload: { chat_id: 802, text: '稍后发送' } },
      ]);
      expect((await outbox.claim('telegram', 5, 60_000)).map((m) => m.payload)).toEqual([{ chat_id: 802, text: '稍后发送' }]);
      expect(await texts(s, bob)).toEqual(['乙的问题', '请稍等']);
      await s.log.checkpointNow();
      expect(await s.log.verify()).toMatchObject({ ok: true, erasedTurns: 2 });
    } finally {
      await s.drop();
    }
  }, 120_000);

  it.skipIf(engine !== 'postgres')(
    "refuses a payload whose insert waited on a rotation's locks when that rotation retired its key (the database reads the live keys after the wait)",
    async () => {
      const s = await setup(engine);
      // The rotation on another instance (a connection of its own, as in production).
      const b = await s.another();
      try {
        const stale = sealPayload(s.database.contentKeys, { chat_id: 803, text: '稍后发送' }, 'outbox:late');
        let insert: Promise<string> | undefined;
        await b.database.transaction(async (tx) => {
          // As a rotation does: the writers' tables locked, the older versions retired, in one commit.
          await tx.db.execute(sql`LOCK TABLE channel_outbox IN SHARE ROW EXCLUSIVE MODE`);
          await tx.db.execute(sql`INSERT INTO content_master (version, fingerprint) VALUES (2, 'test')`);
          await tx.db.execute(sql`DELETE FROM content_master WHERE version < 2`);
          insert = outcome(
            s.db.execute(
              sql`INSERT INTO channel_outbox (channel, chat_id, dedupe_key, method, payload)
                VALUES ('telegram', '803', 'outbox:late', 'sendMessage', ${JSON.stringify(stale)}::jsonb)`,
            ),
          );
          await untilOneWaitsOnALock(tx.db);
        });
        expect(await insert).toMatch(/retired content master key v1/);
      } finally {
        await s.drop(b.database);
      }
    },
    60_000,
  );

  it.skipIf(engine !== 'postgres')(
    "runs an erasure and another instance's key rotation one after the other, not into a deadlock (the erasure takes the table's lock before its row's)",
    async () => {
      const s = await setup(engine);
      const b = await s.another();
      try {
        const erased = await converse(s, 'telegram', '740', '甲的问题');
        const kept = await converse(s, 'telegram', '741', '乙的问题');
        let erasure: Promise<string> | undefined;
        await b.database.transaction(async (tx) => {
          // As a rotation does: the tables locked first, then every sealed handle re-sealed.
          await tx.db.execute(sql`LOCK TABLE conversation, conversation_key, channel_update, channel_outbox IN SHARE ROW EXCLUSIVE MODE`);
          erasure = outcome(s.log.erase(erased));
          await untilOneWaitsOnALock(tx.db);
          // The erasure waits for the rotation holding no row of it: the rotation's writes go through.
          await tx.db.execute(sql`UPDATE conversation SET updated_at = now() WHERE id IN (${erased}, ${kept})`);
        });
        expect(await erasure).toBe('stored');
        expect(await texts(s, erased)).toEqual(['', '']);
        expect(await texts(s, kept)).toEqual(['乙的问题', '请稍等']);
      } finally {
        await s.drop(b.database);
      }
    },
    60_000,
  );

  it('erases closed conversations older than RETENTION_DAYS unless under a legal hold, each erasure logged; empties settled reply payloads and keeps their ids', async () => {
    const s = await setup(engine);
    try {
      const old = await converse(s, 'web', 'old', '很久以前的问题', true);
      const held = await converse(s, 'web', 'held', '有争议的问题', true);
      const recent = await converse(s, 'web', 'recent', '最近的问题', true);
      const open = await converse(s, 'web', 'open', '还没解决的问题');
      await s.log.placeLegalHold(held, 'open dispute #42');
      await s.db.execute(sql`UPDATE conversation SET updated_at = now() - interval '40 days' WHERE external_id IN ('old', 'held', 'open')`);
      const outbox = createPgChannelOutbox(s.database);
      await outbox.enqueue([
        { channel: 'telegram', chatId: '42', dedupeKey: 'tg:1:u1:0', method: 'sendMessage', payload: { chat_id: 42, text: '发出的回复' } },
        { channel: 'telegram', chatId: '43', dedupeKey: 'tg:1:u2:0', method: 'sendMessage', payload: { chat_id: 43, text: '还在等待的回复' } },
      ]);
      const [sent] = await outbox.claim('telegram', 1, 60_000);
      await outbox.claim('telegram', 0, 60_000, [{ id: sent?.id as number, at: new Date(Date.now() - SETTLED_PAYLOAD_MS - 1000), result: { message_id: 1 } }]);

      const sweep = await sweepRetention(s.db, s.log, 30);
      expect(sweep.purged).toBe(1);
      expect(sweep.erasure?.conversations.map((c) => c.conversationId)).toEqual([old]);
      const [result] = sweep.erasure?.conversations ?? [];
      expect((await s.log.entry(result?.result.entryIdx as number))?.parsed).toMatchObject({ kind: 'erasure', conv: old, reason: 'retention' });
      expect(await texts(s, old)).toEqual(['', '']);
      for (const kept of [held, recent, open]) expect((await texts(s, kept))[0]).not.toBe('');

      const rows = await queryRows<{ dedupe_key: string; status: string; payload: unknown }>(
        s.db,
        sql`SELECT dedupe_key, status, payload FROM channel_outbox ORDER BY id`,
      );
      expect(rows.map((r) => [r.dedupe_key, r.status])).toEqual([
        ['tg:1:u1:0', 'sent'],
        ['tg:1:u2:0', 'pending'],
      ]);
      expect(rows[0]?.payload).toEqual({});
      // The pending reply is still sent, sealed under the rotated master key.
      const [pending] = await outbox.claim('telegram', 5, 60_000);
      expect(pending?.payload).toEqual({ chat_id: 43, text: '还在等待的回复' });

      // A second sweep finds nothing more to erase; the audit passes.
      expect((await sweepRetention(s.db, s.log, 30)).erasure).toBeUndefined();
      await s.log.checkpointNow();
      expect(await s.log.verify()).toMatchObject({ ok: true, erasedTurns: 2 });
    } finally {
      await s.drop();
    }
  }, 120_000);

  it.skipIf(engine !== 'postgres')(
    'keeps two instances sharing the key file working across an erasure and its key rotation; the audit passes on each and after a restart',
    async () => {
      const s = await setup(engine);
      const b = await s.another();
      let restarted: Awaited<ReturnType<Setup['another']>> | undefined;
      try {
        const alice = await converse(s, 'telegram', '901', '甲的问题');
        const bob = await converse(b, 'telegram', '902', '乙的问题');
        // B knows Bob's key (unwrapped under v1); A erases Alice and rotates to v2 in the shared key file.
        const erasure = await eraseCustomer(s.db, s.log, { conversationId: alice });
        expect(erasure.rotation?.version).toBe(2);
        // B goes on: it reads what A re-wrapped, appends, opens new conversations under the new key.
        await b.store.append(bob, [{ role: 'customer', kind: 'message', text: screened('乙又来了'), language: 'zh' }]);
        expect(await texts(b, bob)).toEqual(['乙的问题', '请稍等', '乙又来了']);
        const carol = await converse(b, 'telegram', '903', '丙的问题');
        expect(await texts(s, carol)).toEqual(['丙的问题', '请稍等']);
        await s.log.checkpointNow();
        for (const instance of [s, b]) expect(await instance.log.verify()).toMatchObject({ ok: true, erasedTurns: 2 });
        restarted = await s.another();
        expect(await restarted.log.verify()).toMatchObject({ ok: true, erasedTurns: 2 });
        expect(await texts(restarted, bob)).toEqual(['乙的问题', '请稍等', '乙又来了']);
      } finally {
        await s.drop(b.database, ...(restarted ? [restarted.database] : []));
      }
    },
    120_000,
  );
});
