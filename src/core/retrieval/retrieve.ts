import type { RetrievalResult, RetrievedEntry } from '../model.js';
import type { ChunkHit, Embedder, KnowledgeIndex } from '../ports.js';
import { toTerms } from './tokenize.js';

/**
 * Weights of the fusion and of the confidence calibration. The defaults were fitted by logistic
 * regression on the public dev sets (`npm run eval -- --fit`): confidence is the probability that the
 * top entry is the right one, so a threshold of 0.5 means "more likely right than wrong".
 */
export interface RetrievalTuning {
  vectorWeight: number;
  lexicalWeight: number;
  /** How much a match on a body passage counts against a match on a title or question. */
  passageDiscount: number;
  candidateChunks: number;
  calibration: { bias: number; fused: number; margin: number; coverage: number };
}

export const DEFAULT_TUNING: RetrievalTuning = {
  vectorWeight: 0.6,
  lexicalWeight: 0.4,
  passageDiscount: 0.85,
  candidateChunks: 60,
  // Fitted jointly on banking77, clinc150 and banking77-oos dev (each set weighted equally).
  calibration: { bias: -2.485, fused: 1.222, margin: 12.911, coverage: 1.383 },
};

export interface RetrievalFeatures {
  fused: number;
  margin: number;
  coverage: number;
}

export interface Retriever {
  retrieve(text: string, limit?: number): Promise<RetrievalResult & { features: RetrievalFeatures }>;
}

export function toConfidence(features: RetrievalFeatures, calibration: RetrievalTuning['calibration']): number {
  const z =
    calibration.bias +
    calibration.fused * features.fused +
    calibration.margin * features.margin +
    calibration.coverage * features.coverage;
  return 1 / (1 + Math.exp(-z));
}

function bestPerTopic(hits: ChunkHit[], passageDiscount: number): Map<string, { score: number; entryId: string; version: number }> {
  const best = new Map<string, { score: number; entryId: string; version: number }>();
  for (const hit of hits) {
    const score = hit.kind === 'passage' ? hit.score * passageDiscount : hit.score;
    const current = best.get(hit.topic);
    if (!current || score > current.score) best.set(hit.topic, { score, entryId: hit.entryId, version: hit.version });
  }
  return best;
}

/**
 * Hybrid retrieval: pgvector similarity and BM25 over Chinese-aware terms, fused per topic (an entry
 * and its translation), with a calibrated confidence for the answer-or-escalate decision.
 */
export function createRetriever(deps: {
  index: KnowledgeIndex;
  embedder: Embedder;
  tuning?: RetrievalTuning;
}): Retriever {
  const { index, embedder } = deps;
  const tuning = deps.tuning ?? DEFAULT_TUNING;
  return {
    async retrieve(text, limit = 5) {
      const terms = [...new Set(toTerms(text))];
      const [[embedding], lexical] = await Promise.all([
        embedder.embed([text]),
        terms.length > 0 ? index.searchLexical(terms, tuning.candidateChunks) : Promise.resolve(undefined),
      ]);
      // A text with no features (only punctuation or emoji) embeds to the zero vector, whose cosine
      // distance is undefined: nothing to search for.
      const searchable = embedding !== undefined && embedding.some((x) => x !== 0);
      const vectorHits = searchable ? await index.searchVector(embedding, embedder.id, tuning.candidateChunks) : [];

      // BM25 of a chunk holding every query term once, at average length, is the sum of their
      // idf; unknown terms count at the highest idf, so questions about things the knowledge base
      // never mentions score low.
      let lexicalMax = 0;
      let knownWeight = 0;
      if (lexical) {
        for (const term of terms) {
          const idf = lexical.idf.get(term) ?? null;
          lexicalMax += idf ?? lexical.maxIdf;
          knownWeight += idf ?? 0;
        }
      }
      const coverage = lexicalMax > 0 ? knownWeight / lexicalMax : 0;
      const vectorBest = bestPerTopic(vectorHits, tuning.passageDiscount);
      const lexicalBest = bestPerTopic(lexical?.hits ?? [], tuning.passageDiscount);
      const topics = new Set([...vectorBest.keys(), ...lexicalBest.keys()]);
      const candidates: RetrievedEntry[] = [];
      for (const topic of topics) {
        const v = vectorBest.get(topic);
        const l = lexicalBest.get(topic);
        const vectorSimilarity = Math.max(0, v?.score ?? 0);
        const lexicalScore = lexicalMax > 0 ? Math.min(1, (l?.score ?? 0) / lexicalMax) : 0;
        candidates.push({
          topic,
          entryId: (v ?? l)?.entryId ?? topic,
          version: (v ?? l)?.version ?? 0,
          score: tuning.vectorWeight * vectorSimilarity + tuning.lexicalWeight * lexicalScore,
          vectorSimilarity,
          lexicalScore,
        });
      }
      candidates.sort((a, b) => b.score - a.score || a.topic.localeCompare(b.topic));
      const top = candidates.slice(0, limit);
      const features: RetrievalFeatures = {
        fused: top[0]?.score ?? 0,
        margin: (top[0]?.score ?? 0) - (top[1]?.score ?? 0),
        coverage,
      };
      return {
        candidates: top,
        confidence: top.length > 0 ? toConfidence(features, tuning.calibration) : 0,
        embedder: embedder.id,
        features,
      };
    },
  };
}
