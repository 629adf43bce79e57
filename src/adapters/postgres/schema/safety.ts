import { bigserial, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Security events: secrets removed (by kind, never the value), access denials, rate limiting,
 * truncation, blocked outbound messages, rejected knowledge entries. Append-only (migration 0005).
 */
export const securityEvent = pgTable(
  'security_event',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    type: text('type').notNull(),
    channel: text('channel'),
    conversationId: uuid('conversation_id'),
    detail: jsonb('detail').notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('security_event_type_idx').on(t.type, t.id), index('security_event_conversation_idx').on(t.conversationId)],
);
