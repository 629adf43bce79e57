import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../src/adapters/postgres/db/database.js';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import { createPgTurnLog } from '../../src/adapters/postgres/turn-log/pg-turn-log.js';
import { generateSignerKey, parseSignerKey, verifyTranscript } from '../../src/core/index.js';
import { createTestDatabase, type Engine, testEngines } from '../support/databases.js';
import { screened } from '../support/screened.js';

const ORIGIN = 'test.example/erasure';
const SIGNER = parseSignerKey(generateSignerKey(ORIGIN));

async function setup(engine: Engine) {
  const test = await createTestDatabase(engine);
  const db = test.database.db;
  const store = createPgConversationStore(test.database);
  const log = createPgTurnLog({ database: test.database, origin: ORIGIN, signer: SIGNER });
  const open = async (externalId: string) => {
    const c = (await store.open({ channel: 'telegram', externalId, language: 'zh', tokenHash: null, customerHandle: screened('@alice') })).conversation;
    await store.append(c.id, [
      { role: 'customer', kind: 'message', text: screened(`我是${externalId}, 我的地址是 0xdeadbeef`), language: 'zh' },
      {
        role: 'system',
        kind: 'escalation',
        text: '转人工',
        language: 'zh',
        escalation: { reason: 'sensitive_topic', priority: 'urgent', detail: 'account takeover' },
      },
      { role: 'agent', kind: 'message', text: 'We are on it', language: 'en' },
    ]);
    return c;
  };
  const client = (db as unknown as { $client: { exec?: (q: string) => Promise<unknown>; query: (q: string) => Promise<unknown> } }).$client;
  const exec = (query: string) => (client.exec ? client.exec(query) : client.query(query));
  const rows = <T>(query: string) => queryRows<T>(db, sql.raw(query));
  return { test, db, store, log, open, exec, rows };
}

