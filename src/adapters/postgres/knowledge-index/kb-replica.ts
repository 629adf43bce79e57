import type { ChunkHit } from '../../../core/index.js';

/**
 * A copy in memory of the knowledge base's search data as of one generation, searched exactly as
 * the statements in PostgreSQL search it: BM25 over kb_term (LEXICAL_SEARCH) and the cosine
 * similarity of pgvector's exact scan (1 - (a <=> b)). Pure: loading and invalidating the copies is
 * pg-knowledge-index's.
 */

/** A chunk as a hit names it. */
export interface ReplicaChunk {
  id: number;
  entryId: string;
  topic: string;
  version: number;
  kind: ChunkHit['kind'];
}

/** One hit as the search statements return it: entry, topic, version, kind, score. */
export type HitTuple = [string, string, number, ChunkHit['kind'], number];

/**
 * Vectors held for cosine search, by dimension: for each dimension, the vectors with a non-zero
 * component there and that component (the offline embedder's vectors are mostly zeros; a dense
 * embedder's are stored whole). A query then touches only its own non-zero dimensions.
 */
export interface CosineIndex {
  size: number;
  dimensions: number;
  /** Per vector: the sum of its squared components. */
  norms: Float64Array;
  /** Per dimension: which vectors (ascending) and their components there. */
  columns: Array<{ at: Int32Array; values: Float32Array }>;
}

export function toCosineIndex(vectors: ReadonlyArray<readonly number[]>, dimensions: number): CosineIndex {
  const norms = new Float64Array(vectors.length);
  const counts = new Int32Array(dimensions);
  vectors.forEach((vector, i) => {
    let norm = 0;
    for (let d = 0; d < dimensions; d++) {
      // As stored: pgvector's components are single precision.
      const x = Math.fround(vector[d] ?? 0);
      norm += x * x;
      if (x !== 0) counts[d] = (counts[d] as number) + 1;
    }
    norms[i] = norm;
  });
  const columns = Array.from(counts, (count) => ({ at: new Int32Array(count), values: new Float32Array(count) }));
  const filled = new Int32Array(dimensions);
  vectors.forEach((vector, i) => {
    for (let d = 0; d < dimensions; d++) {
      const x = vector[d] ?? 0;
      if (x === 0) continue;
      const column = columns[d] as CosineIndex['columns'][number];
      const k = filled[d] as number;
      column.at[k] = i;
      column.values[k] = x;
      filled[d] = k + 1;
    }
  });
  return { size: vectors.length, dimensions, norms, columns };
}

/**
 * The `limit` vectors most similar to the query by cosine (as pgvector's 1 - (a <=> b), clamped to
 * [-1, 1]), best first, ties by position. An exact scan: each vector's dot product sums the
 * products of the query's non-zero components in dimension order, as a dense loop would, without
 * the zero terms. Vectors of zero norm are near nothing (pgvector's distance is NaN).
 */
export function nearestByCosine(index: CosineIndex, query: readonly number[], limit: number): Array<{ at: number; score: number }> {
  const dots = new Float64Array(index.size);
  let queryNorm = 0;
  for (let d = 0; d < index.dimensions; d++) {
    const q = query[d] ?? 0;
    if (q === 0) continue;
    queryNorm += q * q;
    const { at, values } = index.columns[d] as CosineIndex['columns'][number];
    for (let k = 0; k < at.length; k++) {
      const i = at[k] as number;
      dots[i] = (dots[i] as number) + q * (values[k] as number);
    }
  }
  const best = new TopK(limit);
  for (let i = 0; i < index.size; i++) {
    const norms = queryNorm * (index.norms[i] as number);
    if (!(norms > 0)) continue;
    best.offer(i, Math.min(1, Math.max(-1, (dots[i] as number) / Math.sqrt(norms))));
  }
  return best.sorted();
}

/**
 * The k best of what is offered: highest score first, ties in `before` order (by default the lower
 * position first). A min-heap of the worst kept: a search over every chunk allocates k slots, not
 * one pair per chunk, and sorts k, not all.
 */
class TopK {
  private readonly at: number[] = [];
  private readonly scores: number[] = [];
  constructor(
    private readonly k: number,
    private readonly before: (a: number, b: number) => number = (a, b) => a - b,
  ) {}

  /** The kept item i is worse than the kept item j. */
  private worse(i: number, j: number): boolean {
    const si = this.scores[i] as number;
    const sj = this.scores[j] as number;
    return si < sj || (si === sj && this.before(this.at[i] as number, this.at[j] as number) > 0);
  }

  private swap(i: number, j: number): void {
    const at = this.at[i] as number;
    this.at[i] = this.at[j] as number;
    this.at[j] = at;
    const score = this.scores[i] as number;
    this.scores[i] = this.scores[j] as number;
    this.scores[j] = score;
  }

