import { eq, inArray, sql } from 'drizzle-orm';
import type { ChunkHit, EntryState, EntryUpsert, KnowledgeIndex, Language, StoredEntry } from '../../core/index.js';
import { type Db, queryRows } from './database.js';
import { kbChunk, kbEntry, kbEntryVersion, kbTerm } from './schema.js';

const BM25_K1 = 1.2;
const BM25_B = 0.75;
const INSERT_BATCH_ROWS = 1000;
const SYNC_LOCK_KEY = 7_262_002;

type EntryRow = typeof kbEntry.$inferSelect;

function toStoredEntry(row: EntryRow): StoredEntry {
  return {
    id: row.id,
    topic: row.topic,
    lang: row.lang as Language,
    title: row.title,
    body: row.body,
    questions: row.questions,
    tags: row.tags,
    links: row.links,
    translation: row.translation ?? undefined,
    source: row.source,
    version: row.version,
    contentHash: row.contentHash,
  };
}

function countTerms(terms: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

/** The knowledge base in PostgreSQL: entries, chunks with pgvector embeddings, BM25 term table. */
export function createPgKnowledgeIndex(db: Db): KnowledgeIndex {
  return {
    async entryStates() {
      const rows = await db
        .select({
          id: kbEntry.id,
          source: kbEntry.source,
          contentHash: kbEntry.contentHash,
          version: kbEntry.version,
          embedder: kbEntry.embedder,
        })
        .from(kbEntry);
      return new Map<string, EntryState>(rows.map((r) => [r.id, r]));
    },

    async applySync(upserts: EntryUpsert[], removals: string[]) {
      await db.transaction(async (tx) => {
        // Two instances syncing at once would interleave chunk rows; one sync at a time.
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${SYNC_LOCK_KEY})`);
        if (removals.length > 0) await tx.delete(kbEntry).where(inArray(kbEntry.id, removals));
        for (const upsert of upserts) {
          const { entry } = upsert;
          const [existing] = await tx
            .select({ version: kbEntry.version, contentHash: kbEntry.contentHash })
            .from(kbEntry)
            .where(eq(kbEntry.id, entry.id))
            .for('update');
          const contentChanged = !existing || existing.contentHash !== upsert.contentHash;
          const version = existing ? existing.version + (contentChanged ? 1 : 0) : 1;
          const values = {
            id: entry.id,
            topic: upsert.topic,
            lang: entry.lang,
            title: entry.title,
            body: entry.body,
            questions: entry.questions,
            tags: entry.tags,
            links: entry.links,
            translation: entry.translation ?? null,
            source: entry.source,
            contentHash: upsert.contentHash,
            embedder: upsert.embedder,
            version,
            updatedAt: new Date(),
          };
          await tx.insert(kbEntry).values(values).onConflictDoUpdate({ target: kbEntry.id, set: values });
          if (contentChanged) {
            await tx
              .insert(kbEntryVersion)
              .values({ id: entry.id, version, contentHash: upsert.contentHash, title: entry.title, body: entry.body })
              .onConflictDoNothing();
          }
          await tx.delete(kbChunk).where(eq(kbChunk.entryId, entry.id));
          if (upsert.chunks.length === 0) continue;
          const inserted = await tx
            .insert(kbChunk)
            .values(
              upsert.chunks.map((c) => ({
                entryId: entry.id,
                kind: c.kind,
                text: c.text,
                termCount: c.terms.length,
                embedder: upsert.embedder,
                embedding: c.embedding,
              })),
            )
            .returning({ id: kbChunk.id });
          const termRows = upsert.chunks.flatMap((c, i) =>
            [...countTerms(c.terms)].map(([term, tf]) => ({ chunkId: inserted[i]?.id ?? 0, term, tf })),
          );
          for (let i = 0; i < termRows.length; i += INSERT_BATCH_ROWS) {
            await tx.insert(kbTerm).values(termRows.slice(i, i + INSERT_BATCH_ROWS));
          }
        }
      });
    },

    async searchVector(embedding, embedder, limit) {
      const literal = `[${embedding.join(',')}]`;
      return queryRows<ChunkHit>(
        db,
        sql`SELECT e.id AS "entryId", e.topic, e.version, c.kind,
                   (1 - (c.embedding <=> ${literal}::vector))::float8 AS score
            FROM kb_chunk c JOIN kb_entry e ON e.id = c.entry_id
            WHERE c.embedder = ${embedder}
            ORDER BY c.embedding <=> ${literal}::vector
            LIMIT ${limit}`,
      );
    },

    async searchLexical(terms, limit) {
      const [stats] = await queryRows<{ n: number; avgdl: number }>(
        db,
        sql`SELECT count(*)::float8 AS n, coalesce(avg(term_count), 1)::float8 AS avgdl FROM kb_chunk`,
      );
      const n = stats?.n ?? 0;
      const avgdl = Math.max(1, stats?.avgdl ?? 1);
      const idf = new Map<string, number | null>(terms.map((t) => [t, null]));
      const maxIdf = Math.log(1 + (n - 1 + 0.5) / 1.5);
      if (n === 0 || terms.length === 0) return { hits: [], idf, maxIdf };
      const termList = sql.join(
        terms.map((t) => sql`${t}`),
        sql`, `,
      );
      const dfs = await queryRows<{ term: string; df: number }>(
        db,
        sql`SELECT term, count(*)::float8 AS df FROM kb_term WHERE term IN (${termList}) GROUP BY term`,
      );
      if (dfs.length === 0) return { hits: [], idf, maxIdf };
      for (const { term, df } of dfs) idf.set(term, Math.log(1 + (n - df + 0.5) / (df + 0.5)));
      const weights = sql.join(
        dfs.map(({ term }) => sql`(${term}::text, ${idf.get(term)}::float8)`),
        sql`, `,
      );
      const hits = await queryRows<ChunkHit>(
        db,
        sql`SELECT e.id AS "entryId", e.topic, e.version, c.kind,
                   sum(w.idf * t.tf * ${BM25_K1 + 1}::float8
                       / (t.tf + ${BM25_K1}::float8 * (1 - ${BM25_B}::float8 + ${BM25_B}::float8 * c.term_count / ${avgdl}::float8)))::float8 AS score
            FROM (VALUES ${weights}) AS w(term, idf)
            JOIN kb_term t ON t.term = w.term
            JOIN kb_chunk c ON c.id = t.chunk_id
            JOIN kb_entry e ON e.id = c.entry_id
            GROUP BY c.id, e.id
            ORDER BY score DESC
            LIMIT ${limit}`,
      );
      return { hits, idf, maxIdf };
    },

    async entriesOfTopics(topics) {
      if (topics.length === 0) return [];
      const rows = await db.select().from(kbEntry).where(inArray(kbEntry.topic, topics));
      return rows.map(toStoredEntry);
    },

    async listEntries() {
      const rows = await db.select().from(kbEntry).orderBy(kbEntry.id);
      return rows.map(toStoredEntry);
    },
  };
}
