import {
  buildLexicalReplica,
  buildVectorReplica,
  type HitTuple,
  type LexicalChunkRow,
  type LexicalReplica,
  type LexicalResult,
  nearestByCosine,
  searchLexicalReplica,
  searchVectorReplica,
  toCosineIndex,
  type VectorReplica,
} from '../../../src/adapters/postgres/knowledge-index/kb-replica.js';
import type {
  CentroidHit,
  ChunkHit,
  ChunkInput,
  EntryState,
  EntryUpsert,
  KnowledgeIndex,
  LexicalSearch,
  SearchResults,
  StoredEntry,
} from '../../../src/core/index.js';

/** BM25's parameters, as the PostgreSQL index passes them. */
const BM25 = { k1: 1.2, b: 0.75 };

interface StoredChunk extends ChunkInput {
  id: number;
  entryId: string;
  topic: string;
  version: number;
  embedder: string;
}

const toHit = ([entryId, topic, version, kind, score]: HitTuple): ChunkHit => ({ entryId, topic, version, kind, score });

/** The idf of each query term (null when no document holds it) and the most informative one possible. */
function toIdf(terms: string[], documents: number, known: Array<[string, number, number]> | null) {
  const idf = new Map<string, number | null>(terms.map((t) => [t, null]));
  for (const [term, , value] of documents > 0 ? (known ?? []) : []) idf.set(term, value);
  return { idf, maxIdf: Math.log(1 + (documents - 1 + 0.5) / 1.5) };
}

function toLexicalSearch(terms: string[], result: LexicalResult): LexicalSearch {
  const entries = {
    hits: result.e > 0 ? (result.entry_hits ?? []).map(([entryId, topic, score]) => ({ entryId, topic, score })) : [],
    ...toIdf(terms, result.e, result.entry_terms),
  };
  return { hits: result.n > 0 && result.terms ? (result.hits ?? []).map(toHit) : [], ...toIdf(terms, result.n, result.terms), entries };
}

function countTerms(terms: string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return [...counts];
}

/**
 * The knowledge index in memory, for core tests: entries, chunks and centroids as the PostgreSQL
 * index stores them, searched by the same in-memory BM25 and cosine that index uses for its copies
 * (kb-replica), so rankings and scores are the adapter's (test/integration/store-contracts.test.ts
 * compares them). Chunk ids grow with every sync, as the table's serial ids do (ties go by id).
 */
