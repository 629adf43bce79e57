import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, jsonb, pgTable, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import type { EntryContent, Language } from '../../../core/index.js';
import { vector } from './columns.js';

/** Name of an embedder's partial HNSW index on kb_chunk: stable, short, whatever the embedder's id. */
export function toHnswIndexName(embedder: string): string {
  return `kb_chunk_hnsw_${createHash('sha1').update(embedder).digest('hex').slice(0, 12)}`;
}

/** The offline embedder (adapters/local) as the schema's vector index knows it (a test keeps them equal). */
export const OFFLINE_EMBEDDER = { id: 'local-hash-v1-512', dimensions: 512 } as const;

export const kbEntry = pgTable(
  'kb_entry',
  {
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
  },
  (t) => [index('kb_entry_topic_idx').on(t.topic)],
);

/** Version history of every entry: what the bot cited under a version stays readable. */
export const kbEntryVersion = pgTable(
  'kb_entry_version',
  {
    id: text('id').notNull(),
    version: integer('version').notNull(),
    contentHash: text('content_hash').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.id, t.version] })],
);

export const kbChunk = pgTable(
  'kb_chunk',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    entryId: text('entry_id')
      .notNull()
      .references(() => kbEntry.id, { onDelete: 'cascade' }),
    /** The entry's topic and version, written with the chunk (a sync rewrites an entry's chunks): searches need no join. */
    topic: text('topic').notNull(),
    version: integer('version').notNull(),
    kind: text('kind').notNull(),
    text: text('text').notNull(),
    termCount: integer('term_count').notNull(),
    embedder: text('embedder').notNull(),
    embedding: vector('embedding').notNull(),
  },
  (t) => [
    index('kb_chunk_entry_idx').on(t.entryId),
    // The offline embedder's nearest-neighbour index: a partial HNSW index on the column cast to its
    // size. A model embedder's size is known only once it embeds, so its index is made by the
    // knowledge index at sync (docs/decisions/0002-vector-indexes.md).
    index(toHnswIndexName(OFFLINE_EMBEDDER.id))
      .using('hnsw', sql`(${t.embedding}::vector(${sql.raw(String(OFFLINE_EMBEDDER.dimensions))})) vector_cosine_ops`)
      .where(sql`${t.embedder} = ${sql.raw(`'${OFFLINE_EMBEDDER.id}'`)}`),
  ],
);

/** Term frequencies per chunk: BM25 computed in SQL, on terms segmented in the app (Chinese too). */
export const kbTerm = pgTable(
  'kb_term',
  {
    chunkId: bigint('chunk_id', { mode: 'number' })
      .notNull()
      .references(() => kbChunk.id, { onDelete: 'cascade' }),
    term: text('term').notNull(),
    tf: integer('tf').notNull(),
  },
  (t) => [primaryKey({ columns: [t.term, t.chunkId] }), index('kb_term_chunk_idx').on(t.chunkId)],
);

/**
 * One centroid per entry: the normalized mean vector of its title and questions, a nearest-centroid
 * classifier that retrieval fuses with the nearest phrasings. Rewritten with the entry's chunks, so
 * it re-trains incrementally. Few rows (one per entry): searched exactly, without an index.
 */
export const kbCentroid = pgTable('kb_centroid', {
  entryId: text('entry_id')
    .primaryKey()
    .references(() => kbEntry.id, { onDelete: 'cascade' }),
  /** The entry's topic, written with the centroid: searches need no join. */
  topic: text('topic').notNull(),
  embedder: text('embedder').notNull(),
  embedding: vector('embedding').notNull(),
});

/**
 * BM25's corpus figures (chunks and their total term count) in one row, so that a lexical search
 * does not scan kb_chunk. Kept exact by statement-level triggers on kb_chunk (drizzle/0010).
 */
export const kbStats = pgTable(
  'kb_stats',
  {
    id: smallint('id').primaryKey().default(1),
    chunks: bigint('chunks', { mode: 'number' }).notNull(),
    terms: bigint('terms', { mode: 'number' }).notNull(),
  },
  () => [check('kb_stats_id_check', sql`"id" = 1`)],
);

/**
 * Every version of every entry as written, the database being the knowledge base's source of truth
 * (docs/decisions/knowledge-source-of-truth.md): a draft, a published version (answered with), or
 * a removal. Append-only (drizzle/0015): history, diffs and restores read it, and each row has its
 * turn-log entry (kind `knowledge`) that `npm run audit:verify` compares it with.
 */
export const kbRevision = pgTable(
  'kb_revision',
  {
    entryId: text('entry_id').notNull(),
    version: integer('version').notNull(),
    status: text('status').notNull(),
    lang: text('lang').notNull(),
    title: text('title').notNull(),
    questions: jsonb('questions').$type<string[]>().notNull(),
    tags: jsonb('tags').$type<string[]>().notNull(),
    links: jsonb('links').$type<Array<{ title: string; url: string }>>().notNull(),
    translation: text('translation'),
    body: text('body').notNull(),
    /** SHA-256 of the content's canonical form (core/knowledge/entry-content.ts), as logged. */
    contentHash: text('content_hash').notNull(),
    /** The version of the translation this content matches (a translation brought up to date), if declared. */
    translationSync: integer('translation_sync'),
    author: text('author').notNull(),
    origin: text('origin').notNull(),
    restoredFrom: integer('restored_from'),
    /** Index of its turn-log entry. */
    logIdx: bigint('log_idx', { mode: 'number' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'kb_revision_pkey', columns: [t.entryId, t.version] }),
    index('kb_revision_created_idx').on(t.createdAt),
    check('kb_revision_status_check', sql`${t.status} IN ('draft', 'published', 'removed')`),
  ],
);

/** A revision row's content as core reads it: the one mapping, for the knowledge store and the audit. */
export function toEntryContent(
  row: Pick<typeof kbRevision.$inferSelect, 'entryId' | 'lang' | 'title' | 'questions' | 'tags' | 'links' | 'translation' | 'body'>,
): EntryContent {
  return {
    id: row.entryId,
    lang: row.lang as Language,
    title: row.title,
    questions: row.questions,
    tags: row.tags,
    links: row.links,
    translation: row.translation ?? undefined,
    body: row.body,
  };
}

/**
 * What the Markdown folder last held for an entry, as imported from it or exported to it: the file,
 * its content hash and the version that content is. A file whose content differs is imported only
 * when the entry has no newer version since (else it is a conflict, kb_conflict).
 */
export const kbFileState = pgTable('kb_file_state', {
  entryId: text('entry_id').primaryKey(),
  source: text('source').notNull(),
  contentHash: text('content_hash').notNull(),
  version: integer('version').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A file changed (or deleted) on disk while the entry was also changed in the console: neither side
 * wins silently; the console shows both until someone chooses.
 */
export const kbConflict = pgTable(
  'kb_conflict',
  {
    entryId: text('entry_id').primaryKey(),
    source: text('source').notNull(),
    kind: text('kind').notNull(),
    fileHash: text('file_hash'),
    /** The file's entry as read (null when the file was deleted). */
    file: jsonb('file'),
    /** The entry's latest version when the conflict was found. */
    headVersion: integer('head_version').notNull(),
    detectedAt: timestamp('detected_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('kb_conflict_kind_check', sql`${t.kind} IN ('changed', 'deleted', 'both_new')`)],
);
