import { sql } from 'drizzle-orm';
import { bigserial, boolean, index, integer, jsonb, pgTable, smallint, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const conversation = pgTable(
  'conversation',
  {
    id: uuid('id').primaryKey(),
    channel: text('channel').notNull(),
    externalId: text('external_id').notNull(),
    tokenHash: text('token_hash'),
    language: text('language').notNull(),
    languageChosen: boolean('language_chosen').notNull().default(false),
    state: text('state').notNull().default('bot'),
    priority: text('priority').notNull().default('normal'),
    escalationReason: text('escalation_reason'),
    customerHandle: text('customer_handle'),
    lastSeq: integer('last_seq').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('conversation_channel_external_idx').on(t.channel, t.externalId), index('conversation_state_idx').on(t.state, t.priority, t.updatedAt)],
);

/**
 * Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE. The verifiable log (turn-log.ts)
 * adds a log entry per turn keyed by (conversation_id, seq) without changing this table.
 */
export const turn = pgTable(
  'turn',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversation.id),
    seq: integer('seq').notNull(),
    role: text('role').notNull(),
    kind: text('kind').notNull(),
    text: text('text').notNull(),
    language: text('language').notNull(),
    data: jsonb('data').notNull().default(sql`'{}'::jsonb`),
    answerMode: text('answer_mode'),
    escalationReason: text('escalation_reason'),
    escalationPriority: text('escalation_priority'),
    escalationDetail: text('escalation_detail'),
    externalKey: text('external_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    // The turn's plain metadata (TurnMeta, bound by its log header): what the figures count, kept
    // in plain beside the sealed content so that they survive an erasure. Never customer words.
    rating: smallint('rating'),
    action: text('action'),
    handoff: text('handoff'),
    agentId: text('agent_id'),
    agentName: text('agent_name'),
    /** The knowledge entries the turn cites (the header's cites without versions); null when none. */
    cites: text('cites').array(),
  },
  (t) => [
    uniqueIndex('turn_conversation_seq_idx').on(t.conversationId, t.seq),
    uniqueIndex('turn_external_key_idx').on(t.externalKey),
    // The gap report's signals (escalations, ratings, replies to a clarifying question) by time.
    index('turn_gap_signal_idx').on(t.createdAt).where(sql`${t.kind} IN ('escalation', 'rating', 'clarify', 'choice')`),
    // A rating's agent is who resolved last before it (the stats trigger, drizzle/0018): one probe
    // into this partial index of resolves.
    index('turn_resolved_seq_idx').on(t.conversationId, t.seq).where(sql`${t.kind} = 'handoff' AND ${t.handoff} = 'resolved'`),
  ],
);
