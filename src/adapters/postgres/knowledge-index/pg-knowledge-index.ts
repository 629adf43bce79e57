import { eq, inArray, sql } from 'drizzle-orm';
import type {
  CentroidHit,
  ChunkHit,
  EntryState,
  EntryUpsert,
  KnowledgeIndex,
  Language,
  LexicalSearch,
  SearchResults,
  StoredEntry,
} from '../../../core/index.js';
import type { Connection, Database } from '../db/database.js';
import { type Statement, statement } from '../db/statement.js';
import { createGroupCommit } from '../db/group-commit.js';
import {
  buildLexicalReplica,
  bm25Idf,
  buildVectorReplica,
  type CosineIndex,
  type HitTuple,
  type LexicalChunkRow,
  type LexicalResult,
  nearestByCosine,
  type ReplicaChunk,
  searchLexicalReplica,
  searchVectorReplica,
  toCosineIndex,
} from './kb-replica.js';
import { kbCentroid, kbChunk, kbEntry, kbEntryVersion, kbTerm, toHnswIndexName } from '../schema/index.js';

const BM25_K1 = 1.2;
const BM25_B = 0.75;
const INSERT_BATCH_ROWS = 1000;
const SYNC_LOCK_KEY = 7_262_002;

type EntryRow = typeof kbEntry.$inferSelect;

/** Larger embeddings do not fit in an 8 KB row with the chunk's text: they are stored out of line. */
const MAX_INLINE_DIMENSIONS = 1900;
/** pgvector's limit for HNSW indexes on `vector`. */
const MAX_HNSW_DIMENSIONS = 2000;

/** Embedder ids are ours (never customer input) but go into DDL, so they are checked anyway. */
function toEmbedderLiteral(embedder: string): string {
  if (!/^[A-Za-z0-9:._/-]{1,100}$/.test(embedder)) throw new Error(`unexpected embedder id ${embedder}`);
  return `'${embedder}'`;
}

function toDimensions(length: number): number {
  if (!Number.isInteger(length) || length < 1 || length > 16_000) throw new Error(`unexpected vector size ${length}`);
  return length;
}

/**
 * One partial HNSW index per embedder, on the column cast to that embedder's dimension: the column
 * itself is untyped because embedders differ in size. The offline embedder's is in the schema; a
 * model embedder's size is known only once it embeds, so its index is made here, once, then
 * maintained on insert (docs/decisions/0002-vector-indexes.md).
 */
function toHnswIndexSql(embedder: string, dimensions: number) {
  const name = toHnswIndexName(embedder);
  return sql.raw(
    `CREATE INDEX IF NOT EXISTS ${name} ON kb_chunk USING hnsw ((embedding::vector(${toDimensions(dimensions)})) vector_cosine_ops) WHERE embedder = ${toEmbedderLiteral(embedder)}`,
  );
}

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

interface EntryCache {
  generation: string;
  byTopic: Map<string, StoredEntry[]>;
}

/** searchLexical's row per query: the corpus size, each known term with its df and idf, the hits. */
interface LexicalRow extends LexicalResult {
  query: number;
}

/**
 * searchNearest's row per query (numbered from 1): its chunks as a JSON array, nearest first (one
 * JSON value parses much faster than a row per hit); and a row 0 with the generation.
 */
interface NearestRow {
  query: number;
  chunks: HitTuple[] | null;
  generation: string | null;
}

function toHit([entryId, topic, version, kind, score]: HitTuple): ChunkHit {
  return { entryId, topic, version, kind, score };
}

/** The idf of each query term (null when no document holds it) and the most informative one possible, for `documents`. */
function toIdf(terms: string[], documents: number, known: Array<[string, number, number]> | null | undefined) {
  const idf = new Map<string, number | null>(terms.map((t) => [t, null]));
  for (const [term, , value] of documents > 0 ? (known ?? []) : []) idf.set(term, value);
  return { idf, maxIdf: bm25Idf(documents, 1) };
}

/** BM25's hits over chunks and over entries with the idf of each query term, from the statement's row or the copy's. */
function toLexicalSearch(terms: string[], row: LexicalResult | undefined): LexicalSearch {
  const n = Number(row?.n ?? 0);
  const e = Number(row?.e ?? 0);
  const entries = {
    hits: e > 0 ? (row?.entry_hits ?? []).map(([entryId, topic, score]) => ({ entryId, topic, score })) : [],
    ...toIdf(terms, e, row?.entry_terms),
  };
  return { hits: n > 0 && row?.terms ? (row.hits ?? []).map(toHit) : [], ...toIdf(terms, n, row?.terms), entries };
}

