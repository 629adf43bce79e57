import { bigint, customType, integer, pgTable, primaryKey, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** bytea as a Buffer on both drivers (node-postgres gives Buffers, PGlite Uint8Arrays). */
export const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => value,
  fromDriver: (value) => Buffer.from(value),
});

/** The Merkle log's head: size, root and right-edge frontier. One row, locked by every append. */
export const logHead = pgTable('log_head', {
  id: smallint('id').primaryKey(),
  size: bigint('size', { mode: 'number' }).notNull(),
  root: bytea('root').notNull(),
  frontier: bytea('frontier').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One leaf of the log: the exact header bytes hashed, and their leaf hash. Append-only. */
export const logEntry = pgTable('log_entry', {
  idx: bigint('idx', { mode: 'number' }).primaryKey(),
  leafHash: bytea('leaf_hash').notNull(),
  header: bytea('header').notNull(),
  kind: text('kind').notNull(),
  conversationId: uuid('conversation_id').notNull(),
  seq: integer('seq'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Hashes of complete subtrees at every 4th level: proofs read O(log n) rows, never all leaves. */
export const logNode = pgTable('log_node', {
  level: smallint('level').notNull(),
  idx: bigint('idx', { mode: 'number' }).notNull(),
  hash: bytea('hash').notNull(),
}, (t) => [primaryKey({ columns: [t.level, t.idx] })]);

/** Signed checkpoints as issued (also published outside the database). Append-only. */
export const logCheckpoint = pgTable('log_checkpoint', {
  size: bigint('size', { mode: 'number' }).primaryKey(),
  root: bytea('root').notNull(),
  note: text('note').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Per-customer content key: deleting it is the erasure (crypto-shredding). */
export const conversationKey = pgTable('conversation_key', {
  conversationId: uuid('conversation_id').primaryKey(),
  key: bytea('key').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A turn's salt and canonical content, AES-256-GCM under its conversation's key. Deletable. */
export const turnContent = pgTable('turn_content', {
  conversationId: uuid('conversation_id').notNull(),
  seq: integer('seq').notNull(),
  sealed: bytea('sealed').notNull(),
}, (t) => [primaryKey({ columns: [t.conversationId, t.seq] })]);

/** Conversations whose erasure is deferred (open dispute, record-keeping law). */
export const legalHold = pgTable('legal_hold', {
  conversationId: uuid('conversation_id').primaryKey(),
  reason: text('reason').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
