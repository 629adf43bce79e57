import { describe, expect, it } from 'vitest';
import { type CentroidHit, type ChunkHit, createRetriever, type Embedder, type EntryHit, type KnowledgeIndex } from '../../src/core/index.js';
import { fitCalibration } from '../../src/evaluation/run-evaluation.js';

/** A knowledge index that answers every search with fixed hits: the fusion alone is under test. */
function createFixedIndex(hits: { vector: ChunkHit[]; lexical: ChunkHit[]; centroids: CentroidHit[]; entries?: EntryHit[] }): KnowledgeIndex {
  return {
    entryStates: async () => new Map(),
    applySync: async () => {},
    searchVector: async () => hits.vector,
    searchLexical: async (terms) => ({
      hits: hits.lexical,
      idf: new Map(terms.map((t) => [t, 2])),
      maxIdf: 5,
      entries: { hits: hits.entries ?? [], idf: new Map(terms.map((t) => [t, 1])), maxIdf: 3 },
    }),
    searchCentroids: async () => hits.centroids,
    entriesOfTopics: async () => [],
    listEntries: async () => [],
  };
}
const embedder: Embedder = { id: 'fixed', embed: async (texts) => texts.map(() => [1, 0]) };
const hit = (topic: string, score: number): ChunkHit => ({ entryId: topic, topic, version: 1, kind: 'question', score });

describe('retrieval fusion', () => {
  it('ranks an entry that several close phrasings and its centroid agree on above one lucky phrasing', async () => {
    const index = createFixedIndex({
      vector: [hit('lucky', 0.8), hit('agreed', 0.78), hit('agreed', 0.76), hit('agreed', 0.75)],
      lexical: [],
      centroids: [
        { entryId: 'agreed', topic: 'agreed', score: 0.7 },
        { entryId: 'lucky', topic: 'lucky', score: 0.4 },
      ],
    });
    const result = await createRetriever({ index, embedder }).retrieve('card payment declined');
    expect(result.candidates.map((c) => c.topic)).toEqual(['agreed', 'lucky']);
    expect(result.features.share).toBeCloseTo(0.75);
    expect(result.features.centroidMargin).toBeCloseTo(0.3);
  });

  it("ranks the entry whose phrasings together hold the question's words above one phrasing that holds some of them", async () => {
    // "card refused at the shop": entry `single` has one phrasing with "card" and "shop" (the best
    // chunk), entry `together` has "card refused" in one phrasing and "shop" in another.
    const hits = {
      vector: [hit('single', 0.6), hit('together', 0.58), hit('together', 0.5)],
      lexical: [hit('single', 4), hit('together', 3.9)],
      centroids: [
        { entryId: 'single', topic: 'single', score: 0.5 },
        { entryId: 'together', topic: 'together', score: 0.5 },
      ],
    };
    const withoutEntries = await createRetriever({ index: createFixedIndex(hits), embedder }).retrieve('card refused shop');
    expect(withoutEntries.candidates[0]?.topic).toBe('single');
    const entries = [
      { entryId: 'together', topic: 'together', score: 2.6 },
      { entryId: 'single', topic: 'single', score: 1.8 },
    ];
    const result = await createRetriever({ index: createFixedIndex({ ...hits, entries }), embedder }).retrieve('card refused shop');
    expect(result.candidates.map((c) => c.topic)).toEqual(['together', 'single']);
    // The share of the best possible entry score: 2.6 over three known terms of entry idf 1.
    expect(result.features.entryLexical).toBeCloseTo(2.6 / 3);
  });

  it('is more confident when every signal names the same entry than when they disagree', async () => {
    const agreeing = createFixedIndex({
      vector: [hit('a', 0.9), hit('a', 0.85), hit('b', 0.5)],
      lexical: [hit('a', 6)],
      centroids: [
        { entryId: 'a', topic: 'a', score: 0.8 },
        { entryId: 'b', topic: 'b', score: 0.3 },
      ],
    });
    const split = createFixedIndex({
      vector: [hit('a', 0.6), hit('b', 0.59), hit('c', 0.58)],
      lexical: [],
      centroids: [
        { entryId: 'a', topic: 'a', score: 0.3 },
        { entryId: 'b', topic: 'b', score: 0.3 },
      ],
    });
    const sure = await createRetriever({ index: agreeing, embedder }).retrieve('withdrawal pending');
    const unsure = await createRetriever({ index: split, embedder }).retrieve('withdrawal pending');
    expect(sure.features.agreement).toBe(1);
    expect(unsure.features.agreement).toBe(0);
    expect(sure.confidence).toBeGreaterThan(0.5);
    expect(unsure.confidence).toBeLessThan(0.5);
  });

  it('reads the query as if an excluded topic were not in the knowledge base', async () => {
    const index = createFixedIndex({
      vector: [hit('deposit', 0.9), hit('withdrawal', 0.85), hit('deposit', 0.8), hit('withdrawal', 0.8)],
      lexical: [hit('deposit', 5), hit('withdrawal', 4)],
      centroids: [
        { entryId: 'deposit', topic: 'deposit', score: 0.8 },
        { entryId: 'withdrawal', topic: 'withdrawal', score: 0.7 },
      ],
      entries: [
        { entryId: 'deposit', topic: 'deposit', score: 2 },
        { entryId: 'withdrawal', topic: 'withdrawal', score: 1.5 },
      ],
    });
    const retriever = createRetriever({ index, embedder });
    expect((await retriever.retrieve('my withdrawal hasnt arrived')).candidates[0]?.topic).toBe('deposit');
    const without = await retriever.retrieve('my withdrawal hasnt arrived', 5, { exclude: new Set(['deposit']) });
    expect(without.candidates.map((c) => c.topic)).toEqual(['withdrawal']);
    expect(without.features.share).toBe(1);
    expect(without.features.agreement).toBe(1);
  });
});

describe('calibration fit', () => {
  it('learns that a larger margin means a right answer, and gives probabilities that match the rates', () => {
    const zero = { fused: 0, coverage: 1, agreement: 0, share: 0, centroid: 0, centroidMargin: 0, lexical: 0, entryLexical: 0 };
    const samples = [
      ...Array.from({ length: 40 }, (_, i) => ({ features: { ...zero, margin: 0.3 }, correct: i < 36 })),
      ...Array.from({ length: 40 }, (_, i) => ({ features: { ...zero, margin: 0.0 }, correct: i < 8 })),
    ];
    const calibration = fitCalibration(samples, 25, 1e-4);
    expect(calibration.margin).toBeGreaterThan(0);
    const p = (margin: number) => 1 / (1 + Math.exp(-(calibration.bias + calibration.coverage + calibration.margin * margin)));
    expect(p(0.3)).toBeCloseTo(0.9, 1);
    expect(p(0)).toBeCloseTo(0.2, 1);
  });
});
