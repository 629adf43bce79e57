import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckpointFolder, readPublishedCheckpoints } from '../../src/adapters/postgres/turn-log/log-checkpoint-files.js';
import { queryRows } from '../../src/adapters/postgres/db/database.js';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import { createPgTurnLog } from '../../src/adapters/postgres/turn-log/pg-turn-log.js';
import {
  appendLeaf,
  type AuditReport,
  emptyFrontier,
  encodeFrontier,
  frontierRoot,
  generateSignerKey,
  leafHash,
  openCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  verifyInclusion,
} from '../../src/core/index.js';
import { createTestDatabase, type Engine, testEngines } from '../support/databases.js';
import { asOwner, rawExec } from '../support/log-tampering.js';
import { screened } from '../support/screened.js';

const ORIGIN = 'test.example/turn-log';
const SIGNING_KEY = generateSignerKey(ORIGIN);
const SIGNER = parseSignerKey(SIGNING_KEY);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh database with three interleaved conversations (12 turns) and one published checkpoint. */
async function setup(engine: Engine) {
  const test = await createTestDatabase(engine);
  const db = test.database.db;
  const dir = mkdtempSync(join(tmpdir(), 'turn-log-'));
  dirs.push(dir);
  const folder = createCheckpointFolder(dir);
  const store = createPgConversationStore(test.database);
  const log = createPgTurnLog({ database: test.database, origin: ORIGIN, signer: SIGNER, publish: folder.publish });
  const conversations = [];
  for (const name of ['a', 'b', 'c']) {
    conversations.push((await store.open({ channel: 'web', externalId: name, language: 'en', tokenHash: null })).conversation);
  }
  for (let round = 0; round < 4; round++) {
    await Promise.all(
      conversations.map((c) => {
        const text = `${c.externalId} says ${round} 你好 ✓`;
        return store.append(c.id, [
          round % 2 ? { role: 'bot', kind: 'message', text, language: 'en' } : { role: 'customer', kind: 'message', text: screened(text), language: 'en' },
        ]);
      }),
    );
  }
  await log.checkpointNow();
  const exec = rawExec(db);
  const rows = <T>(query: string) => queryRows<T>(db, sql.raw(query));
  // On PostgreSQL every audit also runs in worker threads (pages of 5 entries over 2 workers, in
  // one exported snapshot), which must report exactly what the in-thread audit reports.
  const inWorkers = test.url
    ? createPgTurnLog({ database: test.database, origin: ORIGIN, signer: SIGNER, audit: { databaseUrl: test.url, workers: 2, parallelFrom: 0, pageSize: 5 } })
    : undefined;
  const audit = async (): Promise<AuditReport> => {
    const report = await log.verify({ published: readPublishedCheckpoints(dir) });
    if (inWorkers) expect(await inWorkers.verify({ published: readPublishedCheckpoints(dir) })).toEqual(report);
    return report;
  };
  return { test, db, dir, store, log, conversations, exec, rows, audit };
}

const reasons = (report: AuditReport) => report.violations.map((v) => v.reason).join('\n');

