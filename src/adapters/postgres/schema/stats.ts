import { date, index, integer, pgTable, primaryKey, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Roll-ups of the turn table for the dashboard's figures, kept by the trigger turn_stats_rollup
 * (drizzle/0018_stats_indexes.sql, made cheaper in drizzle/0021_stats_in_sql.sql) in the same transaction as each turn: exact at every moment,
 * rebuilt from `turn` alone (the migration does so). Never written by the application.
 */

/**
 * One row per conversation, UTC day and language with a customer turn in that language that day
 * (the conversations per day, channel and language).
 */
export const statsActivity = pgTable(
  'stats_activity',
  {
    conversationId: uuid('conversation_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    language: text('language').notNull(),
    channel: text('channel').notNull(),
  },
  (t) => [
    primaryKey({ name: 'stats_activity_pkey', columns: [t.conversationId, t.day, t.language] }),
    index('stats_activity_day_idx').on(t.day, t.channel, t.language),
  ],
);

/**
 * One row per conversation and UTC day with a customer, agent or escalation turn, linked to the
 * conversation's next such day and carrying, for each kind of turn the totals depend on, the
 * latest day up to this one that had one. A range's totals read one row per conversation, the
 * last of its days in the range (`next_day` null or past the range): it had a customer turn in
 * the range when `customer_day` is in it, an agent turn when `human_day` is, and so on. No
 * grouping by conversation, so the cost is one filtered scan of the range's days.
 */
export const statsConversationDay = pgTable(
  'stats_conversation_day',
  {
    conversationId: uuid('conversation_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    channel: text('channel').notNull(),
    /** The conversation's next day with a row (null while this is its last). */
    nextDay: date('next_day', { mode: 'string' }),
    /** The latest day up to this one with a customer turn. */
    customerDay: date('customer_day', { mode: 'string' }),
    /** … with a customer "solved" action. */
    solvedDay: date('solved_day', { mode: 'string' }),
    /** … with an agent turn (reply, note, claim, resolve …). */
    humanDay: date('human_day', { mode: 'string' }),
    /** … with an escalation. */
    escalatedDay: date('escalated_day', { mode: 'string' }),
  },
  (t) => [primaryKey({ name: 'stats_conversation_day_pkey', columns: [t.conversationId, t.day] }), index('stats_conversation_day_day_idx').on(t.day)],
);

/**
 * One row per escalation turn, with the first agent message and the first resolve after it and
 * before the conversation's next escalation (null until they happen).
 */
export const statsHandoff = pgTable(
  'stats_handoff',
  {
    conversationId: uuid('conversation_id').notNull(),
    seq: integer('seq').notNull(),
    escalatedAt: timestamp('escalated_at', { withTimezone: true }).notNull(),
    channel: text('channel').notNull(),
    reason: text('reason'),
    priority: text('priority'),
    replyAt: timestamp('reply_at', { withTimezone: true }),
    replyAgent: text('reply_agent'),
    replyAgentName: text('reply_agent_name'),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    resolvedAgent: text('resolved_agent'),
    resolvedAgentName: text('resolved_agent_name'),
  },
  (t) => [primaryKey({ name: 'stats_handoff_pkey', columns: [t.conversationId, t.seq] }), index('stats_handoff_escalated_idx').on(t.escalatedAt)],
);

/** One row per rating turn, with the agent whose resolve was the last before it. */
export const statsRating = pgTable(
  'stats_rating',
  {
    conversationId: uuid('conversation_id').notNull(),
    seq: integer('seq').notNull(),
    ratedAt: timestamp('rated_at', { withTimezone: true }).notNull(),
    channel: text('channel').notNull(),
    rating: smallint('rating').notNull(),
    agentId: text('agent_id'),
    agentName: text('agent_name'),
  },
  (t) => [primaryKey({ name: 'stats_rating_pkey', columns: [t.conversationId, t.seq] }), index('stats_rating_rated_idx').on(t.ratedAt)],
);

/**
 * Per UTC day, channel and knowledge entry: the bot answers that cited it. A counter shared by the
 * conversations of a day: the trigger runs in the turn's append, which holds the log head's row lock
 * (every append takes it first), so appends never wait for each other on these rows beyond that.
 */
export const statsCitationDay = pgTable(
  'stats_citation_day',
  {
    day: date('day', { mode: 'string' }).notNull(),
    channel: text('channel').notNull(),
    entryId: text('entry_id').notNull(),
    answers: integer('answers').notNull(),
  },
  (t) => [primaryKey({ name: 'stats_citation_day_pkey', columns: [t.day, t.channel, t.entryId] })],
);
