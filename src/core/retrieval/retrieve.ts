import type { RetrievalResult, RetrievedEntry } from '../model.js';
import type { ChunkHit, Embedder, EntryHit, KnowledgeIndex, SearchResults } from '../ports.js';
import { toTerms } from './tokenize.js';

/**
 * What the confidence is computed from, all in [0,1] or close to it:
 * - `fused`: the fused score of the top entry, `margin`: its lead over the runner-up;
 * - `coverage`: the share of the query's term weight (idf) that the knowledge base knows at all;
 * - `agreement`: 1 when the nearest phrasing, the best BM25 chunk and the fused ranking name the same entry;
 * - `share`: the share of the 10 nearest chunks that belong to the top entry (k-NN vote);
 * - `centroid`: similarity to the top entry's centroid, `centroidMargin`: its lead over the best other centroid;
 * - `lexical`: the top entry's best chunk by BM25, `entryLexical`: the top entry by BM25 over whole
 *   entries, each over the score of a document holding every query term once at average length.
 */
export interface RetrievalFeatures {
  fused: number;
  margin: number;
  coverage: number;
  agreement: number;
  share: number;
  centroid: number;
  centroidMargin: number;
  lexical: number;
  entryLexical: number;
}

export const FEATURE_NAMES = [
  'fused',
  'margin',
  'coverage',
  'agreement',
  'share',
  'centroid',
  'centroidMargin',
  'lexical',
  'entryLexical',
] as const satisfies ReadonlyArray<keyof RetrievalFeatures>;

/** A logistic model of "the top entry is right": a bias and one weight per feature. */
export type Calibration = { bias: number } & RetrievalFeatures;

/**
 * Weights of the fusion and of the confidence calibration. The defaults were tuned on the public
 * dev sets (`npm run eval -- --fit`): confidence is the probability that the top entry is the right
 * one, so a threshold of 0.5 means "more likely right than wrong".
 */
export interface RetrievalTuning {
  vectorWeight: number;
  lexicalWeight: number;
  /** Weight of the similarity to the entry's centroid (nearest-centroid classifier). */
  centroidWeight: number;
  /**
   * Weight of BM25 over whole entries: the lexical nearest-centroid, where every phrasing of an entry
   * adds its words (a question worded like none of the phrasings alone still matches their union).
   */
  entryLexicalWeight: number;
  /**
   * Weight of an entry's second-nearest phrasing against its nearest (k-NN voting): an entry that
   * several phrasings agree on beats one lucky phrasing. An entry with one phrasing in reach counts
   * it twice, so entries with few phrasings are not penalized.
   */
  secondNeighbourWeight: number;
  /** How much a match on a body passage counts against a match on a title or question. */
  passageDiscount: number;
  candidateChunks: number;
  calibration: Calibration;
}

export const DEFAULT_TUNING: RetrievalTuning = {
  vectorWeight: 0.6,
  lexicalWeight: 0.3,
  centroidWeight: 0.5,
  entryLexicalWeight: 0.3,
  secondNeighbourWeight: 0.3,
  passageDiscount: 0.85,
  candidateChunks: 60,
  // Fitted jointly on banking77, clinc150 and banking77-oos dev (each set weighted equally) with
  // `npm run eval -- --kb … --queries … (the three sets) --fit`.
  calibration: {
    bias: -3.066,
    fused: 1.187,
    margin: 3.17,
    coverage: 0.828,
    agreement: 0.653,
    share: 2.431,
    centroid: 1.461,
    centroidMargin: 0.582,
    lexical: -2.273,
    entryLexical: 0.356,
  },
};

export interface Retriever {
  /**
   * The entries closest to `text`. `exclude` names topics to read the query as if they were not in
   * the knowledge base (the customer took them back): their hits leave every ranking and vote.
   */
  retrieve(text: string, limit?: number, options?: { exclude?: ReadonlySet<string> }): Promise<RetrievalResult & { features: RetrievalFeatures }>;
}