/**
 * Changes whenever an entry is added, changed (version + 1, updated_at) or removed: count, sum of
 * versions and latest update of kb_entry, a scan of one row per entry.
 */
const KB_GENERATION_TEXT = `(SELECT count(*)::text || ':' || coalesce(sum(version), 0)::text || ':' || coalesce((extract(epoch FROM max(updated_at)) * 1000000)::bigint, 0)::text FROM kb_entry)`;
const KB_GENERATION = sql.raw(KB_GENERATION_TEXT);

/** The entries' centroids of one embedder, kept in memory: entries by id, and their centroids. */
interface CentroidReplica {
  entries: Array<{ entryId: string; topic: string }>;
  index: CosineIndex;
}

/** The generation now: a scan of one row per entry. */
const KB_GENERATION_NOW = statement<Record<string, never>, { generation: string }>(`SELECT ${KB_GENERATION_TEXT} AS generation`);

/**
 * How long a generation read stays current for the searches that follow: another instance's sync
 * is seen within this long (this instance's own sync at once). Under load this saves a round trip
 * per search.
 */
const GENERATION_MAX_AGE_MS = 500;

/** The centroids of one embedder and dimension as of one generation of the knowledge base. */
/** A centroid as loaded: entry, topic, embedding. */
type CentroidRow = [string, string, number[]];

const CENTROIDS = statement<
  { embedder: string; dims: number },
  { generation: string; centroids: CentroidRow[] | string }
>(`SELECT ${KB_GENERATION_TEXT} AS generation,
    (SELECT coalesce(json_agg(json_build_array(entry_id, topic, embedding::text::json) ORDER BY entry_id), '[]')
     FROM kb_centroid WHERE embedder = :embedder::text AND vector_dims(embedding) = :dims::integer) AS centroids`);

/**
 * How much of the knowledge base is searched in memory: the lexical copy while kb_stats counts at
 * most `terms` term occurrences, an embedder's chunks while they hold at most `values` vector
 * components (2M: 3,900 chunks of 512 dimensions, 1,300 of 1,536; an exact scan of that many takes
 * a few milliseconds of the event loop). Larger ones are searched by the statements: BM25 in SQL,
 * pgvector's HNSW index.
 */
export interface ReplicaBudget {
  terms: number;
  values: number;
}
const REPLICA_BUDGET: ReplicaBudget = { terms: 1_000_000, values: 2_000_000 };

/** Every chunk with its terms (or null over the `term_budget`), and the corpus figures, as of one generation. */
const LEXICAL_REPLICA = statement<
  { term_budget: number },
  {
    generation: string;
    n: string | number;
    terms: string | number;
    entries: string | number;
    entry_terms: string | number;
    rows: LexicalChunkRow[] | string | null;
  }
>(`SELECT ${KB_GENERATION_TEXT} AS generation, s.chunks AS n, s.terms,
    (SELECT count(*) FROM kb_entry) AS entries, (SELECT coalesce(sum(question_terms), 0) FROM kb_entry) AS entry_terms,
    CASE WHEN s.terms <= :term_budget::bigint THEN (
      SELECT coalesce(json_agg(json_build_array(c.id, c.entry_id, c.topic, c.version, c.kind, c.term_count,
        (SELECT json_agg(json_build_array(t.term, t.tf)) FROM kb_term t WHERE t.chunk_id = c.id))), '[]')
      FROM kb_chunk c) END AS rows
  FROM kb_stats s WHERE s.id = 1`);

/** A page of an embedder's chunks as loaded: id, entry, topic, version, kind, embedding. */
type VectorChunkRow = [number, string, string, number, ChunkHit['kind'], number[]];
const VECTOR_REPLICA_PAGE = 512;

/**
 * The `page` chunks of one embedder and dimension after id `after_id`, with the generation. The
 * first page (`after_id` 0) is null when the embedder has more than `chunk_budget` chunks.
 */
const VECTOR_REPLICA = statement<
  { after_id: number; page: number; chunk_budget: number; embedder: string; dims: number },
  { generation: string; chunks: VectorChunkRow[] | string | null }
