import { type Embedder, normalizeText, segmentWords, stemEnglish, termsOfWords } from '../../core/index.js';

const DIMENSIONS = 512;
const WORD_WEIGHT = 1;
const WORD_PAIR_WEIGHT = 0.6;
const CHAR_GRAM_WEIGHT = 0.3;

/**
 * FNV-1a, 32 bit, continued over `text` from `start` to `end`: a fixed, fast hash so that vectors
 * are the same on every machine and run. A feature's hash is taken over its kind prefix and its
 * parts in turn, as over their concatenation, without building that string.
 */
function fnv1a(hash: number, text: string, start = 0, end = text.length): number {
  for (let i = start; i < end; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash;
}

const FNV_OFFSET = 0x811c9dc5;
const WORD = fnv1a(FNV_OFFSET, 'w:');
const PAIR = fnv1a(FNV_OFFSET, 'p:');
const CHAR_GRAM = fnv1a(FNV_OFFSET, 'c:');

function addFeature(vector: Float64Array, featureHash: number, weight: number): void {
  const hash = featureHash >>> 0;
  // The top bit picks the sign so that collisions cancel out on average instead of piling up.
  vector[hash % DIMENSIONS]! += hash & 0x80000000 ? -weight : weight;
}

/** The hashed feature vector of one text, L2-normalized. */
export function toLocalEmbedding(text: string): number[] {
  const vector = new Float64Array(DIMENSIONS);
  const words = segmentWords(normalizeText(text));
  for (const term of termsOfWords(words)) addFeature(vector, fnv1a(WORD, term), WORD_WEIGHT);
  const latin: string[] = [];
  for (const w of words) if (!w.han) latin.push(stemEnglish(w.word));
  for (let i = 0; i + 1 < latin.length; i++) addFeature(vector, fnv1a(fnv1a(fnv1a(PAIR, latin[i] as string), ' '), latin[i + 1] as string), WORD_PAIR_WEIGHT);
  // Character n-grams of Latin words make typos and word forms land near each other.
  for (const word of latin) {
    const padded = `<${word}>`;
    for (const n of [3, 4]) {
      for (let i = 0; i + n <= padded.length; i++) addFeature(vector, fnv1a(CHAR_GRAM, padded, i, i + n), CHAR_GRAM_WEIGHT);
    }
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  const out = new Array<number>(DIMENSIONS);
  for (let i = 0; i < DIMENSIONS; i++) out[i] = norm > 0 ? Math.round(((vector[i] as number) / norm) * 1e6) / 1e6 : 0;
  return out;
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