function withoutTopics(results: SearchResults, exclude: ReadonlySet<string> | undefined): SearchResults {
  if (!exclude || exclude.size === 0) return results;
  const keep = <T extends { topic: string }>(hits: T[]) => hits.filter((h) => !exclude.has(h.topic));
  const { lexical } = results;
  return {
    vector: keep(results.vector),
    centroids: keep(results.centroids),
    lexical: lexical && { ...lexical, hits: keep(lexical.hits), entries: { ...lexical.entries, hits: keep(lexical.entries.hits) } },
  };
}

export function toConfidence(features: RetrievalFeatures, calibration: Calibration): number {
  let z = calibration.bias;
  for (const name of FEATURE_NAMES) z += calibration[name] * features[name];
  return 1 / (1 + Math.exp(-z));
}

interface TopicHits {
  /** Scores of the topic's chunks among the hits, best first (passages discounted). */
  scores: number[];
  /** The entry (language) and version of the best chunk. */
  entryId: string;
  version: number;
  best: number;
}

function groupByTopic(hits: ChunkHit[], passageDiscount: number): Map<string, TopicHits> {
  const topics = new Map<string, TopicHits>();
  for (const hit of hits) {
    const score = hit.kind === 'passage' ? hit.score * passageDiscount : hit.score;
    const current = topics.get(hit.topic);
    if (!current) topics.set(hit.topic, { scores: [score], entryId: hit.entryId, version: hit.version, best: score });
    else {
      current.scores.push(score);
      if (score > current.best) Object.assign(current, { entryId: hit.entryId, version: hit.version, best: score });
    }
  }
  for (const t of topics.values()) t.scores.sort((a, b) => b - a);
  return topics;
}

/**
 * The embedding if it can be searched for: a text with no features (only punctuation or emoji)
 * embeds to the zero vector, whose cosine distance is undefined.
 */
function searchable(embedding: number[] | undefined): number[] | undefined {
  return embedding?.some((x) => x !== 0) ? embedding : undefined;
}

/** The best score of each topic's entries (an entry and its translation share a topic). */
function bestPerTopic(hits: EntryHit[]): Map<string, number> {
  const best = new Map<string, number>();
  for (const hit of hits) best.set(hit.topic, Math.max(best.get(hit.topic) ?? -1, hit.score));
  return best;
}

/**
 * Hybrid retrieval: nearest phrasings (pgvector, k-NN voting), BM25 over Chinese-aware terms and
 * the entries' centroids, fused per topic (an entry and its translation), with a calibrated
 * confidence for the answer-or-escalate decision.
 */
