import { type Embedder, normalizeText, segmentWords, stemEnglish, toTerms } from '../../core/index.js';

const DIMENSIONS = 512;
const WORD_WEIGHT = 1;
const WORD_PAIR_WEIGHT = 0.6;
const CHAR_GRAM_WEIGHT = 0.3;

/** FNV-1a, 32 bit: a fixed, fast hash so that vectors are the same on every machine and run. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function addFeature(vector: Float64Array, feature: string, weight: number): void {
  const hash = fnv1a(feature);
  // The top bit picks the sign so that collisions cancel out on average instead of piling up.
  vector[hash % DIMENSIONS]! += hash & 0x80000000 ? -weight : weight;
}

/** The hashed feature vector of one text, L2-normalized. */
export function toLocalEmbedding(text: string): number[] {
  const vector = new Float64Array(DIMENSIONS);
  for (const term of toTerms(text)) addFeature(vector, `w:${term}`, WORD_WEIGHT);
  const latin = segmentWords(normalizeText(text))
    .filter((w) => !w.han)
    .map((w) => stemEnglish(w.word));
  for (let i = 0; i + 1 < latin.length; i++) addFeature(vector, `p:${latin[i]} ${latin[i + 1]}`, WORD_PAIR_WEIGHT);
  // Character n-grams of Latin words make typos and word forms land near each other.
  for (const word of latin) {
    const padded = `<${word}>`;
    for (const n of [3, 4]) {
      for (let i = 0; i + n <= padded.length; i++) addFeature(vector, `c:${padded.slice(i, i + n)}`, CHAR_GRAM_WEIGHT);
    }
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  return Array.from(vector, (v) => (norm > 0 ? Math.round((v / norm) * 1e6) / 1e6 : 0));
}

/**
 * The offline embedder: feature hashing of words, Chinese character n-grams and Latin character
 * n-grams. Deterministic, no model, no download; good at paraphrases that share words or parts of
 * words, blind to synonyms (which the model embedder handles when configured).
 */
export function createLocalEmbedder(): Embedder {
  return {
    id: `local-hash-v1-${DIMENSIONS}`,
    dimensions: DIMENSIONS,
    async embed(texts) {
      return texts.map(toLocalEmbedding);
    },
  };
}
