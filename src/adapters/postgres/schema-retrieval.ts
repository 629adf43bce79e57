import { customType, pgTable, text } from 'drizzle-orm/pg-core';
import { kbEntry } from './schema.js';

/** A pgvector column without a fixed dimension (as kb_chunk.embedding): embedders differ in size. */
const vector = customType<{ data: number[]; driverData: string }>({
  dataType: () => 'vector',
  toDriver: (value) => `[${value.join(',')}]`,
  fromDriver: (value) => JSON.parse(value) as number[],
});

/**
 * One centroid per entry: the normalized mean vector of its title and questions, a nearest-centroid
 * classifier that retrieval fuses with the nearest phrasings. Rewritten with the entry's chunks, so
 * it re-trains incrementally. Few rows (one per entry): searched exactly, without an index.
 */
export const kbCentroid = pgTable('kb_centroid', {
  entryId: text('entry_id').primaryKey().references(() => kbEntry.id, { onDelete: 'cascade' }),
  /** The entry's topic, written with the centroid: searches need no join. */
  topic: text('topic').notNull(),
  embedder: text('embedder').notNull(),
  embedding: vector('embedding').notNull(),
});
