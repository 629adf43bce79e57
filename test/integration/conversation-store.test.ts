import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import type { ConversationStore } from '../../src/core/index.js';
import { createTestDatabase, testEngines } from '../support/databases.js';
import { screened } from '../support/screened.js';

/** Drizzle wraps driver errors; the database's own message is in the cause chain. */
async function expectRefused(action: Promise<unknown>): Promise<void> {
  const error = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  const messages: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) messages.push(String(e.message));
  expect(messages.join(' | ')).toMatch(/append-only/);
}

describe.each(testEngines())('conversation store on %s', (engine) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: ConversationStore;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    store = createPgConversationStore(db.database);
  });
  afterAll(() => db.drop());

  const open = async (externalId: string) => (await store.open({ channel: 'web', externalId, language: 'en', tokenHash: null })).conversation;

  it('keys a conversation by channel and external id', async () => {
    const first = await store.open({ channel: 'telegram', externalId: '42', language: 'zh', tokenHash: null });
    const again = await store.open({ channel: 'telegram', externalId: '42', language: 'en', tokenHash: null });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, conversation: { id: first.conversation.id, language: 'zh' } });
    const web = await store.open({ channel: 'web', externalId: '42', language: 'zh', tokenHash: null });
    expect(web.conversation.id).not.toBe(first.conversation.id);
  });

  it('numbers turns contiguously under concurrent appends', async () => {
    const c = await open('concurrent');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.append(c.id, [{ role: 'customer', kind: 'message', text: screened(`m${i}`), language: 'en' }])),
    );
    const turns = await store.turns(c.id, 0);
    expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await store.find(c.id))?.lastSeq).toBe(20);
  });

  it('applies the conversation patch atomically with the turns', async () => {
    const c = await open('patch');
    const result = await store.append(
      c.id,
      [{ role: 'system', kind: 'escalation', text: 'handed over', language: 'en', escalation: { reason: 'low_confidence', priority: 'normal', detail: 'd' } }],
      { state: 'escalated', escalationReason: 'low_confidence' },
    );
    expect(result.conversation).toMatchObject({ state: 'escalated', escalationReason: 'low_confidence', lastSeq: 1 });
    expect(result.turns[0]?.escalation).toEqual({ reason: 'low_confidence', priority: 'normal', detail: 'd' });
    expect((await store.listByState('escalated')).map((x) => x.id)).toContain(c.id);
  });

  it('treats a repeated external key as a no-op returning the original turns', async () => {
    const c = await open('dedupe');
    await store.append(c.id, [
      { role: 'customer', kind: 'message', text: screened('hello'), language: 'en', externalKey: 'test:update:1' },
      { role: 'bot', kind: 'answer', text: 'hi there', language: 'en' },
    ]);
    const second = await store.append(c.id, [
      { role: 'customer', kind: 'message', text: screened('hello'), language: 'en', externalKey: 'test:update:1' },
      { role: 'bot', kind: 'answer', text: 'hi again', language: 'en' },
    ]);
    expect(second.duplicate).toBe(true);
    expect(second.turns.map((t) => t.text)).toEqual(['hello', 'hi there']);
    expect(await store.turns(c.id, 0)).toHaveLength(2);
    const racing = await Promise.all(
      [1, 2, 3].map(() => store.append(c.id, [{ role: 'customer', kind: 'message', text: screened('x'), language: 'en', externalKey: 'test:update:2' }])),
    );
    expect(racing.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await store.turns(c.id, 0)).toHaveLength(3);
  });

  it('refuses to update, delete or truncate a turn in the database itself', async () => {
    const c = await open('immutable');
    await store.append(c.id, [{ role: 'customer', kind: 'message', text: screened('evidence'), language: 'en' }]);
    const db2 = db.database.db;
    await expectRefused(db2.execute(sql`UPDATE turn SET text = 'changed' WHERE conversation_id = ${c.id}`));
    await expectRefused(db2.execute(sql`DELETE FROM turn WHERE conversation_id = ${c.id}`));
    await expectRefused(db2.execute(sql`TRUNCATE turn CASCADE`));
    expect((await store.turns(c.id, 0))[0]?.text).toBe('evidence');
  });

  it('keeps the triggers active under session_replication_role = replica', async () => {
    const c = await open('replica');
    await store.append(c.id, [{ role: 'customer', kind: 'message', text: screened('evidence'), language: 'en' }]);
    await expectRefused(
      db.database.db.transaction(async (tx) => {
        await tx.execute(sql`SET LOCAL session_replication_role = replica`);
        await tx.execute(sql`DELETE FROM turn WHERE conversation_id = ${c.id}`);
      }),
    );
  });
});
