import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, index, integer, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { bytea } from './columns.js';
import { conversation } from './conversations.js';

// Tables made by hand-written SQL (drizzle/0003) keep PostgreSQL's own constraint names.

/** The Merkle log's head: size, root and right-edge frontier. One row, locked by every append. */
export const logHead = pgTable(
  'log_head',
  {
    id: smallint('id').primaryKey(),
    size: bigint('size', { mode: 'number' }).notNull(),
    root: bytea('root').notNull(),
    frontier: bytea('frontier').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  () => [check('log_head_id_check', sql`id = 1`)],
);

/** One leaf of the log: the exact header bytes hashed, and their leaf hash. Append-only. */
export const logEntry = pgTable(
  'log_entry',
  {
    idx: bigint('idx', { mode: 'number' }).primaryKey(),
    leafHash: bytea('leaf_hash').notNull(),
    header: bytea('header').notNull(),
    kind: text('kind').notNull(),
    conversationId: uuid('conversation_id').notNull(),
    seq: integer('seq'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One entry per turn: a retried append finds the entry it made.
    uniqueIndex('log_entry_turn_idx').on(t.conversationId, t.seq).where(sql`kind = 'turn'`),
    index('log_entry_conversation_idx').on(t.conversationId, t.idx),
  ],
);

/** Hashes of complete subtrees at every 4th level: proofs read O(log n) rows, never all leaves. */
export const logNode = pgTable(
  'log_node',
  {
    level: smallint('level').notNull(),
    idx: bigint('idx', { mode: 'number' }).notNull(),
    hash: bytea('hash').notNull(),
  },
  (t) => [primaryKey({ name: 'log_node_pkey', columns: [t.level, t.idx] })],
);

/** Signed checkpoints as issued (also published outside the database). Append-only. */
export const logCheckpoint = pgTable('log_checkpoint', {
  size: bigint('size', { mode: 'number' }).primaryKey(),
  root: bytea('root').notNull(),
  note: text('note').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Per-customer content key: deleting it is the erasure (crypto-shredding). */
export const conversationKey = pgTable(
  'conversation_key',
  {
    conversationId: uuid('conversation_id').primaryKey(),
    key: bytea('key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [foreignKey({ name: 'conversation_key_conversation_id_fkey', columns: [t.conversationId], foreignColumns: [conversation.id] })],
);

/** A turn's salt and canonical content, AES-256-GCM under its conversation's key. Deletable. */
export const turnContent = pgTable(
  'turn_content',
  {
    conversationId: uuid('conversation_id').notNull(),
    seq: integer('seq').notNull(),
    sealed: bytea('sealed').notNull(),
  },
  (t) => [primaryKey({ name: 'turn_content_pkey', columns: [t.conversationId, t.seq] })],
);

/** Conversations whose erasure is deferred (open dispute, record-keeping law). */
export const legalHold = pgTable(
  'legal_hold',
  {
    conversationId: uuid('conversation_id').primaryKey(),
    reason: text('reason').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [foreignKey({ name: 'legal_hold_conversation_id_fkey', columns: [t.conversationId], foreignColumns: [conversation.id] })],
);

/**
 * Public fingerprints of the master keys that wrap `conversation_key` (the keys themselves never
 * enter the database): a process whose master key differs is refused before it writes.
 */
export const contentMaster = pgTable('content_master', {
  version: integer('version').primaryKey(),
  fingerprint: text('fingerprint').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
