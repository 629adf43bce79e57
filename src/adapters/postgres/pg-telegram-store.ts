import { and, asc, eq, sql } from 'drizzle-orm';
import { type ChannelOutbox, type ClaimedMessage, type InboundUpdate, toStorableJson, type UpdateInbox } from '../../core/index.js';
import { type Db, queryRows } from './database.js';
import { createGroupCommit } from './group-commit.js';
import { channelOutbox, channelUpdate } from './schema-telegram.js';

/** The durable inbox of channel updates in PostgreSQL (or PGlite). */
export function createPgUpdateInbox(db: Db): UpdateInbox {
  // Updates arriving together (the webhook under load) are stored by one INSERT: each caller is
  // answered after the statement holding its update committed.
  const recordAll = createGroupCommit(async (updates: Array<Omit<InboundUpdate, 'attempts'>>): Promise<boolean[]> => {
    const rows = updates.map(
      (u) =>
        // jsonb refuses U+0000 and lone surrogates: a stranger's update must still be stored once
        // (else the webhook answers 500 and Telegram redelivers it forever).
        sql`(${u.source}::text, ${u.updateId}::bigint, ${u.chatId}::text, ${u.messageId}::bigint, ${JSON.stringify(toStorableJson(u.payload))}::jsonb)`,
    );
    const inserted = await queryRows<{ source: string; update_id: string | number }>(
      db,
      sql`INSERT INTO channel_update (source, update_id, chat_id, message_id, payload) VALUES ${sql.join(rows, sql`, `)}
          ON CONFLICT DO NOTHING RETURNING source, update_id`,
    );
    const stored = new Set(inserted.map((r) => `${r.source}\u0000${Number(r.update_id)}`));
    // The same update twice in one statement is stored once: only its first caller stored it.
    return updates.map((u) => stored.delete(`${u.source}\u0000${u.updateId}`));
  });
  return {
    record: (update) => recordAll(update),
    async pending(source, limit) {
      const rows = await db
        .select()
        .from(channelUpdate)
        .where(and(eq(channelUpdate.source, source), eq(channelUpdate.status, 'pending')))
        .orderBy(asc(channelUpdate.updateId))
        .limit(limit);
      return rows.map(
        (r): InboundUpdate => ({
          source: r.source,
          updateId: Number(r.updateId),
          chatId: r.chatId,
          messageId: r.messageId === null ? null : Number(r.messageId),
          payload: r.payload,
          attempts: r.attempts,
        }),
      );
    },
    async settle(source, updateId, status, error) {
      const where = and(eq(channelUpdate.source, source), eq(channelUpdate.updateId, updateId));
      if (status === 'retry') {
        await db
          .update(channelUpdate)
          .set({ attempts: sql`${channelUpdate.attempts} + 1`, lastError: error ?? null })
          .where(where);
        return;
      }
      await db
        .update(channelUpdate)
        .set({
          status,
          settledAt: new Date(),
          ...(error !== undefined ? { lastError: error, attempts: sql`${channelUpdate.attempts} + 1` } : {}),
        })
        .where(where);
    },
    async settleWithReplies(source, updateId, replies, error) {
      const settled = sql`UPDATE channel_update
          SET status = 'done', settled_at = ${new Date().toISOString()}::timestamptz${
            error !== undefined ? sql`, last_error = ${error}, attempts = attempts + 1` : sql``
          }
          WHERE source = ${source} AND update_id = ${updateId}`;
      if (replies.length === 0) {
        await db.execute(settled);
        return;
      }
      // One statement: the replies are stored (in order, ids ascending) exactly when the update is
      // marked handled, so a crash leaves either both or neither.
      const rows = sql.join(
        replies.map((m) => sql`(${m.channel}, ${m.chatId}, ${m.dedupeKey}, ${m.method}, ${JSON.stringify(m.payload)}::jsonb)`),
        sql`, `,
      );
      await db.execute(sql`WITH stored AS (
          INSERT INTO channel_outbox (channel, chat_id, dedupe_key, method, payload) VALUES ${rows}
          ON CONFLICT (dedupe_key) DO NOTHING)
        ${settled}`);
    },
    async findByMessage(source, chatId, messageId) {
      const [row] = await db
        .select({ updateId: channelUpdate.updateId })
        .from(channelUpdate)
        .where(and(eq(channelUpdate.source, source), eq(channelUpdate.chatId, chatId), eq(channelUpdate.messageId, messageId)))
        .orderBy(asc(channelUpdate.updateId))
        .limit(1);
      return row ? Number(row.updateId) : undefined;
    },
  };
}