export function createRetriever(deps: { index: KnowledgeIndex; embedder: Embedder; tuning?: RetrievalTuning }): Retriever {
  const { index, embedder } = deps;
  const tuning = deps.tuning ?? DEFAULT_TUNING;
  return {
    async retrieve(text, limit = 5, options) {
      const terms = [...new Set(toTerms(text))];
      return fuse(terms, withoutTopics(await search(terms, text), options?.exclude), limit);
    },
  };

  async function search(terms: string[], text: string): Promise<SearchResults> {
    if (index.search) {
      const [embedding] = await embedder.embed([text]);
      return index.search(terms, searchable(embedding), embedder.id, tuning.candidateChunks);
    }
    // The searches run concurrently (on PostgreSQL, on separate pooled connections); the lexical
    // one starts before the embedding, which may be a model API call.
    const lexicalSearch = terms.length > 0 ? index.searchLexical(terms, tuning.candidateChunks) : Promise.resolve(undefined);
    // Settled at once so that a failing embedder does not leave the lexical promise unobserved.
    lexicalSearch.catch(() => undefined);
    const embedding = searchable((await embedder.embed([text]))[0]);
    const [lexical, vector, centroids] = await Promise.all([
      lexicalSearch,
      embedding ? index.searchVector(embedding, embedder.id, tuning.candidateChunks) : [],
      embedding ? index.searchCentroids(embedding, embedder.id, tuning.candidateChunks) : [],
    ]);
    return { lexical, vector, centroids };
  }

  function fuse(
    terms: string[],
    { lexical, vector: vectorHits, centroids: centroidHits }: SearchResults,
    limit: number,
  ): RetrievalResult & { features: RetrievalFeatures } {
    // BM25 of a chunk holding every query term once, at average length, is the sum of their
    // idf; unknown terms count at the highest idf, so questions about things the knowledge base
    // never mentions score low.
    let lexicalMax = 0;
    let knownWeight = 0;
    let entryLexicalMax = 0;
    if (lexical) {
      for (const term of terms) {
        const idf = lexical.idf.get(term) ?? null;
        lexicalMax += idf ?? lexical.maxIdf;
        knownWeight += idf ?? 0;
        entryLexicalMax += lexical.entries.idf.get(term) ?? lexical.entries.maxIdf;
      }
    }
    const coverage = lexicalMax > 0 ? knownWeight / lexicalMax : 0;
    const vectorTopics = groupByTopic(vectorHits, tuning.passageDiscount);
    const lexicalTopics = groupByTopic(lexical?.hits ?? [], tuning.passageDiscount);
    const centroids = bestPerTopic(centroidHits);
    const entryLexicalTopics = bestPerTopic(lexical?.entries.hits ?? []);
    const topics = new Set([...vectorTopics.keys(), ...lexicalTopics.keys()]);
    const k = tuning.secondNeighbourWeight;
    const candidates: Array<RetrievedEntry & { centroid: number; entryLexical: number }> = [];
    for (const topic of topics) {
      const v = vectorTopics.get(topic);
      const l = lexicalTopics.get(topic);
      const first = v?.scores[0] ?? 0;
      const vectorSimilarity = Math.max(0, (first + k * (v?.scores[1] ?? first)) / (1 + k));
      const lexicalScore = lexicalMax > 0 ? Math.min(1, (l?.scores[0] ?? 0) / lexicalMax) : 0;
      const centroid = Math.max(0, centroids.get(topic) ?? 0);
      // Not capped at 1 as the chunk score is: an entry whose phrasings repeat the query's terms
      // scores above that reference, and that extra evidence ranks better than a cap (measured).
      const entryLexical = entryLexicalMax > 0 ? (entryLexicalTopics.get(topic) ?? 0) / entryLexicalMax : 0;
      candidates.push({
        topic,
        entryId: (v ?? l)?.entryId ?? topic,
        version: (v ?? l)?.version ?? 0,
        score:
          tuning.vectorWeight * vectorSimilarity +
          tuning.lexicalWeight * lexicalScore +
          tuning.centroidWeight * centroid +
          tuning.entryLexicalWeight * entryLexical,
        vectorSimilarity,
        lexicalScore,
        centroid,
        entryLexical,
      });
    }
    candidates.sort((a, b) => b.score - a.score || a.topic.localeCompare(b.topic));
    const best = candidates[0];
    const nearest10 = vectorHits.slice(0, 10);
    let otherCentroid = 0;
    for (const [topic, score] of centroids) if (topic !== best?.topic) otherCentroid = Math.max(otherCentroid, score);
    const features: RetrievalFeatures = {
      fused: best?.score ?? 0,
      margin: (best?.score ?? 0) - (candidates[1]?.score ?? 0),
      coverage,
      agreement: best && vectorHits[0]?.topic === best.topic && lexical?.hits[0]?.topic === best.topic ? 1 : 0,
      share: best && nearest10.length > 0 ? nearest10.filter((h) => h.topic === best.topic).length / nearest10.length : 0,
      centroid: best?.centroid ?? 0,
      centroidMargin: (best?.centroid ?? 0) - otherCentroid,
      lexical: best?.lexicalScore ?? 0,
      entryLexical: best?.entryLexical ?? 0,
    };
    return {
      candidates: candidates.slice(0, limit).map(({ centroid: _, entryLexical: __, ...entry }) => entry),
      confidence: best ? toConfidence(features, tuning.calibration) : 0,
      embedder: embedder.id,
      features,
    };
  }
}