describe.each(testEngines())('turn log on %s', (engine) => {
  it('logs every turn in the same transaction, with contiguous indexes and a head that matches', async () => {
    const s = await setup(engine);
    try {
      const more = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          s.store.append((s.conversations[i % 3] as { id: string }).id, [{ role: 'customer', kind: 'message', text: screened(`burst ${i}`), language: 'zh' }]),
        ),
      );
      expect(more.every((r) => r.turns.length === 1)).toBe(true);
      const [counts] = await s.rows<{ entries: number; turns: number; contents: number; min: number; max: number }>(
        `SELECT (SELECT count(*)::int FROM log_entry) AS entries, (SELECT count(*)::int FROM turn) AS turns,
                (SELECT count(*)::int FROM turn_content) AS contents, (SELECT min(idx)::int FROM log_entry) AS min, (SELECT max(idx)::int FROM log_entry) AS max`,
      );
      expect(counts).toEqual({ entries: 42, turns: 42, contents: 42, min: 0, max: 41 });
      const report = await s.audit();
      expect(report.violations).toEqual([]);
      expect(report).toMatchObject({ ok: true, size: 42, turns: 42, conversations: 3 });
      expect((await s.log.head()).size).toBe(42);
    } finally {
      await s.test.drop();
    }
  });

  it('audits one snapshot: turns appended while an audit runs neither disturb it nor get half-counted', async () => {
    const s = await setup(engine);
    try {
      const c = s.conversations[0] as { id: string };
      for (let i = 0; i < 10; i++) {
        await s.store.append(
          c.id,
          Array.from({ length: 30 }, (_, j) => ({
            role: 'customer' as const,
            kind: 'message' as const,
            text: screened(`bulk ${i}.${j}`),
            language: 'en' as const,
          })),
        );
      }
      const before = (await s.log.head()).size;
      // Small pages make the audit long enough for the appends to land in the middle of it.
      const slow = createPgTurnLog({
        database: s.test.database,
        origin: ORIGIN,
        signer: SIGNER,
        audit: { databaseUrl: s.test.url, workers: 2, parallelFrom: 0, pageSize: 2 },
      });
      const auditing = slow.verify({ published: readPublishedCheckpoints(s.dir) });
      const appending = (async () => {
        for (let i = 0; i < 20; i++) await s.store.append(c.id, [{ role: 'customer', kind: 'message', text: screened(`meanwhile ${i}`), language: 'en' }]);
      })();
      const [report] = await Promise.all([auditing, appending]);
      expect(report.violations).toEqual([]);
      expect(report.ok).toBe(true);
      // Whatever was appended before its snapshot, and nothing after: no torn tail.
      expect(report.entries).toBeGreaterThanOrEqual(before);
      expect(report.entries).toBeLessThanOrEqual(before + 20);
      expect((await s.audit()).entries).toBe(before + 20);
    } finally {
      await s.test.drop();
    }
  });

  it.runIf(engine === 'postgres')('fails the audit with a clear error, without hanging, when its worker threads cannot reach the database', async () => {
    const s = await setup(engine);
    try {
      const unreachable = new URL(s.test.url as string);
      unreachable.port = '9';
      const log = createPgTurnLog({
        database: s.test.database,
        origin: ORIGIN,
        signer: SIGNER,
        audit: { databaseUrl: unreachable.toString(), workers: 2, parallelFrom: 0, pageSize: 5 },
      });
      await expect(log.verify()).rejects.toThrow(/audit worker: .*(ECONNREFUSED|connect)/);
      // The database itself is fine: the in-thread audit still passes.
      expect((await s.log.verify()).ok).toBe(true);
    } finally {
      await s.test.drop();
    }
  });

  it('keeps one chain per conversation when two stores (two processes) append to it at once', async () => {
    const s = await setup(engine);
    try {
      const other = createPgConversationStore(s.test.database, { maxFlushes: 2 });
      const c = s.conversations[0] as { id: string };
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? s.store : other).append(c.id, [{ role: 'customer', kind: 'message', text: screened(`race ${i}`), language: 'en' }]),
        ),
      );
      expect((await s.store.turns(c.id, 0)).map((t) => t.seq)).toEqual(Array.from({ length: 44 }, (_, i) => i + 1));
      const report = await s.audit();
      expect(report.violations).toEqual([]);
    } finally {
      await s.test.drop();
    }
  });

  it("continues a conversation from what other writers stored since this store's last append: their turns, state, erasure", async () => {
    const s = await setup(engine);
    try {
      const other = createPgConversationStore(s.test.database);
      const c = s.conversations[0] as { id: string };
      const say = (text: string) => [{ role: 'customer' as const, kind: 'message' as const, text: screened(text), language: 'en' as const }];
      await s.store.append(c.id, say('mine'));
      const theirs = await other.append(c.id, say('theirs'), { state: 'escalated', priority: 'urgent', escalationReason: 'sensitive_topic' });
      expect(theirs.turns.map((t) => t.seq)).toEqual([6]);
      // This store last wrote seq 5 with state "bot": it must neither reuse seq 6 nor undo the escalation.
      const next = await s.store.append(c.id, say('mine again'));
      expect(next.turns.map((t) => t.seq)).toEqual([7]);
      expect(next.conversation).toMatchObject({ state: 'escalated', priority: 'urgent', escalationReason: 'sensitive_topic' });
      await s.store.append(c.id, say('alone again'));
      // An erasure deletes the content key and extends the chain: later turns get a new key and link to it.
      await s.log.erase(c.id);
      const afterErasure = await s.store.append(c.id, say('after erasure'));
      expect(afterErasure.turns.map((t) => t.seq)).toEqual([9]);
      await other.append(c.id, say('theirs again'));
      expect((await s.store.append(c.id, say('last'))).turns.map((t) => t.seq)).toEqual([11]);
      const report = await s.audit();
      expect(reasons(report)).toBe('');
      expect(report.ok).toBe(true);
    } finally {
      await s.test.drop();
    }
  });

  it("writes a lone writer's batch in one statement; takes the locks while another writer appends, and tries again after quiet batches, more of them after each failed try", async () => {
    const s = await setup(engine);
    try {
      // Statements sent outside transactions (the locked path runs in a transaction, on another handle).
      const client = (s.db as unknown as { session: { client: { query: (...args: unknown[]) => Promise<unknown> } } }).session.client;
      const query = client.query.bind(client);
      let sent = 0;
      client.query = (...args: unknown[]) => {
        sent += 1;
        return query(...args);
      };
      const statementsFor = async (run: () => Promise<unknown>) => {
        const before = sent;
        await run();
        return sent - before;
      };
      const other = createPgConversationStore(s.test.database);
      const c = s.conversations[0] as { id: string };
      const say = [{ role: 'customer' as const, kind: 'message' as const, text: screened('hi'), language: 'en' as const }];
      expect(await statementsFor(() => s.store.append(c.id, say))).toBe(1);
      const fresh = (await s.store.open({ channel: 'web', externalId: 'new', language: 'en', tokenHash: null })).conversation;
      expect(await statementsFor(() => s.store.append(fresh.id, say))).toBe(1);
      await other.append(c.id, say);
      // The one statement finds the head moved and writes nothing; the batch is written under the locks.
      expect(await statementsFor(() => s.store.append(c.id, say))).toBe(1);
      // Locks again: the other writer appended before the last batch, so it may still be appending.
      expect(await statementsFor(() => s.store.append(c.id, say))).toBe(0);
      // Nobody else appended since: one statement again.
      expect(await statementsFor(() => s.store.append(c.id, say))).toBe(1);
      // Two failed attempts in a row: it waits for two quiet batches before trying again.
      await other.append(c.id, say);
      expect(await statementsFor(() => s.store.append(c.id, say))).toBe(1);
      expect(await statementsFor(() => s.store.append(c.id, say))).toBe(0);
      await other.append(c.id, say);
      // The failed statement (the batch is then written under the locks), two quiet batches, one statement.
      expect(await statementsFor(() => s.store.append(c.id, say))).toBe(1);
      expect(await statementsFor(() => s.store.append(c.id, say))).toBe(0);
      expect(await statementsFor(() => s.store.append(c.id, say))).toBe(0);
      expect(await statementsFor(() => s.store.append(c.id, say))).toBe(1);
      expect((await s.store.turns(c.id, 0)).map((t) => t.seq)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
      expect((await s.audit()).violations).toEqual([]);
    } finally {
      await s.test.drop();
    }
  });

  it('keeps personal data out of headers: content is only a salted commitment', async () => {
    const s = await setup(engine);
    try {
      const headers = await s.rows<{ header: Uint8Array }>('SELECT header FROM log_entry');
      for (const { header } of headers) expect(Buffer.from(header).toString('utf8')).not.toMatch(/says|你好/);
      const first = await s.log.entry(0);
      expect(first?.parsed).toMatchObject({ kind: 'turn', seq: 1, role: 'customer', prev: null });
      expect(first?.parsed && 'commit' in first.parsed ? first.parsed.commit : '').toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await s.test.drop();
    }
  });

  it('refuses UPDATE, DELETE and TRUNCATE of log rows and a shrinking head, even as replica', async () => {
    const s = await setup(engine);
    try {
      // Past 16 entries a level-4 subtree hash is stored, so log_node has a row to protect.
      await s.store.append(
        (s.conversations[0] as { id: string }).id,
        Array.from({ length: 8 }, () => ({ role: 'bot' as const, kind: 'message' as const, text: 'x', language: 'en' as const })),
      );
      const attempts = [
        "UPDATE log_entry SET kind = 'x' WHERE idx = 1",
        'DELETE FROM log_entry WHERE idx = 11',
        'TRUNCATE log_entry',
        'DELETE FROM log_node',
        'TRUNCATE log_node',
        'UPDATE log_checkpoint SET note = note',
        'DELETE FROM log_checkpoint',
        'UPDATE log_head SET size = 3',
        'DELETE FROM log_head',
        'TRUNCATE log_head',
      ];
      for (const replica of [false, true]) {
        for (const attempt of attempts) {
          const query = replica ? `SET session_replication_role = replica; ${attempt}` : attempt;
          const error = await s.exec(query).then(
            () => undefined,
            (e: unknown) => e,
          );
          const text = [error, (error as { cause?: unknown })?.cause].map((e) => String((e as Error | undefined)?.message)).join(' ');
          expect(text, query).toMatch(/append-only|only grows/);
          await s.exec('SET session_replication_role = origin');
        }
      }
      expect((await s.audit()).ok).toBe(true);
    } finally {
      await s.test.drop();
    }
  });

  it('writes one entry for a retried append with the same external key', async () => {
    const s = await setup(engine);
    try {
      const c = s.conversations[0] as { id: string };
      const turn = { role: 'customer' as const, kind: 'message' as const, text: screened('retry me'), language: 'en' as const, externalKey: 'tg:1:99' };
      const [one, two] = await Promise.all([s.store.append(c.id, [turn]), s.store.append(c.id, [turn])]);
      const three = await s.store.append(c.id, [turn]);
      expect([one?.turns[0]?.seq, two?.turns[0]?.seq, three.turns[0]?.seq]).toEqual([5, 5, 5]);
      expect((await s.log.head()).size).toBe(13);
      expect((await s.audit()).ok).toBe(true);
    } finally {
      await s.test.drop();
    }
  });

  it('logs the turn count when a conversation closes, and proves every entry from stored subtrees', async () => {
    const s = await setup(engine);
    try {
      const c = s.conversations[1] as { id: string };
      const many = Array.from({ length: 290 }, (_, i) => ({ role: 'agent' as const, kind: 'message' as const, text: `line ${i}`, language: 'en' as const }));
      await s.store.append(c.id, many, { state: 'closed' });
      const head = await s.log.head();
      expect(head.size).toBe(12 + 290 + 1);
      const close = await s.log.entry(head.size - 1);
      expect(close?.parsed).toMatchObject({ kind: 'close', seq: 294 });
      const leaves = await s.rows<{ idx: number; leaf_hash: Uint8Array }>('SELECT idx::int, leaf_hash FROM log_entry ORDER BY idx');
      for (const index of [0, 1, 15, 16, 255, 256, 257, 290, head.size - 1]) {
        const proof = await s.log.inclusionProof(index, head.size);
        expect(verifyInclusion(index, head.size, leaves[index]?.leaf_hash as Uint8Array, proof, head.root), `index ${index}`).toBe(true);
        const older = await s.log.inclusionProof(Math.min(index, 10), 11);
        const root11 = frontierRoot(leaves.slice(0, 11).reduce((f, l) => (appendLeaf(f, Buffer.from(l.leaf_hash)), f), emptyFrontier()));
        expect(verifyInclusion(Math.min(index, 10), 11, leaves[Math.min(index, 10)]?.leaf_hash as Uint8Array, older, root11)).toBe(true);
      }
      expect((await s.audit()).ok).toBe(true);
    } finally {
      await s.test.drop();
    }
  });

  it('signs and publishes a checkpoint only when the log grew', async () => {
    const s = await setup(engine);
    try {
      const first = await s.log.checkpointNow();
      expect(first?.size).toBe(12);
      expect(readPublishedCheckpoints(s.dir)).toHaveLength(1);
      await s.store.append((s.conversations[0] as { id: string }).id, [{ role: 'bot', kind: 'answer', text: 'ok', language: 'en' }]);
      const second = await s.log.checkpointNow();
      expect(second?.size).toBe(13);
      const published = readPublishedCheckpoints(s.dir);
      expect(published).toHaveLength(2);
      const opened = openCheckpoint(published[1]?.note ?? '', parseVerifierKey(SIGNER.verifierKey), ORIGIN);
      expect(opened.ok && opened.checkpoint.root.equals((await s.log.head()).root)).toBe(true);
    } finally {
      await s.test.drop();
    }
  });

  it('alerts from the scheduled self-check when a newly appended turn is altered', async () => {
    const s = await setup(engine);
    const alerts: string[] = [];
    const selfCheck = s.log.startSelfCheck(3_600_000, (violations) => alerts.push(...violations.map((v) => v.reason)));
    try {
      await selfCheck.check();
      expect(alerts).toEqual([]);
      const c = s.conversations[2] as { id: string };
      const appended = await s.store.append(c.id, [{ role: 'agent', kind: 'message', text: 'Your deposit will be credited', language: 'en' }]);
      await s.log.checkpointNow();
      await s.exec(
        asOwner(['turn'], `UPDATE turn SET text = 'We never received a deposit' WHERE conversation_id = '${c.id}' AND seq = ${appended.turns[0]?.seq}`),
      );
      await selfCheck.check();
      expect(alerts.join('\n')).toMatch(/turn row differs from the logged content/);
    } finally {
      selfCheck.stop();
      await s.test.drop();
    }
  });

  // The command opens DATABASE_URL: an in-memory PGlite is not reachable from another process.
  it.skipIf(engine !== 'postgres')('reports INTACT and exit 0 from npm run audit:verify, and the first failing index with exit 1 after tampering', async () => {
    const s = await setup(engine);
    try {
      const run = () =>
        spawnSync(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts'], {
          cwd: REPO,
          encoding: 'utf8',
          env: {
            ...process.env,
            DATABASE_URL: s.test.url,
            LOG_ORIGIN: ORIGIN,
            LOG_SIGNING_KEY: SIGNING_KEY,
            LOG_CHECKPOINT_DIR: s.dir,
            LOG_LEVEL: 'silent',
            // The content master key the test database's content is wrapped under.
            CONTENT_MASTER_KEY: s.test.database.contentKeys.exportText().trim().replace(/\n/g, ','),
          },
        });
      const ok = run();
      expect(ok.stdout).toMatch(/INTACT/);
      expect(ok.stdout).toMatch(/checkpoints checked 2 \(1 published/);
      expect(ok.status).toBe(0);
      await s.exec(asOwner(['log_entry'], 'DELETE FROM log_entry WHERE idx = 7'));
      const failed = run();
      expect(failed.stdout).toMatch(/✘ #7: entries 7\.\.7 missing/);
      expect(failed.stdout).toMatch(/first failing index 7/);
      expect(failed.status).toBe(1);
    } finally {
      await s.test.drop();
    }
  });

  describe('tampering by someone with database access', () => {
    it('detects a modified turn (content changed in the turn table)', async () => {
      const s = await setup(engine);
      try {
        await s.exec(
          asOwner(
            ['turn'],
            "UPDATE turn SET text = 'I never asked for that' WHERE seq = 2 AND conversation_id = (SELECT conversation_id FROM log_entry WHERE idx = 0)",
          ),
        );
        const [target] = await s.rows<{ idx: number }>(
          "SELECT idx::int FROM log_entry WHERE kind = 'turn' AND seq = 2 AND conversation_id = (SELECT conversation_id FROM log_entry WHERE idx = 0)",
        );
        const report = await s.audit();
        expect(report.ok).toBe(false);
        expect(report.firstFailingIndex).toBe(target?.idx);
        expect(reasons(report)).toMatch(/turn row differs from the logged content/);
      } finally {
        await s.test.drop();
      }
    });

    it('detects altered or deleted sealed content', async () => {
      const s = await setup(engine);
      try {
        // Flips the bits of one ciphertext byte (setting it to a constant would change nothing 1 time in 256).
        await s.exec(
          'UPDATE turn_content SET sealed = set_byte(sealed, 19, get_byte(sealed, 19) # 255) WHERE seq = 1 AND conversation_id = (SELECT conversation_id FROM log_entry WHERE idx = 1)',
        );
        await s.exec('DELETE FROM turn_content WHERE seq = 3 AND conversation_id = (SELECT conversation_id FROM log_entry WHERE idx = 2)');
        const report = await s.audit();
        expect(report.firstFailingIndex).toBe(1);
        expect(reasons(report)).toMatch(/does not decrypt/);
        expect(reasons(report)).toMatch(/content missing without a logged erasure|ciphertext deleted while the turn text remains/);
      } finally {
        await s.test.drop();
      }
    });

    it('detects a modified header even with its leaf hash recomputed', async () => {
      const s = await setup(engine);
      try {
        const [row] = await s.rows<{ header: Uint8Array }>('SELECT header FROM log_entry WHERE idx = 4');
        const forged = Buffer.from(
          Buffer.from(row?.header as Uint8Array)
            .toString('utf8')
            .replace('"role":"bot"', '"role":"agent"'),
          'utf8',
        );
        await s.exec(
          asOwner(
            ['log_entry'],
            `UPDATE log_entry SET header = '\\x${forged.toString('hex')}', leaf_hash = '\\x${leafHash(forged).toString('hex')}' WHERE idx = 4`,
          ),
        );
        const report = await s.audit();
        expect(report.ok).toBe(false);
        expect(reasons(report)).toMatch(/does not match the checkpoint/);
        expect(reasons(report)).toMatch(/link to the previous entry is broken/);
      } finally {
        await s.test.drop();
      }
    });

    it('detects a deleted middle row (triggers disabled) at its index', async () => {
      const s = await setup(engine);
      try {
        await s.exec(asOwner(['log_entry'], 'DELETE FROM log_entry WHERE idx = 5'));
        const report = await s.audit();
        expect(report.firstFailingIndex).toBe(5);
        expect(reasons(report)).toMatch(/entries 5\.\.5 missing/);
      } finally {
        await s.test.drop();
      }
    });

    it('detects reordered rows', async () => {
      const s = await setup(engine);
      try {
        await s.exec(
          asOwner(
            ['log_entry'],
            'UPDATE log_entry SET idx = -1 WHERE idx = 6; UPDATE log_entry SET idx = 6 WHERE idx = 9; UPDATE log_entry SET idx = 9 WHERE idx = -1',
          ),
        );
        const report = await s.audit();
        expect(report.ok).toBe(false);
        expect(report.firstFailingIndex).toBe(6);
        expect(reasons(report)).toMatch(/turn 4 follows turn 2|link to the previous entry is broken/);
      } finally {
        await s.test.drop();
      }
    });

    it('detects a truncated tail with a rolled-back head only against the published checkpoint', async () => {
      const s = await setup(engine);
      try {
        const keep = 8;
        const leaves = await s.rows<{ leaf_hash: Uint8Array }>(`SELECT leaf_hash FROM log_entry WHERE idx < ${keep} ORDER BY idx`);
        const frontier = emptyFrontier();
        for (const l of leaves) appendLeaf(frontier, Buffer.from(l.leaf_hash));
        await s.exec(
          asOwner(
            ['log_entry', 'log_head', 'log_checkpoint', 'log_node', 'turn'],
            `DELETE FROM turn t USING log_entry e WHERE e.idx >= ${keep} AND e.conversation_id = t.conversation_id AND e.seq = t.seq;
           UPDATE conversation c SET last_seq = (SELECT count(*) FROM turn t WHERE t.conversation_id = c.id);
           DELETE FROM log_entry WHERE idx >= ${keep}; DELETE FROM log_node; DELETE FROM log_checkpoint;
           UPDATE log_head SET size = ${keep}, root = '\\x${frontierRoot(frontier).toString('hex')}', frontier = '\\x${encodeFrontier(frontier).toString('hex')}'`,
          ),
        );
        // Inside the database everything is consistent again.
        const inDatabase = await s.log.verify();
        expect(inDatabase.violations).toEqual([]);
        const withPublished = await s.audit();
        expect(withPublished.ok).toBe(false);
        expect(withPublished.firstFailingIndex).toBe(keep);
        expect(reasons(withPublished)).toMatch(/covers 12 entries but the log has 8/);
      } finally {
        await s.test.drop();
      }
    });

    it('detects a consistent rewrite without the signing key (forged checkpoint)', async () => {
      const s = await setup(engine);
      try {
        const [row] = await s.rows<{ header: Uint8Array }>('SELECT header FROM log_entry WHERE idx = 11');
        const forged = Buffer.from(
          Buffer.from(row?.header as Uint8Array)
            .toString('utf8')
            .replace('"lang":"en"', '"lang":"zh"'),
          'utf8',
        );
        const leaves: Buffer[] = (await s.rows<{ leaf_hash: Uint8Array }>('SELECT leaf_hash FROM log_entry WHERE idx < 11 ORDER BY idx')).map((l) =>
          Buffer.from(l.leaf_hash),
        );
        leaves.push(leafHash(forged));
        const frontier = emptyFrontier();
        for (const l of leaves) appendLeaf(frontier, l);
        const mallory = parseSignerKey(generateSignerKey(ORIGIN));
        const note = signCheckpoint({ origin: ORIGIN, size: 12, root: frontierRoot(frontier) }, mallory);
        await s.exec(
          asOwner(
            ['log_entry', 'log_head', 'log_checkpoint'],
            `UPDATE log_entry SET header = '\\x${forged.toString('hex')}', leaf_hash = '\\x${leafHash(forged).toString('hex')}' WHERE idx = 11;
           UPDATE log_head SET root = '\\x${frontierRoot(frontier).toString('hex')}', frontier = '\\x${encodeFrontier(frontier).toString('hex')}';
           DELETE FROM log_checkpoint; INSERT INTO log_checkpoint (size, root, note) VALUES (12, '\\x${frontierRoot(frontier).toString('hex')}', '${note}')`,
          ),
        );
        const report = await s.audit();
        expect(report.ok).toBe(false);
        expect(reasons(report)).toMatch(/database: checkpoint rejected: no signature by key/);
        expect(reasons(report)).toMatch(/does not match the checkpoint from checkpoints-/);
      } finally {
        await s.test.drop();
      }
    });

    it('rejects forged, wrong-origin, rolled-back and equivocating published checkpoints', async () => {
      const s = await setup(engine);
      try {
        const head = await s.log.head();
        const good = signCheckpoint({ origin: ORIGIN, size: 12, root: head.root }, SIGNER);
        const earlier = signCheckpoint({ origin: ORIGIN, size: 5, root: head.root }, SIGNER);
        const mallory = parseSignerKey(generateSignerKey(ORIGIN));
        const report = await s.log.verify({
          published: [
            { source: 'forged', note: signCheckpoint({ origin: ORIGIN, size: 12, root: head.root }, mallory) },
            { source: 'tampered', note: good.replace('\n12\n', '\n11\n') },
            { source: 'other-origin', note: signCheckpoint({ origin: 'other.example/log', size: 12, root: head.root }, SIGNER) },
            { source: 'feed', note: good },
            { source: 'feed', note: earlier },
          ],
        });
        const text = reasons(report);
        expect(text).toMatch(/forged: checkpoint rejected: no signature by key/);
        expect(text).toMatch(/tampered: checkpoint rejected: invalid signature/);
        expect(text).toMatch(/other-origin: checkpoint rejected: wrong origin/);
        expect(text).toMatch(/feed: checkpoint rolled back from size 12 to 5/);
        expect(text).toMatch(/equivocation|tree of size 5 does not match/);
      } finally {
        await s.test.drop();
      }
    });

    it('detects a turn stored without its log entry', async () => {
      const s = await setup(engine);
      try {
        const c = s.conversations[2] as { id: string };
        await s.exec(`INSERT INTO turn (conversation_id, seq, role, kind, text, language) VALUES ('${c.id}', 99, 'agent', 'message', 'slipped in', 'en')`);
        expect(reasons(await s.audit())).toMatch(/#99 is stored without a log entry/);
      } finally {
        await s.test.drop();
      }
    });
  });
});
