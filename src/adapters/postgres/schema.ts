import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * A pgvector column without a fixed dimension: the offline and the model embedders differ in size,
 * and each row records which embedder made it.
 */
const vector = customType<{ data: number[]; driverData: string }>({
  dataType: () => 'vector',
  toDriver: (value) => `[${value.join(',')}]`,
  fromDriver: (value) => JSON.parse(value) as number[],
});

export const kbEntry = pgTable('kb_entry', {
  id: text('id').primaryKey(),
  topic: text('topic').notNull(),
  lang: text('lang').notNull(),
  title: text('title').notNull(),
  body: text('body').notNull(),
  questions: jsonb('questions').$type<string[]>().notNull(),
  tags: jsonb('tags').$type<string[]>().notNull(),
  links: jsonb('links').$type<Array<{ title: string; url: string }>>().notNull(),
  translation: text('translation'),
  source: text('source').notNull(),
  contentHash: text('content_hash').notNull(),
  embedder: text('embedder').notNull(),
  /** Term count of the entry's title and questions: its length as a document for BM25 over entries. */
  questionTerms: integer('question_terms').notNull().default(0),
  version: integer('version').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('kb_entry_topic_idx').on(t.topic)]);

/** Version history of every entry: what the bot cited under a version stays readable. */
export const kbEntryVersion = pgTable('kb_entry_version', {
  id: text('id').notNull(),
  version: integer('version').notNull(),
  contentHash: text('content_hash').notNull(),
  title: text('title').notNull(),
  body: text('body').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.id, t.version] })]);

export const kbChunk = pgTable('kb_chunk', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  entryId: text('entry_id').notNull().references(() => kbEntry.id, { onDelete: 'cascade' }),
  /** The entry's topic and version, written with the chunk (a sync rewrites an entry's chunks): searches need no join. */
  topic: text('topic').notNull(),
  version: integer('version').notNull(),
  kind: text('kind').notNull(),
  text: text('text').notNull(),
  termCount: integer('term_count').notNull(),
  embedder: text('embedder').notNull(),
  embedding: vector('embedding').notNull(),
}, (t) => [index('kb_chunk_entry_idx').on(t.entryId)]);

/** Term frequencies per chunk: BM25 computed in SQL, on terms segmented in the app (Chinese too). */
export const kbTerm = pgTable('kb_term', {
  chunkId: bigint('chunk_id', { mode: 'number' }).notNull().references(() => kbChunk.id, { onDelete: 'cascade' }),
  term: text('term').notNull(),
  tf: integer('tf').notNull(),
}, (t) => [primaryKey({ columns: [t.term, t.chunkId] }), index('kb_term_chunk_idx').on(t.chunkId)]);

export const conversation = pgTable('conversation', {
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
}, (t) => [
  uniqueIndex('conversation_channel_external_idx').on(t.channel, t.externalId),
  index('conversation_state_idx').on(t.state, t.priority, t.updatedAt),
]);

/**
 * Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE. The verifiable log (its own issue)
 * adds a log entry per turn keyed by (conversation_id, seq) without changing this table.
 */
export const turn = pgTable('turn', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  conversationId: uuid('conversation_id').notNull().references(() => conversation.id),
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
}, (t) => [
  uniqueIndex('turn_conversation_seq_idx').on(t.conversationId, t.seq),
  uniqueIndex('turn_external_key_idx').on(t.externalKey),
]);
