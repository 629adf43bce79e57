import MiniSearch from 'minisearch';
import { createPassageSplitter } from '../adapters/local/passage-splitter.js';
import { openDatabase } from '../adapters/postgres/database.js';
import { createPgKnowledgeIndex } from '../adapters/postgres/pg-knowledge-index.js';
import {
  createRetriever,
  decideEscalation,
  detectLanguage,
  type Embedder,
  type KnowledgeEntry,
  type RetrievalFeatures,
  type RetrievalTuning,
  syncKnowledge,
} from '../core/index.js';
import type { EvalEntry, EvalQuery } from './eval-set.js';
import { type EvaluationFigures, type QueryOutcome, toFigures } from './metrics.js';

const RANK_DEPTH = 10;

export function toKnowledgeEntry(entry: EvalEntry): KnowledgeEntry {
  return {
    id: entry.id,
    lang: detectLanguage(entry.questions.join(' ')) ?? 'en',
    title: entry.id.replace(/[_-]+/g, ' '),
    questions: entry.questions,
    tags: [],
    links: [],
    translation: undefined,
    body: entry.answer,
    source: `${entry.id}.jsonl`,
  };
}

export interface EvaluationRun {
  figures: EvaluationFigures;
  /** Features and correctness of each covered-or-not query, to fit the calibration. */
  samples: Array<{ features: RetrievalFeatures; correct: boolean }>;
  indexMs: number;
  queryMs: number;
}

/**
 * Runs every query through exactly the bot's retrieval and escalation decision over a throwaway
 * knowledge base built from the entries (an in-memory PGlite unless a database URL is given).
 */
export async function evaluateHelpdesk(options: {
  entries: EvalEntry[];
  queries: EvalQuery[];
  embedder: Embedder;
  threshold: number;
  tuning: RetrievalTuning;
  databaseUrl?: string | undefined;
}): Promise<EvaluationRun> {
  const database = await openDatabase({ databaseUrl: options.databaseUrl, dataDir: 'memory://' });
  try {
    await database.migrate();
    const index = createPgKnowledgeIndex(database.db);
    const indexStarted = performance.now();
    // A shared database may hold another knowledge base: this replaces it for the run.
    await syncKnowledge(options.entries.map(toKnowledgeEntry), {
      index,
      embedder: options.embedder,
      splitPassages: createPassageSplitter(),
    });
    const indexMs = performance.now() - indexStarted;
    const retriever = createRetriever({ index, embedder: options.embedder, tuning: options.tuning });
    const outcomes: QueryOutcome[] = [];
    const samples: EvaluationRun['samples'] = [];
    const queryStarted = performance.now();
    for (const query of options.queries) {
      const result = await retriever.retrieve(query.text, RANK_DEPTH);
      const decision = decideEscalation({
        text: '',
        action: undefined,
        confidence: result.confidence,
        threshold: options.threshold,
        topTopic: result.candidates[0]?.topic,
        recentAnswerTopics: [],
        failed: false,
      });
      const ranked = result.candidates.map((c) => c.topic);
      outcomes.push({ label: query.label, ranked, confidence: result.confidence, answered: decision === null });
      samples.push({ features: result.features, correct: query.label !== null && ranked[0] === query.label });
    }
    return { figures: toFigures(outcomes), samples, indexMs, queryMs: performance.now() - queryStarted };
  } finally {
    await database.close();
  }
}

/**
 * The peer: MiniSearch (BM25) over every phrasing, an entry ranked by its best phrasing. Its
 * threshold figures use the best threshold for it on the same queries (an oracle, in its favour).
 */
export function evaluateMiniSearch(entries: EvalEntry[], queries: EvalQuery[]): EvaluationFigures & { threshold: number } {
  const search = new MiniSearch<{ id: number; entry: string; text: string }>({ fields: ['text'], storeFields: ['entry'] });
  let next = 0;
  search.addAll(entries.flatMap((e) => e.questions.map((text) => ({ id: next++, entry: e.id, text }))));
  const scored = queries.map((query) => {
    const best = new Map<string, number>();
    for (const hit of search.search(query.text)) {
      const entry = hit.entry as string;
      if (!best.has(entry)) best.set(entry, hit.score);
    }
    const ranked = [...best.keys()].slice(0, RANK_DEPTH);
    return { label: query.label, ranked, confidence: ranked.length > 0 ? (best.get(ranked[0] as string) ?? 0) : 0 };
  });
  const thresholds = [...new Set(scored.map((s) => s.confidence))].sort((a, b) => a - b);
  let bestFigures = toFigures(scored.map((s) => ({ ...s, answered: true })));
  let bestThreshold = 0;
  for (const threshold of thresholds) {
    const figures = toFigures(scored.map((s) => ({ ...s, answered: s.confidence >= threshold })));
    const gain = (f: EvaluationFigures) => f.answeredCorrectly * f.covered - f.harmful * f.queries;
    if (gain(figures) > gain(bestFigures)) {
      bestFigures = figures;
      bestThreshold = threshold;
    }
  }
  return { ...bestFigures, threshold: bestThreshold };
}

/** Logistic regression of correctness on the retrieval features: the calibration of confidence. */
export function fitCalibration(samples: EvaluationRun['samples'], iterations = 3000, rate = 0.5): RetrievalTuning['calibration'] {
  let w = { bias: 0, fused: 0, margin: 0, coverage: 0 };
  const n = samples.length;
  for (let it = 0; it < iterations; it++) {
    const g = { bias: 0, fused: 0, margin: 0, coverage: 0 };
    for (const { features: f, correct } of samples) {
      const z = w.bias + w.fused * f.fused + w.margin * f.margin + w.coverage * f.coverage;
      const err = 1 / (1 + Math.exp(-z)) - (correct ? 1 : 0);
      g.bias += err;
      g.fused += err * f.fused;
      g.margin += err * f.margin;
      g.coverage += err * f.coverage;
    }
    w = {
      bias: w.bias - (rate * g.bias) / n,
      fused: w.fused - (rate * g.fused) / n,
      margin: w.margin - (rate * g.margin) / n,
      coverage: w.coverage - (rate * g.coverage) / n,
    };
  }
  return w;
}
