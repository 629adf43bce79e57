import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgChannelOutbox, createPgUpdateInbox } from '../../src/adapters/postgres/stores/pg-telegram-store.js';
import { queryRows } from '../../src/adapters/postgres/db/database.js';
import type { ChannelOutbox } from '../../src/core/index.js';
import { sql } from 'drizzle-orm';
import { createTestDatabase, testEngines } from '../support/databases.js';

describe.each(testEngines())('channel outbox on %s', (engine) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let outbox: ChannelOutbox;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    outbox = createPgChannelOutbox(db.database);
  });
  afterAll(() => db.drop());

  const message = (chatId: string, n: number) => ({
    channel: 'telegram',
    chatId,
    dedupeKey: `${chatId}:${n}`,
    method: 'sendMessage',
    payload: { chat_id: chatId, text: `message ${n}` },
  });

  it('claims one message per chat, oldest first, and the next one only once the previous was marked sent', async () => {
    await outbox.enqueue([message('a', 1), message('a', 2), message('b', 1)]);
    const first = await outbox.claim('telegram', 10, 60_000);
    expect(first.map((m) => m.dedupeKey)).toEqual(['a:1', 'b:1']);
    // Leased and not marked: nothing new for chat a.
    expect(await outbox.claim('telegram', 10, 60_000)).toEqual([]);

    // Marking a:1 sent and claiming happen in one statement: a:2 is claimed at once.
    const sentA = first.find((m) => m.dedupeKey === 'a:1');
    const next = await outbox.claim('telegram', 10, 60_000, [{ id: sentA!.id, result: { message_id: 41 }, at: new Date() }]);
    expect(next.map((m) => m.dedupeKey)).toEqual(['a:2']);
    const rows = await queryRows<{ dedupe_key: string; status: string; result: unknown }>(
      db.database.db,
      sql`SELECT dedupe_key, status, result FROM channel_outbox ORDER BY id`,
    );
    expect(rows.map((r) => [r.dedupe_key, r.status])).toEqual([
      ['a:1', 'sent'],
      ['a:2', 'pending'],
      ['b:1', 'pending'],
    ]);
    expect(rows[0]?.result).toEqual({ message_id: 41 });

    // A claim of none only marks (what the sender does when it stops).
    const sentB = first.find((m) => m.dedupeKey === 'b:1');
    expect(await outbox.claim('telegram', 0, 60_000, [{ id: sentB!.id, result: null, at: new Date() }])).toEqual([]);
    const b = await queryRows<{ status: string }>(db.database.db, sql`SELECT status FROM channel_outbox WHERE dedupe_key = 'b:1'`);
    expect(b[0]?.status).toBe('sent');
  });

  it("says when a chat's earlier update is stored and not handled, and lists those, oldest first, with how long they waited", async () => {
    const inbox = createPgUpdateInbox(db.database);
    const update = (updateId: number, chatId: string) => ({ source: 'telegram:2', updateId, chatId, messageId: updateId, payload: { update_id: updateId } });
    expect(await inbox.record(update(601, 'f'))).toBe('stored');
    expect(await inbox.record(update(602, 'g'))).toBe('stored');
    expect(await inbox.record(update(603, 'f'))).toBe('queued');
    expect(await inbox.record(update(604, 'f'))).toBe('queued');
    expect(await inbox.record(update(603, 'f'))).toBe('duplicate');
    const waiting = await inbox.earlierPending('telegram:2', 'f', 604);
    expect(waiting.map((u) => u.updateId)).toEqual([601, 603]);
    expect(waiting[0]?.payload).toEqual({ update_id: 601 });
    expect(waiting[0]?.waitedMs).toBeGreaterThanOrEqual(0);
    await inbox.settle('telegram:2', 601, 'done');
    await inbox.settle('telegram:2', 603, 'failed', 'gave up');
    expect(await inbox.earlierPending('telegram:2', 'f', 604)).toEqual([]);
    expect(await inbox.record(update(605, 'f'))).toBe('queued');
    await inbox.settle('telegram:2', 604, 'done');
    expect(await inbox.record(update(606, 'f'))).toBe('queued');
    await inbox.settle('telegram:2', 605, 'retry', 'once');
    expect((await inbox.earlierPending('telegram:2', 'f', 606)).map((u) => [u.updateId, u.attempts])).toEqual([[605, 1]]);
  });

  it("stores a handled update's replies with the head of each idle chat already leased, and returns those for sending", async () => {
    const inbox = createPgUpdateInbox(db.database);
    // Chat c still has a message waiting: nothing of c may overtake it.
    await outbox.enqueue([message('c', 1)]);
    for (const [updateId, chatId] of [
      [501, 'd'],
      [502, 'c'],
    ] as const) {
      await inbox.record({ source: 'telegram:1', updateId, chatId, messageId: 1, payload: { update_id: updateId } });
    }
    const leased = await inbox.settleWithReplies?.('telegram:1', 501, [message('d', 1), message('d', 2)], undefined, 60_000);
    expect(leased?.map((m) => m.dedupeKey)).toEqual(['d:1']);
    expect(await inbox.settleWithReplies?.('telegram:1', 502, [message('c', 2)], undefined, 60_000)).toEqual([]);
    // Without a lease (a stopped sender) nothing is leased.
    await inbox.record({ source: 'telegram:1', updateId: 503, chatId: 'e', messageId: 1, payload: { update_id: 503 } });
    expect(await inbox.settleWithReplies?.('telegram:1', 503, [message('e', 1)], undefined, 0)).toEqual([]);
    // A claim now passes over d (its head is leased) and takes c's and e's heads.
    const claimed = await outbox.claim('telegram', 10, 60_000);
    expect(claimed.map((m) => m.dedupeKey).sort()).toEqual(['c:1', 'e:1']);
    // Once d:1 is marked sent, d:2 is next.
    const next = await outbox.claim('telegram', 10, 60_000, [{ id: leased?.[0]?.id ?? 0, result: null, at: new Date() }]);
    expect(next.map((m) => m.dedupeKey)).toEqual(['d:2']);
    const updates = await queryRows<{ status: string }>(db.database.db, sql`SELECT status FROM channel_update WHERE update_id IN (501, 502, 503)`);
    expect(updates.map((u) => u.status)).toEqual(['done', 'done', 'done']);
  });
});
