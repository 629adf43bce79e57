import { foreignKey, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { bytea } from './columns.js';
import { conversation } from './conversations.js';

/**
 * Files customers uploaded (web screenshots): the bytes and the name they gave, AES-256-GCM under
 * their conversation's content key, so that an erasure (the key deleted, the rows with it) leaves
 * nothing readable. The media type is the one read from the bytes, never the customer's word.
 */
export const customerFile = pgTable(
  'customer_file',
  {
    id: uuid('id').primaryKey(),
    conversationId: uuid('conversation_id').notNull(),
    mediaType: text('media_type').notNull(),
    size: integer('size').notNull(),
    /** The file name as screened, sealed; null when the customer gave none. */
    sealedName: bytea('sealed_name'),
    sealed: bytea('sealed').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({ name: 'customer_file_conversation_id_fkey', columns: [t.conversationId], foreignColumns: [conversation.id] }),
    index('customer_file_conversation_idx').on(t.conversationId),
  ],
);