  offer(at: number, score: number): void {
    if (this.k <= 0) return;
    if (this.at.length < this.k) {
      this.at.push(at);
      this.scores.push(score);
      for (let i = this.at.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!this.worse(i, parent)) break;
        this.swap(i, parent);
        i = parent;
      }
      return;
    }
    const worst = this.scores[0] as number;
    if (score < worst || (score === worst && this.before(at, this.at[0] as number) > 0)) return;
    this.at[0] = at;
    this.scores[0] = score;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < this.at.length && this.worse(left, least)) least = left;
      if (right < this.at.length && this.worse(right, least)) least = right;
      if (least === i) break;
      this.swap(i, least);
      i = least;
    }
  }

  sorted(): Array<{ at: number; score: number }> {
    return this.at.map((at, i) => ({ at, score: this.scores[i] as number })).sort((a, b) => b.score - a.score || this.before(a.at, b.at));
  }
}

/** The chunks of one embedder and dimension (ascending ids) and their embeddings. */
export interface VectorReplica {
  chunks: ReplicaChunk[];
  index: CosineIndex;
}

export function buildVectorReplica(chunks: ReplicaChunk[], vectors: ReadonlyArray<readonly number[]>, dimensions: number): VectorReplica {
  return { chunks, index: toCosineIndex(vectors, dimensions) };
}

/** The `limit` chunks nearest to the query, as the nearest-chunks statement returns them (ties by chunk id). */
export function searchVectorReplica(replica: VectorReplica, query: readonly number[], limit: number): HitTuple[] {
  return nearestByCosine(replica.index, query, limit).map(({ at, score }) => {
    const c = replica.chunks[at] as ReplicaChunk;
    return [c.entryId, c.topic, c.version, c.kind, score];
  });
}

/** BM25's parameters, as passed to LEXICAL_SEARCH. */
export interface Bm25 {
  k1: number;
  b: number;
}

/** Every chunk (all embedders) with its term counts, and the corpus figures of kb_stats. */
export interface LexicalReplica {
  /** kb_stats.chunks. */
  n: number;
  /** kb_stats.terms / chunks, at least 1 (1 for an empty corpus). */
  avgdl: number;
  chunks: Array<ReplicaChunk & { termCount: number }>;
  /** Per term, the chunks holding it (indexes into chunks) and how often. */
  postings: Map<string, { chunk: number[]; tf: number[] }>;
  /** The entries as documents (title and questions): their number (kb_entry's rows) and average length. */
  entryCount: number;
  entryAvgdl: number;
  /** Per entry: its id, topic and length (kb_entry.question_terms: the term count of its title and questions). */
  entries: Array<{ entryId: string; topic: string; length: number }>;
  /** Per term, the entries whose title or questions hold it (indexes into entries) and how often in all. */
  entryPostings: Map<string, { entry: number[]; tf: number[] }>;
}

/** A chunk row as loaded: id, entry, topic, version, kind, term count, its terms with their counts. */
export type LexicalChunkRow = [number, string, string, number, ChunkHit['kind'], number, Array<[string, number]> | null];

/** As the statement: numeric division, then float8; at least 1, and 1 for an empty corpus. */
const toAvgdl = (documents: number, terms: number) => (documents === 0 ? 1 : Math.max(1, terms / documents));

/**
 * The copy from kb_stats (chunks, terms), kb_entry (entries: rows, sum of question_terms) and every
 * chunk. An entry's document is made of its title and question chunks, so its term frequencies and
 * length are sums over them (sync writes question_terms as that sum).
 */
export function buildLexicalReplica(
  stats: { chunks: number; terms: number; entries: number; entryTerms: number },
  rows: readonly LexicalChunkRow[],
): LexicalReplica {
  const chunks: LexicalReplica['chunks'] = [];
  const postings: LexicalReplica['postings'] = new Map();
  const entries: LexicalReplica['entries'] = [];
  const entryAt = new Map<string, number>();
  const entryTf = new Map<string, Map<number, number>>();
  for (const [id, entryId, topic, version, kind, termCount, terms] of rows) {
    const index = chunks.push({ id: Number(id), entryId, topic, version, kind, termCount }) - 1;
    for (const [term, tf] of terms ?? []) {
      const list = postings.get(term);
      if (list) {
        list.chunk.push(index);
        list.tf.push(tf);
      } else postings.set(term, { chunk: [index], tf: [tf] });
    }
    if (kind === 'passage') continue;
    let at = entryAt.get(entryId);
    if (at === undefined) {
      at = entries.push({ entryId, topic, length: 0 }) - 1;
      entryAt.set(entryId, at);
    }
    (entries[at] as LexicalReplica['entries'][number]).length += termCount;
    for (const [term, tf] of terms ?? []) {
      let counts = entryTf.get(term);
      if (!counts) entryTf.set(term, (counts = new Map()));
      counts.set(at, (counts.get(at) ?? 0) + tf);
    }
  }
  const entryPostings: LexicalReplica['entryPostings'] = new Map();
  for (const [term, counts] of entryTf) entryPostings.set(term, { entry: [...counts.keys()], tf: [...counts.values()] });
  const n = Number(stats.chunks);
  const entryCount = Number(stats.entries);
  return {
    n,
    avgdl: toAvgdl(n, Number(stats.terms)),
    chunks,
    postings,
    entryCount,
    entryAvgdl: toAvgdl(entryCount, Number(stats.entryTerms)),
    entries,
    entryPostings,
  };
}