>(`WITH total AS (
    SELECT CASE WHEN :after_id::bigint = 0
      THEN (SELECT count(*) FROM kb_chunk WHERE embedder = :embedder::text AND vector_dims(embedding) = :dims::integer) ELSE 0 END AS n)
  SELECT ${KB_GENERATION_TEXT} AS generation,
    CASE WHEN total.n <= :chunk_budget::bigint THEN (
      SELECT coalesce(json_agg(json_build_array(p.id, p.entry_id, p.topic, p.version, p.kind, p.embedding::text::json) ORDER BY p.id), '[]')
      FROM (SELECT id, entry_id, topic, version, kind, embedding FROM kb_chunk
            WHERE embedder = :embedder::text AND vector_dims(embedding) = :dims::integer AND id > :after_id::bigint
            ORDER BY id LIMIT :page::integer) p) END AS chunks
  FROM total`);

/**
 * Copies in memory, one per key, each as of one generation of the knowledge base. A copy is loaded
 * by the first search that finds the generation changed; the searches arriving meanwhile wait for
 * the same load. `of` gives undefined when there is no copy of that generation: over its budget,
 * its load failed (tried again by the next search), or the knowledge base changed during the load.
 */
function createReplicas<T>(load: (key: string) => Promise<{ generation: string; value: T | undefined }>) {
  type Loaded = { generation: string; value: T | undefined } | undefined;
  const held = new Map<string, { generation: string; loaded: Promise<Loaded> }>();
  return {
    async of(key: string, generation: string): Promise<T | undefined> {
      let entry = held.get(key);
      if (!entry || entry.generation !== generation) {
        const loaded: Promise<Loaded> = load(key).then(
          (copy) => {
            // Newer than asked for (a sync committed meanwhile): kept for the searches that see it.
            if (held.get(key)?.loaded === loaded) held.set(key, { generation: copy.generation, loaded });
            return copy;
          },
          () => {
            if (held.get(key)?.loaded === loaded) held.delete(key);
            return undefined;
          },
        );
        entry = { generation, loaded };
        held.set(key, entry);
      }
      const copy = await entry.loaded;
      return copy?.generation === generation ? copy.value : undefined;
    },
    clear: () => held.clear(),
  };
}

/** The `limit` entries whose centroid is nearest to the query, best first, ties by entry id: as nearestCentroidsText. */
function nearestCentroids(query: readonly number[], replica: CentroidReplica, limit: number): CentroidHit[] {
  return nearestByCosine(replica.index, query, limit).map(({ at, score }) => ({ ...(replica.entries[at] as CentroidReplica['entries'][number]), score }));
}

