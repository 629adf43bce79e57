import { sql } from 'drizzle-orm';
import { bigserial, boolean, check, foreignKey, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { conversation } from './conversations.js';

/** Handoff of a conversation to humans and its mirror in the agents' Slack thread (drizzle/0006_slack.sql, 0008_slack_inflight.sql). */
export const handoff = pgTable(
  'handoff',
  {
    conversationId: uuid('conversation_id').primaryKey(),
    open: boolean('open').notNull().default(true),
    openedSeq: integer('opened_seq').notNull(),
    escalatedAt: timestamp('escalated_at', { withTimezone: true }).notNull().defaultNow(),
    claimedBy: text('claimed_by'),
    claimedName: text('claimed_name'),
    claimedAt: timestamp('claimed_at', { withTimezone: true }),
    remindedAt: timestamp('reminded_at', { withTimezone: true }),
    deliveredSeq: integer('delivered_seq').notNull(),
    deskChannel: text('desk_channel'),
    deskThread: text('desk_thread'),
    relayedSeq: integer('relayed_seq').notNull(),
    rootDirty: boolean('root_dirty').notNull().default(false),
    mirrorInflight: text('mirror_inflight'),
    leaseOwner: text('lease_owner'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Named as PostgreSQL named it (drizzle/0006 declared it inline).
    foreignKey({ name: 'handoff_conversation_id_fkey', columns: [t.conversationId], foreignColumns: [conversation.id] }),
    uniqueIndex('handoff_desk_thread_idx').on(t.deskChannel, t.deskThread),
    index('handoff_open_idx').on(t.open, t.escalatedAt),
    // The inbox's search looks through the latest closed handoffs beside the open ones.
    index('handoff_closed_idx').on(t.updatedAt).where(sql`NOT ${t.open}`),
  ],
);

/**
 * The support team's saved replies for the agents' inbox: a title and a body per language, kept by
 * leads and admins, used by every agent. Not customer content: stored in clear. `version` is bumped
 * by every change (an edit names the version it started from).
 */
export const savedReply = pgTable(
  'saved_reply',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    language: text('language').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    version: integer('version').notNull().default(1),
    createdBy: text('created_by').notNull(),
    updatedBy: text('updated_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('saved_reply_title_idx').on(t.language, t.title), check('saved_reply_language_check', sql`${t.language} IN ('zh', 'en')`)],
);
