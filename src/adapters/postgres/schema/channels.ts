import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Channel updates (Telegram): the primary key makes a redelivery a no-op. `payload` is what the
 * channel kept of the update (ids and the customer's content through the firewall), until the
 * update is settled: then it is purged and only the ids stay.
 */
export const channelUpdate = pgTable(
  'channel_update',
  {
    source: text('source').notNull(),
    updateId: bigint('update_id', { mode: 'number' }).notNull(),
    chatId: text('chat_id').notNull(),
    messageId: bigint('message_id', { mode: 'number' }),
    payload: jsonb('payload'),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    settledAt: timestamp('settled_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: 'channel_update_pk', columns: [t.source, t.updateId] }),
    index('channel_update_pending_idx').on(t.source, t.updateId).where(sql`${t.status} = 'pending'`),
    // A chat's updates not handled yet: an update waits for them (another instance may hold them).
    index('channel_update_chat_pending_idx').on(t.source, t.chatId, t.updateId).where(sql`${t.status} = 'pending'`),
    index('channel_update_message_idx').on(t.source, t.chatId, t.messageId),
  ],
);

/** Replies stored before they are sent; sent in order per chat, retried, never sent twice by design. */
export const channelOutbox = pgTable(
  'channel_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    channel: text('channel').notNull(),
    chatId: text('chat_id').notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    method: text('method').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    result: jsonb('result'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('channel_outbox_dedupe_idx').on(t.dedupeKey),
    index('channel_outbox_pending_idx').on(t.channel, t.chatId, t.id).where(sql`${t.status} = 'pending'`),
  ],
);