/**
 * What LEXICAL_SEARCH returns for one query: the corpus size, the known terms [term, df, idf] (null
 * if none), the hits (null if none); and the same over entries as documents: their number, the terms
 * an entry's title or questions hold, the entries [entry, topic, score].
 */
export interface LexicalResult {
  n: number;
  terms: Array<[string, number, number]> | null;
  hits: HitTuple[] | null;
  e: number;
  entry_terms: Array<[string, number, number]> | null;
  entry_hits: Array<[string, string, number]> | null;
}

const byCodePoint = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** BM25's idf of a term held by `df` of `documents`, as LEXICAL_SEARCH computes it. */
export function bm25Idf(documents: number, df: number): number {
  return Math.log(1 + (documents - df + 0.5) / (df + 0.5));
}

/**
 * BM25 of the query's distinct terms, exactly as LEXICAL_SEARCH: idf from each known term's
 * document frequency; each chunk's score summed in term order (the database's C collation is code
 * point order); the best `limit` chunks, ties by chunk id.
 */
export function searchLexicalReplica(replica: LexicalReplica, terms: readonly string[], limit: number, { k1, b }: Bm25): LexicalResult {
  const { n, avgdl } = replica;
  const distinct = [...new Set(terms)].sort(byCodePoint);
  const known = distinct
    .filter((term) => replica.postings.has(term))
    .map((term) => {
      const list = replica.postings.get(term) as { chunk: number[]; tf: number[] };
      const df = list.chunk.length;
      return { term, df, idf: bm25Idf(n, df), list };
    });
  const byEntry = searchEntries(replica, distinct, limit, { k1, b });
  if (known.length === 0) return { n, terms: null, hits: null, ...byEntry };
  const k1p1 = k1 + 1;
  const scores = new Map<number, number>();
  for (const { idf, list } of known) {
    for (let i = 0; i < list.chunk.length; i++) {
      const index = list.chunk[i] as number;
      const tf = list.tf[i] as number;
      const chunk = replica.chunks[index] as LexicalReplica['chunks'][number];
      const part = (idf * tf * k1p1) / (tf + k1 * (1 - b + (b * chunk.termCount) / avgdl));
      const sum = scores.get(index);
      scores.set(index, sum === undefined ? part : sum + part);
    }
  }
  const best = new TopK(limit, (x, y) => (replica.chunks[x] as ReplicaChunk).id - (replica.chunks[y] as ReplicaChunk).id);
  scores.forEach((score, index) => {
    best.offer(index, score);
  });
  return {
    n,
    terms: known.map(({ term, df, idf }) => [term, df, idf]),
    hits: best.sorted().map(({ at: index, score }) => {
      const c = replica.chunks[index] as ReplicaChunk;
      return [c.entryId, c.topic, c.version, c.kind, score];
    }),
    ...byEntry,
  };
}

/** BM25 over entries as documents, as LEXICAL_SEARCH's entry part: each score summed in term order, ties by entry id. */
function searchEntries(
  replica: LexicalReplica,
  sortedTerms: readonly string[],
  limit: number,
  { k1, b }: Bm25,
): Pick<LexicalResult, 'e' | 'entry_terms' | 'entry_hits'> {
  const e = replica.entryCount;
  const known = sortedTerms
    .filter((term) => replica.entryPostings.has(term))
    .map((term) => {
      const list = replica.entryPostings.get(term) as { entry: number[]; tf: number[] };
      const df = list.entry.length;
      return { term, df, idf: bm25Idf(e, df), list };
    });
  if (known.length === 0) return { e, entry_terms: null, entry_hits: null };
  const scores = new Map<number, number>();
  for (const { idf, list } of known) {
    for (let i = 0; i < list.entry.length; i++) {
      const index = list.entry[i] as number;
      const tf = list.tf[i] as number;
      const { length } = replica.entries[index] as LexicalReplica['entries'][number];
      const part = (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length) / replica.entryAvgdl));
      const sum = scores.get(index);
      scores.set(index, sum === undefined ? part : sum + part);
    }
  }
  const best = new TopK(limit, (x, y) =>
    byCodePoint((replica.entries[x] as LexicalReplica['entries'][number]).entryId, (replica.entries[y] as LexicalReplica['entries'][number]).entryId),
  );
  scores.forEach((score, index) => {
    best.offer(index, score);
  });
  return {
    e,
    entry_terms: known.map(({ term, df, idf }) => [term, df, idf]),
    entry_hits: best.sorted().map(({ at: index, score }) => {
      const entry = replica.entries[index] as LexicalReplica['entries'][number];
      return [entry.entryId, entry.topic, score];
    }),
  };
}