describe.each(testEngines())('erasure on %s', (engine) => {
  it("crypto-shreds one customer's content; the audit still passes and reports the erased turns; their earlier transcript still verifies", async () => {
    const s = await setup(engine);
    try {
      const alice = await s.open('alice');
      const bob = await s.open('bob');
      const before = await s.log.transcript(alice.id);
      const result = await s.log.erase(alice.id);
      expect(result).toMatchObject({ status: 'erased', turnsErased: 3 });
      const erasure = await s.log.entry(result.entryIdx);
      expect(erasure?.parsed).toMatchObject({ kind: 'erasure', conv: alice.id, through: 3, reason: 'customer_request' });

      const turns = await s.store.turns(alice.id, 0);
      expect(turns.map((x) => x.text)).toEqual(['', '', '']);
      expect(turns.map((x) => x.data)).toEqual([1, 2, 3].map(() => ({ erasedBy: result.entryIdx })));
      expect(turns[1]?.escalation).toEqual({ reason: 'sensitive_topic', priority: 'urgent', detail: '' });
      const [left] = await s.rows<{ keys: number; contents: number; handle: string | null }>(
        `SELECT (SELECT count(*)::int FROM conversation_key WHERE conversation_id = '${alice.id}') AS keys,
                (SELECT count(*)::int FROM turn_content WHERE conversation_id = '${alice.id}') AS contents,
                (SELECT customer_handle FROM conversation WHERE id = '${alice.id}') AS handle`,
      );
      expect(left).toEqual({ keys: 0, contents: 0, handle: null });
      expect((await s.store.turns(bob.id, 0))[0]?.text).toBe('我是bob, 我的地址是 0xdeadbeef');

      await s.log.checkpointNow();
      const report = await s.log.verify();
      expect(report.violations).toEqual([]);
      expect(report).toMatchObject({ ok: true, erasedTurns: 3 });

      const earlier = await verifyTranscript(before, { key: SIGNER.verifierKey });
      expect(earlier.ok).toBe(true);
      expect(earlier.turns[0]?.text).toBe('我是alice, 我的地址是 0xdeadbeef');
      const after = await verifyTranscript(await s.log.transcript(alice.id), { key: SIGNER.verifierKey });
      expect(after.problems).toEqual([]);
      expect(after.turns.map((x) => x.status)).toEqual(['erased', 'erased', 'erased']);
      expect(after.turns.map((x) => x.erasure?.idx)).toEqual([result.entryIdx, result.entryIdx, result.entryIdx]);

      // The conversation goes on with a fresh key; new turns are kept and verified.
      await s.store.append(alice.id, [{ role: 'customer', kind: 'message', text: screened('hello again'), language: 'en' }]);
      expect((await s.log.verify()).ok).toBe(true);
      expect((await verifyTranscript(await s.log.transcript(alice.id), { key: SIGNER.verifierKey })).turns.at(-1)).toMatchObject({
        status: 'verified',
        text: screened('hello again'),
      });
    } finally {
      await s.test.drop();
    }
  });

  it('defers erasure under a legal hold and logs why; erases once the hold is released', async () => {
    const s = await setup(engine);
    try {
      const carol = await s.open('carol');
      const holdIdx = await s.log.placeLegalHold(carol.id, 'open dispute #42 (deposit not credited)');
      const deferred = await s.log.erase(carol.id);
      expect(deferred).toMatchObject({ status: 'deferred', reason: 'legal_hold' });
      expect((await s.log.entry(holdIdx))?.parsed).toMatchObject({ kind: 'legal_hold', on: true });
      expect((await s.log.entry(deferred.entryIdx))?.parsed).toMatchObject({ kind: 'erasure_deferred', reason: 'legal_hold' });
      // The reason text may name people: it stays in the deletable table, not in the public header.
      expect(JSON.stringify((await s.log.entry(holdIdx))?.parsed)).not.toContain('dispute');
      expect((await s.store.turns(carol.id, 0))[0]?.text).toContain('carol');
      await s.log.releaseLegalHold(carol.id);
      expect(await s.log.erase(carol.id)).toMatchObject({ status: 'erased', turnsErased: 3 });
      expect((await s.log.verify()).ok).toBe(true);
    } finally {
      await s.test.drop();
    }
  });

  it('refuses to redact turns outside the transaction of a logged erasure of that conversation', async () => {
    const s = await setup(engine);
    try {
      const dave = await s.open('dave');
      const erin = await s.open('erin');
      const { entryIdx } = await s.log.erase(erin.id);
      const attempts = [
        `UPDATE turn SET text = '', escalation_detail = NULL WHERE conversation_id = '${dave.id}'`,
        // A turn entry is not an erasure.
        `BEGIN; SELECT set_config('helpdesk.erasure', '0', true); UPDATE turn SET text = '', escalation_detail = NULL WHERE conversation_id = '${dave.id}'; COMMIT`,
        // Erin's erasure does not cover Dave.
        `BEGIN; SELECT set_config('helpdesk.erasure', '${entryIdx}', true); UPDATE turn SET text = '', escalation_detail = NULL WHERE conversation_id = '${dave.id}'; COMMIT`,
        // Even with a matching erasure only the content may go, not the role or the time.
        `BEGIN; SELECT set_config('helpdesk.erasure', '${entryIdx}', true); UPDATE turn SET text = '', escalation_detail = NULL, role = 'bot' WHERE conversation_id = '${erin.id}'; COMMIT`,
      ];
      for (const attempt of attempts) {
        const error = await s.exec(attempt).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(String((error as Error | undefined)?.message), attempt).toMatch(/append-only/);
        await s.exec('ROLLBACK').catch(() => undefined);
      }
      expect((await s.store.turns(dave.id, 0))[0]?.text).toContain('dave');
    } finally {
      await s.test.drop();
    }
  });

  it('reports content shredded without a logged erasure as a violation', async () => {
    const s = await setup(engine);
    try {
      const frank = await s.open('frank');
      await s.exec(
        `DELETE FROM turn_content WHERE conversation_id = '${frank.id}'; DELETE FROM conversation_key WHERE conversation_id = '${frank.id}';
         ALTER TABLE turn DISABLE TRIGGER USER; UPDATE turn SET text = '' WHERE conversation_id = '${frank.id}';
         ALTER TABLE turn ENABLE ALWAYS TRIGGER turn_no_update_delete; ALTER TABLE turn ENABLE ALWAYS TRIGGER turn_no_truncate`,
      );
      const report = await s.log.verify();
      expect(report.ok).toBe(false);
      expect(report.firstFailingIndex).toBe(0);
      expect(report.violations.map((v) => v.reason).join('\n')).toMatch(/content missing without a logged erasure/);
    } finally {
      await s.test.drop();
    }
  });
});