function countTerms(terms: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

// The search statements' texts: `query` is the query embedding (:query, or a batch's q.v), :limit the limit.
// The embedder and the dimension are written into the text, so that the planner matches the
// embedder's partial HNSW index (also for a batch's q.v: a parameterized index scan per query).

/** The `limit` chunks of one embedder nearest to `query` (HNSW), nearest first (each carries its entry's topic and version). */
function nearestChunksText(dims: number, ofEmbedder: string, query = ':query'): string {
  return `SELECT n."entryId", n.topic, n.version, n.kind, (1 - n.distance)::float8 AS score
      FROM (SELECT c.entry_id AS "entryId", c.topic, c.version, c.kind, c.embedding::vector(${dims}) <=> ${query}::vector(${dims}) AS distance
            FROM kb_chunk c
            WHERE c.embedder = ${ofEmbedder}
            ORDER BY c.embedding::vector(${dims}) <=> ${query}::vector(${dims})
            LIMIT :limit::integer) n`;
}

/** The `limit` entries whose centroid (one row per entry of this embedder and dimension: an exact scan) is nearest to `query`. */
function nearestCentroidsText(dims: number, ofEmbedder: string): string {
  return `SELECT k.entry_id AS "entryId", k.topic, (1 - (k.embedding::vector(${dims}) <=> :query::vector(${dims})))::float8 AS score
      FROM kb_centroid k
      WHERE k.embedder = ${ofEmbedder} AND vector_dims(k.embedding) = ${dims}
      ORDER BY score DESC, k.entry_id
      LIMIT :limit::integer`;
}

/** The parameters of each search statement: the query embedding(s) as vector text, and the limit. */
interface SearchStatements {
  chunks: Statement<{ query: string; limit: number }, ChunkHit>;
  centroids: Statement<{ query: string; limit: number }, CentroidHit>;
  nearest: Statement<{ queries: string; limit: number }, NearestRow>;
}
type SearchKind = keyof SearchStatements;

/**
 * One fixed text per search, embedder and dimension, prepared once per connection. `nearest` is
 * searchNearest's, for a batch of query embeddings (`queries`, vector[]): a NearestRow per query, and what
 * the entries are now (entriesOfTopics serves them from memory while it is unchanged).
 */
const searchStatements = new Map<string, Statement<never, unknown>>();
function searchStatement<K extends SearchKind>(kind: K, embedder: string, dimensions: number): SearchStatements[K] {
  const key = `${kind}\u0000${embedder}\u0000${dimensions}`;
  let found = searchStatements.get(key);
  if (!found) {
    const dims = toDimensions(dimensions);
    const ofEmbedder = toEmbedderLiteral(embedder);
    found = statement(
      kind === 'chunks'
        ? nearestChunksText(dims, ofEmbedder)
        : kind === 'centroids'
          ? nearestCentroidsText(dims, ofEmbedder)
          : `SELECT q.n::integer AS query,
      (SELECT coalesce(json_agg(json_build_array(v."entryId", v.topic, v.version, v.kind, v.score) ORDER BY v.ord), '[]')
        FROM (SELECT x.*, row_number() OVER () AS ord FROM (${nearestChunksText(dims, ofEmbedder, 'q.v')}) x) v) AS chunks,
      NULL::text AS generation
    FROM unnest(:queries::vector[]) WITH ORDINALITY AS q(v, n)
  UNION ALL SELECT 0, NULL, ${KB_GENERATION_TEXT}
  ORDER BY 1`,
    );
    searchStatements.set(key, found);
  }
  return found as SearchStatements[K];
}

/**
 * BM25 for a batch of queries (`query_no` query number, `term` term): from the corpus figures (kept by triggers
 * in kb_stats, drizzle/0010: no scan of kb_chunk; avgdl is sum / count in numeric, exactly as
 * avg(term_count) computed it) and the document frequency of each known term, its idf; then the
 * best `limit` chunks over the chunks holding the query's known terms, each with its entry, topic and
 * version. One row per query: the corpus size, its known terms [term, df, idf] and its hits as
 * JSON. Each score is summed in term order, so that it does not depend on the plan (which depends
 * on how many searches share the statement). Named: PostgreSQL plans it once per connection unless
 * custom plans for the given terms come out cheaper (plan_cache_mode auto); planning it on every
 * call cost more than running it (`npm run bench` retrieval, 10,000 phrasings, every search by
 * statement: p50 2.9 ms, p95 6.2-6.4 ms on a 2-core Xeon).
 *
 * The same over entries as documents (an entry's title and question chunks; kb_entry.question_terms
 * is its length, the entry count and their sum come from kb_entry's rows): e, entry_terms and the
 * best `limit` entries [entry, topic, score], ties by entry id.
 */
const LEXICAL_SEARCH = statement<{ query_no: number[]; term: string[]; k1_plus_1: number; k1: number; b: number; limit: number }, LexicalRow>(`WITH s AS (
    SELECT chunks::float8 AS n, greatest(1, coalesce((terms::numeric / nullif(chunks, 0)::numeric)::float8, 1)) AS avgdl
    FROM kb_stats WHERE id = 1),
  es AS (
    SELECT count(*)::float8 AS n, greatest(1, coalesce((sum(question_terms)::numeric / nullif(count(*), 0)::numeric)::float8, 1)) AS avgdl
    FROM kb_entry),
  asked AS (SELECT DISTINCT u.n, u.term FROM unnest(:query_no::integer[], :term::text[]) AS u(n, term)),
  etf AS MATERIALIZED (
    SELECT a.n, a.term, c.entry_id, c.topic, sum(t.tf)::float8 AS tf
    FROM asked a
    JOIN kb_term t ON t.term = a.term
    JOIN kb_chunk c ON c.id = t.chunk_id
    WHERE c.kind <> 'passage'
    GROUP BY a.n, a.term, c.entry_id, c.topic),
  eknown AS MATERIALIZED (
    SELECT f.n, f.term, count(*)::float8 AS df, ln(1 + (es.n - count(*)::float8 + 0.5) / (count(*)::float8 + 0.5)) AS idf
    FROM etf f CROSS JOIN es
    GROUP BY f.n, f.term, es.n),
  known AS MATERIALIZED (
    SELECT a.n, a.term, d.df, ln(1 + (s.n - d.df + 0.5) / (d.df + 0.5)) AS idf
    FROM asked a
    CROSS JOIN LATERAL (SELECT count(*)::float8 AS df FROM kb_term k WHERE k.term = a.term) d
    CROSS JOIN s
    WHERE d.df > 0)
  SELECT q.n AS query, s.n,
    (SELECT json_agg(json_build_array(k.term, k.df, k.idf) ORDER BY k.term) FROM known k WHERE k.n = q.n) AS terms,
    (SELECT json_agg(json_build_array(r."entryId", r.topic, r.version, r.kind, r.score) ORDER BY r.score DESC, r.id)
      FROM (SELECT c.id, c.entry_id AS "entryId", c.topic, c.version, c.kind,
                   sum(k.idf * t.tf * :k1_plus_1::float8 / (t.tf + :k1::float8 * (1 - :b::float8 + :b::float8 * c.term_count / s.avgdl)) ORDER BY k.term)::float8 AS score
            FROM known k
            JOIN kb_term t ON t.term = k.term
            JOIN kb_chunk c ON c.id = t.chunk_id
            WHERE k.n = q.n
            GROUP BY c.id
            ORDER BY score DESC, c.id
            LIMIT :limit::integer) r) AS hits,
    es.n AS e,
    (SELECT json_agg(json_build_array(k.term, k.df, k.idf) ORDER BY k.term) FROM eknown k WHERE k.n = q.n) AS entry_terms,
    (SELECT json_agg(json_build_array(r.entry_id, r.topic, r.score) ORDER BY r.score DESC, r.entry_id)
      FROM (SELECT f.entry_id, f.topic,
                   sum(k.idf * f.tf * :k1_plus_1::float8 / (f.tf + :k1::float8 * (1 - :b::float8 + :b::float8 * e.question_terms / es.avgdl)) ORDER BY f.term)::float8 AS score
            FROM etf f
            JOIN eknown k ON k.n = f.n AND k.term = f.term
            JOIN kb_entry e ON e.id = f.entry_id
            WHERE f.n = q.n
            GROUP BY f.entry_id, f.topic
            ORDER BY score DESC, f.entry_id
            LIMIT :limit::integer) r) AS entry_hits
  FROM (SELECT DISTINCT n FROM asked) q CROSS JOIN s CROSS JOIN es`);

interface LexicalQuery {
  terms: string[];
  limit: number;
}

/** The knowledge base in PostgreSQL: entries, chunks with pgvector embeddings, BM25 term table. */
/** The knowledge index, plus what the knowledge base's store (same adapter) needs of it. */
export interface PgKnowledgeIndex extends KnowledgeIndex {
  /**
   * applySync with more writes in the same transaction: `during` runs last, under the index's lock
   * (one knowledge-base change at a time, across instances), after the index rows are written.
   */
  applySyncWith<T>(upserts: EntryUpsert[], removals: string[], during: (tx: Connection) => Promise<T>): Promise<T>;
  /** Changes whenever an entry is published, changed or removed (by any instance). */
  generation(): Promise<string>;
}

export function createPgKnowledgeIndex(database: Database, options: { replicaBudget?: ReplicaBudget; generationMaxAgeMs?: number } = {}): PgKnowledgeIndex {
  const { db } = database;
  const budget = options.replicaBudget ?? REPLICA_BUDGET;
  const generationMaxAgeMs = options.generationMaxAgeMs ?? GENERATION_MAX_AGE_MS;
  /** One group commit per key, made on first use: searches share a statement only when their key is the same. */
  function batcher<T, R>(batches: Map<string, (item: T) => Promise<R>>, key: string, write: () => (items: T[]) => Promise<R[]>) {
    let run = batches.get(key);
    if (!run) {
      run = createGroupCommit(write());
      batches.set(key, run);
    }
    return run;
  }
  /** The lexical searches running together (same limit): one statement, each query ranked on its own, exactly as alone. */
  const lexicalBatches = new Map<string, (query: LexicalQuery) => Promise<LexicalRow | undefined>>();
  function lexicalAll(query: LexicalQuery): Promise<LexicalRow | undefined> {
    return batcher(lexicalBatches, String(query.limit), () => async (queries: LexicalQuery[]) => {
      const rows = await database.run(LEXICAL_SEARCH, {
        query_no: queries.flatMap((q, i) => q.terms.map(() => i + 1)),
        term: queries.flatMap((q) => q.terms),
        k1_plus_1: BM25_K1 + 1,
        k1: BM25_K1,
        b: BM25_B,
        limit: query.limit,
      });
      const byQuery = new Map(rows.map((r) => [r.query, r]));
      return queries.map((_, i) => byQuery.get(i + 1));
    })(query);
  }
  /** Nearest chunks (by statement) and centroids (in memory) of the searches running together (same embedder, size, limit). */
  const nearestBatches = new Map<string, (embedding: number[]) => Promise<{ vector: ChunkHit[]; centroids: CentroidHit[] }>>();
  function nearestAll(embedding: number[], embedder: string, limit: number) {
    return batcher(nearestBatches, `${embedder}\u0000${embedding.length}\u0000${limit}`, () => {
      const st = searchStatement('nearest', embedder, embedding.length);
      return async (embeddings: number[][]) => {
        // As an array literal: PGlite serializes no vector[] parameter from a JS array.
        const rows = await database.run(st, { queries: `{${embeddings.map((e) => `"[${e.join(',')}]"`).join(',')}}`, limit });
        const out = embeddings.map(() => ({ vector: [] as ChunkHit[], centroids: [] as CentroidHit[] }));
        let generation = '';
        for (const r of rows) {
          if (r.query === 0) {
            generation = r.generation ?? '';
            continue;
          }
          const mine = out[r.query - 1];
          if (mine) mine.vector = (r.chunks ?? []).map(toHit);
        }
        const centroids = await centroidReplicas.of(`${embedder}\u0000${embeddings[0]?.length ?? 0}`, generation);
        embeddings.forEach((e, i) => {
          if (centroids) (out[i] as (typeof out)[number]).centroids = nearestCentroids(e, centroids, limit);
        });
        return out;
      };
    })(embedding);
  }
  /** The knowledge base generation the latest search saw, and the entries as of one generation. */
  let seenGeneration: string | undefined;
  let cache: EntryCache | undefined;
  /** The generation now, for the searches running together: one short statement. */
  const generationNow = createGroupCommit(async (items: null[]) => {
    const [row] = await database.run(KB_GENERATION_NOW, {});
    return items.map(() => row?.generation ?? '');
  });
  /** The generation last read, and when it was asked for: searches within `generationMaxAgeMs` of that use it. */
  let confirmed: { generation: string; at: number } | undefined;
  async function currentGeneration(): Promise<string> {
    const at = performance.now();
    if (confirmed && at - confirmed.at < generationMaxAgeMs) return confirmed.generation;
    const generation = await generationNow(null);
    if (!confirmed || confirmed.at < at) confirmed = { generation, at };
    return generation;
  }

  // Copies in memory, per generation: the centroids (always), the lexical data and the embeddings
  // of one embedder (each while within its budget).
  const centroidReplicas = createReplicas(async (key): Promise<{ generation: string; value: CentroidReplica }> => {
    const [embedder, dimensions] = key.split('\u0000') as [string, string];
    const [row] = await database.run(CENTROIDS, { embedder, dims: Number(dimensions) });
    const rows = typeof row?.centroids === 'string' ? (JSON.parse(row.centroids) as CentroidRow[]) : (row?.centroids ?? []);
    return {
      generation: row?.generation ?? '',
      value: {
        entries: rows.map(([entryId, topic]) => ({ entryId, topic })),
        index: toCosineIndex(
          rows.map((r) => r[2]),
          Number(dimensions),
        ),
      },
    };
  });
  const lexicalReplicas = createReplicas(async () => {
    const [row] = await database.run(LEXICAL_REPLICA, { term_budget: budget.terms });
    if (!row) return { generation: '', value: undefined };
    const rows = typeof row.rows === 'string' ? (JSON.parse(row.rows) as LexicalChunkRow[]) : row.rows;
    const stats = { chunks: Number(row.n), terms: Number(row.terms), entries: Number(row.entries), entryTerms: Number(row.entry_terms) };
    return { generation: row.generation, value: rows ? buildLexicalReplica(stats, rows) : undefined };
  });
  const vectorReplicas = createReplicas(async (key) => {
    const [embedder, dimensions] = key.split('\u0000') as [string, string];
    const chunks: ReplicaChunk[] = [];
    const vectors: number[][] = [];
    let generation: string | undefined;
    // In pages, each with the generation: a sync between two pages shows, and the copy is dropped.
    for (;;) {
      const [row] = await database.run(VECTOR_REPLICA, {
        after_id: chunks.at(-1)?.id ?? 0,
        page: VECTOR_REPLICA_PAGE,
        chunk_budget: Math.floor(budget.values / Number(dimensions)),
        embedder,
        dims: Number(dimensions),
      });
      if (!row || (generation !== undefined && row.generation !== generation)) return { generation: '', value: undefined };
      generation = row.generation;
      const page = typeof row.chunks === 'string' ? (JSON.parse(row.chunks) as VectorChunkRow[]) : row.chunks;
      if (!page) return { generation, value: undefined };
      for (const [id, entryId, topic, version, kind, vector] of page) {
        chunks.push({ id: Number(id), entryId, topic, version, kind });
        vectors.push(vector);
      }
      if (page.length < VECTOR_REPLICA_PAGE) return { generation, value: buildVectorReplica(chunks, vectors, Number(dimensions)) };
    }
  });

  /** The searches of one query as of the generation now, in memory where the copies are within budget. */
  async function search(terms: string[], embedding: number[] | undefined, embedder: string, limit: number): Promise<SearchResults> {
    const generation = await currentGeneration();
    seenGeneration = generation;
    const lexical = async () => {
      const replica = await lexicalReplicas.of('', generation);
      return replica ? toLexicalSearch(terms, searchLexicalReplica(replica, terms, limit, { k1: BM25_K1, b: BM25_B })) : searchLexical(terms, limit);
    };
    const nearest = async (query: number[]) => {
      const key = `${embedder}\u0000${query.length}`;
      const [replica, centroids] = await Promise.all([vectorReplicas.of(key, generation), centroidReplicas.of(key, generation)]);
      if (!replica || !centroids) return nearestAll(query, embedder, limit);
      return { vector: searchVectorReplica(replica, query, limit).map(toHit), centroids: nearestCentroids(query, centroids, limit) };
    };
    const [lexicalHits, nearestHits] = await Promise.all([
      terms.length > 0 ? lexical() : undefined,
      embedding ? nearest(embedding) : { vector: [], centroids: [] },
    ]);
    return { lexical: lexicalHits, ...nearestHits };
  }
  /** BM25 over the chunks holding the known terms, from the corpus figures; idf per term. */
  async function searchLexical(terms: string[], limit: number): Promise<LexicalSearch> {
    return toLexicalSearch(terms, await lexicalAll({ terms, limit }));
  }

  /** What this instance holds of the knowledge base is dropped before and after a change (a search in between may have reloaded it). */
  function forgetCopies() {
    cache = undefined;
    seenGeneration = undefined;
    confirmed = undefined;
    for (const replicas of [centroidReplicas, lexicalReplicas, vectorReplicas]) replicas.clear();
  }

  async function applySyncWith<T>(upserts: EntryUpsert[], removals: string[], during: (tx: Connection) => Promise<T>): Promise<T> {
    forgetCopies();
    const result = await database.transaction(async (connection) => {
      const tx = connection.db;
      // Two instances syncing at once would interleave chunk rows; one sync at a time.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${SYNC_LOCK_KEY})`);
      // Embeddings are stored in the row (drizzle/0009); one too large for a row needs TOAST again.
      if (upserts.some((u) => (u.chunks[0]?.embedding.length ?? 0) > MAX_INLINE_DIMENSIONS)) {
        await tx.execute(sql`ALTER TABLE kb_chunk ALTER COLUMN embedding SET STORAGE EXTENDED`);
        await tx.execute(sql`ALTER TABLE kb_centroid ALTER COLUMN embedding SET STORAGE EXTENDED`);
      }
      if (removals.length > 0) await tx.delete(kbEntry).where(inArray(kbEntry.id, removals));
      for (const upsert of upserts) {
        const { entry } = upsert;
        const [existing] = await tx
          .select({ version: kbEntry.version, contentHash: kbEntry.contentHash })
          .from(kbEntry)
          .where(eq(kbEntry.id, entry.id))
          .for('update');
        const contentChanged = !existing || existing.contentHash !== upsert.contentHash;
        const version = upsert.version ?? (existing ? existing.version + (contentChanged ? 1 : 0) : 1);
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
          questionTerms: upsert.chunks.reduce((n, c) => (c.kind === 'passage' ? n : n + c.terms.length), 0),
          version,
          updatedAt: new Date(),
        };
        await tx.insert(kbEntry).values(values).onConflictDoUpdate({ target: kbEntry.id, set: values });
        if (contentChanged || existing?.version !== version) {
          await tx
            .insert(kbEntryVersion)
            .values({ id: entry.id, version, contentHash: upsert.contentHash, title: entry.title, body: entry.body })
            .onConflictDoNothing();
        }
        await tx.delete(kbChunk).where(eq(kbChunk.entryId, entry.id));
        await tx.delete(kbCentroid).where(eq(kbCentroid.entryId, entry.id));
        if (upsert.centroid) {
          await tx.insert(kbCentroid).values({ entryId: entry.id, topic: upsert.topic, embedder: upsert.embedder, embedding: upsert.centroid });
        }
        if (upsert.chunks.length === 0) continue;
        const inserted = await tx
          .insert(kbChunk)
          .values(
            upsert.chunks.map((c) => ({
              entryId: entry.id,
              topic: upsert.topic,
              version,
              kind: c.kind,
              text: c.text,
              termCount: c.terms.length,
              embedder: upsert.embedder,
              embedding: c.embedding,
            })),
          )
          .returning({ id: kbChunk.id });
        const termRows = upsert.chunks.flatMap((c, i) => [...countTerms(c.terms)].map(([term, tf]) => ({ chunkId: inserted[i]?.id ?? 0, term, tf })));
        for (let i = 0; i < termRows.length; i += INSERT_BATCH_ROWS) {
          await tx.insert(kbTerm).values(termRows.slice(i, i + INSERT_BATCH_ROWS));
        }
      }
      // Built after the rows of a first sync are in: a bulk build is much faster than inserts.
      const embedders = new Map(upserts.flatMap((u) => (u.chunks[0] ? [[u.embedder, u.chunks[0].embedding.length]] : [])));
      // pgvector's HNSW indexes take at most 2,000 dimensions; larger embeddings are searched exactly.
      for (const [embedder, dimensions] of embedders) {
        if (dimensions <= MAX_HNSW_DIMENSIONS) await tx.execute(toHnswIndexSql(embedder, dimensions));
      }
      // Fresh statistics after a bulk change: without them the planner scans the whole term table
      // instead of looking the query's terms up in its index (several times slower at 10k phrasings).
      if (upserts.length > 0 || removals.length > 0) await tx.execute(sql`ANALYZE kb_term, kb_chunk, kb_entry, kb_centroid`);
      return during(connection);
    });
    forgetCopies();
    return result;
  }

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

    applySync: (upserts: EntryUpsert[], removals: string[]) => applySyncWith(upserts, removals, async () => undefined),

    applySyncWith,

    async generation() {
      const [row] = await database.run(KB_GENERATION_NOW, {});
      return row?.generation ?? '';
    },

    searchVector: (embedding, embedder, limit) =>
      database.run(searchStatement('chunks', embedder, embedding.length), { query: `[${embedding.join(',')}]`, limit }),

    searchLexical,

    searchCentroids: (embedding, embedder, limit) =>
      database.run(searchStatement('centroids', embedder, embedding.length), { query: `[${embedding.join(',')}]`, limit }),

    search,

    async entriesOfTopics(topics) {
      if (topics.length === 0) return [];
      // Served from memory while the knowledge base is as the latest search saw it (a sync here or in
      // another instance changes the generation; a local sync also drops the copy).
      if (seenGeneration !== undefined) {
        if (!cache || cache.generation !== seenGeneration) {
          const rows = await db.select({ entry: kbEntry, generation: sql<string>`${KB_GENERATION}` }).from(kbEntry);
          const byTopic = new Map<string, StoredEntry[]>();
          for (const row of rows) {
            // Shared by every caller: frozen, so that none can change another's copy.
            const entry = toStoredEntry(row.entry);
            Object.freeze(entry.questions);
            Object.freeze(entry.tags);
            for (const link of entry.links) Object.freeze(link);
            Object.freeze(entry.links);
            Object.freeze(entry);
            const list = byTopic.get(entry.topic);
            if (list) list.push(entry);
            else byTopic.set(entry.topic, [entry]);
          }
          cache = { generation: rows[0]?.generation ?? '', byTopic };
        }
        if (cache.generation === seenGeneration) {
          const wanted = new Set(topics);
          return [...wanted].flatMap((t) => (cache as EntryCache).byTopic.get(t) ?? []);
        }
      }
      const rows = await db.select().from(kbEntry).where(inArray(kbEntry.topic, topics));
      return rows.map(toStoredEntry);
    },

    async listEntries() {
      const rows = await db.select().from(kbEntry).orderBy(kbEntry.id);
      return rows.map(toStoredEntry);
    },
  };
}