export function createMemoryKnowledgeIndex(): KnowledgeIndex {
  const entries = new Map<string, StoredEntry & { embedder: string }>();
  const chunks = new Map<string, StoredChunk[]>();
  const centroids = new Map<string, { topic: string; embedder: string; embedding: number[] }>();
  let nextChunkId = 1;
  // Copies of the search data, rebuilt after each sync.
  let lexical: LexicalReplica | undefined;
  const vectors = new Map<string, VectorReplica>();
  const centroidCopies = new Map<string, { entries: Array<{ entryId: string; topic: string }>; index: ReturnType<typeof toCosineIndex> }>();

  const allChunks = () => [...chunks.values()].flat().sort((a, b) => a.id - b.id);

  function lexicalCopy(): LexicalReplica {
    if (lexical) return lexical;
    const list = allChunks();
    const rows: LexicalChunkRow[] = list.map((c) => [
      c.id,
      c.entryId,
      c.topic,
      c.version,
      c.kind,
      c.terms.length,
      c.terms.length > 0 ? countTerms(c.terms) : null,
    ]);
    const questionTerms = list.filter((c) => c.kind !== 'passage').reduce((n, c) => n + c.terms.length, 0);
    lexical = buildLexicalReplica(
      { chunks: list.length, terms: list.reduce((n, c) => n + c.terms.length, 0), entries: entries.size, entryTerms: questionTerms },
      rows,
    );
    return lexical;
  }

  function vectorCopy(embedder: string, dimensions: number): VectorReplica {
    const key = `${embedder}\u0000${dimensions}`;
    let copy = vectors.get(key);
    if (!copy) {
      const list = allChunks().filter((c) => c.embedder === embedder && c.embedding.length === dimensions);
      copy = buildVectorReplica(
        list.map(({ id, entryId, topic, version, kind }) => ({ id, entryId, topic, version, kind })),
        list.map((c) => c.embedding),
        dimensions,
      );
      vectors.set(key, copy);
    }
    return copy;
  }

  function centroidCopy(embedder: string, dimensions: number) {
    const key = `${embedder}\u0000${dimensions}`;
    let copy = centroidCopies.get(key);
    if (!copy) {
      const list = [...centroids]
        .filter(([, c]) => c.embedder === embedder && c.embedding.length === dimensions)
        .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
      copy = {
        entries: list.map(([entryId, c]) => ({ entryId, topic: c.topic })),
        index: toCosineIndex(
          list.map(([, c]) => c.embedding),
          dimensions,
        ),
      };
      centroidCopies.set(key, copy);
    }
    return copy;
  }

  const searchLexical = async (terms: string[], limit: number) => toLexicalSearch(terms, searchLexicalReplica(lexicalCopy(), terms, limit, BM25));
  const searchVector = async (embedding: number[], embedder: string, limit: number) =>
    searchVectorReplica(vectorCopy(embedder, embedding.length), embedding, limit).map(toHit);
  const searchCentroids = async (embedding: number[], embedder: string, limit: number): Promise<CentroidHit[]> => {
    const copy = centroidCopy(embedder, embedding.length);
    return nearestByCosine(copy.index, embedding, limit).map(({ at, score }) => ({ ...(copy.entries[at] as { entryId: string; topic: string }), score }));
  };
  const copyOf = ({ embedder: _, ...entry }: StoredEntry & { embedder: string }): StoredEntry => structuredClone(entry);

  return {
    async entryStates() {
      return new Map<string, EntryState>(
        [...entries].map(([id, e]) => [id, { source: e.source, contentHash: e.contentHash, version: e.version, embedder: e.embedder }]),
      );
    },

    async applySync(upserts: EntryUpsert[], removals: string[]) {
      lexical = undefined;
      vectors.clear();
      centroidCopies.clear();
      for (const id of removals) {
        entries.delete(id);
        chunks.delete(id);
        centroids.delete(id);
      }
      for (const upsert of upserts) {
        const existing = entries.get(upsert.entry.id);
        const contentChanged = !existing || existing.contentHash !== upsert.contentHash;
        const version = upsert.version ?? (existing ? existing.version + (contentChanged ? 1 : 0) : 1);
        entries.set(upsert.entry.id, {
          ...structuredClone(upsert.entry),
          topic: upsert.topic,
          version,
          contentHash: upsert.contentHash,
          embedder: upsert.embedder,
        });
        centroids.delete(upsert.entry.id);
        if (upsert.centroid) centroids.set(upsert.entry.id, { topic: upsert.topic, embedder: upsert.embedder, embedding: [...upsert.centroid] });
        chunks.set(
          upsert.entry.id,
          upsert.chunks.map((c) => ({
            ...c,
            terms: [...c.terms],
            embedding: [...c.embedding],
            id: nextChunkId++,
            entryId: upsert.entry.id,
            topic: upsert.topic,
            version,
            embedder: upsert.embedder,
          })),
        );
      }
    },

    searchVector,
    searchLexical,
    searchCentroids,

    async search(terms, embedding, embedder, limit): Promise<SearchResults> {
      const [lexicalHits, vector, nearest] = await Promise.all([
        terms.length > 0 ? searchLexical(terms, limit) : undefined,
        embedding ? searchVector(embedding, embedder, limit) : [],
        embedding ? searchCentroids(embedding, embedder, limit) : [],
      ]);
      return { lexical: lexicalHits, vector, centroids: nearest };
    },

    async entriesOfTopics(topics) {
      // Topic by topic, as the PostgreSQL index serves them from its copy.
      const all = [...entries.values()];
      return [...new Set(topics)].flatMap((topic) => all.filter((e) => e.topic === topic).map(copyOf));
    },

    async listEntries() {
      return [...entries.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map(copyOf);
    },
  };
}