interface ClaimedRow {
  id: string | number;
  channel: string;
  chat_id: string;
  dedupe_key: string;
  method: string;
  payload: Record<string, unknown> | string;
  attempts: number;
}

/** The durable outbox in PostgreSQL (or PGlite). */
export function createPgChannelOutbox(db: Db): ChannelOutbox {
  // Sends finishing together are marked sent by one UPDATE (each caller answered after it).
  const markSentAll = createGroupCommit(async (sent: Array<{ id: number; result: unknown; at: Date }>): Promise<void[]> => {
    const rows = sent.map((m) => sql`(${m.id}::bigint, ${m.at.toISOString()}::timestamptz, ${m.result === null ? null : JSON.stringify(m.result)}::jsonb)`);
    await db.execute(sql`UPDATE channel_outbox AS o SET status = 'sent', sent_at = v.sent_at, locked_until = NULL, result = v.result
        FROM (VALUES ${sql.join(rows, sql`, `)}) AS v(id, sent_at, result)
        WHERE o.id = v.id`);
    return sent.map(() => undefined);
  });
  return {
    async enqueue(messages) {
      if (messages.length === 0) return;
      await db
        .insert(channelOutbox)
        .values(messages.map((m) => ({ channel: m.channel, chatId: m.chatId, dedupeKey: m.dedupeKey, method: m.method, payload: m.payload })))
        .onConflictDoNothing({ target: channelOutbox.dedupeKey });
    },
    async claim(channel, limit, leaseMs) {
      // Only the head of each chat's queue is a candidate: a later message never overtakes an
      // earlier one that is waiting for a retry. Under concurrency the UPDATE re-checks the lease
      // of a row another instance just claimed, so a message is leased to one sender at a time.
      const rows = await queryRows<ClaimedRow>(
        db,
        sql`UPDATE channel_outbox SET locked_until = now() + ${leaseMs} * interval '1 millisecond'
            WHERE id IN (
              SELECT h.id FROM (
                SELECT DISTINCT ON (chat_id) id, next_attempt_at, locked_until
                FROM channel_outbox WHERE channel = ${channel} AND status = 'pending'
                ORDER BY chat_id, id
              ) h
              WHERE h.next_attempt_at <= now() AND (h.locked_until IS NULL OR h.locked_until < now())
              ORDER BY h.id LIMIT ${limit}
            )
            AND status = 'pending' AND (locked_until IS NULL OR locked_until < now())
            RETURNING id, channel, chat_id, dedupe_key, method, payload, attempts`,
      );
      return rows
        .map(
          (r): ClaimedMessage => ({
            id: Number(r.id),
            channel: r.channel,
            chatId: r.chat_id,
            dedupeKey: r.dedupe_key,
            method: r.method,
            payload: typeof r.payload === 'string' ? (JSON.parse(r.payload) as Record<string, unknown>) : r.payload,
            attempts: r.attempts,
          }),
        )
        .sort((a, b) => a.id - b.id);
    },
    markSent: (id, result) => markSentAll({ id, result: result ?? null, at: new Date() }),
    async retryLater(id, delayMs, error) {
      await db
        .update(channelOutbox)
        .set({
          attempts: sql`${channelOutbox.attempts} + 1`,
          lastError: error,
          lockedUntil: null,
          nextAttemptAt: sql`now() + ${Math.max(0, Math.round(delayMs))} * interval '1 millisecond'`,
        })
        .where(eq(channelOutbox.id, id));
    },
    async markFailed(id, error) {
      await db
        .update(channelOutbox)
        .set({ status: 'failed', attempts: sql`${channelOutbox.attempts} + 1`, lastError: error, lockedUntil: null })
        .where(eq(channelOutbox.id, id));
    },
    async nextDueInMs(channel) {
      const [row] = await queryRows<{ ms: string | number | null }>(
        db,
        sql`SELECT EXTRACT(EPOCH FROM (min(greatest(next_attempt_at, coalesce(locked_until, next_attempt_at))) - now())) * 1000 AS ms
            FROM channel_outbox WHERE channel = ${channel} AND status = 'pending'`,
      );
      if (!row || row.ms === null) return undefined;
      return Math.max(0, Number(row.ms));
    },
  };
}
