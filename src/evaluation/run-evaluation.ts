import MiniSearch from 'minisearch';
import { createPassageSplitter } from '../adapters/local/passage-splitter.js';
import { openDatabase } from '../adapters/postgres/db/database.js';
import { createPgKnowledgeIndex } from '../adapters/postgres/knowledge-index/pg-knowledge-index.js';
import {
  createRetriever,
  decideEscalation,
  detectLanguage,
  type Embedder,
  type KnowledgeEntry,
  type Calibration,
  FEATURE_NAMES,
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
  /** Knowledge entries; a query's label is the topic of its entry (the id for an eval set). */
  entries: KnowledgeEntry[];
  queries: EvalQuery[];
  embedder: Embedder;
  threshold: number;
  tuning: RetrievalTuning;
  databaseUrl?: string | undefined;
}): Promise<EvaluationRun> {
  const database = await openDatabase({ databaseUrl: options.databaseUrl, dataDir: 'memory://' });
  try {
    await database.migrate();
    const index = createPgKnowledgeIndex(database);
    const indexStarted = performance.now();
    // A shared database may hold another knowledge base: this replaces it for the run.
    await syncKnowledge(options.entries, {
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

// MiniSearch's default tokenizer splits on spaces and punctuation only, which leaves a Chinese
// sentence as one token; a user indexing Chinese would give it a word segmenter, so the peer gets one.
const peerSegmenter = new Intl.Segmenter('zh', { granularity: 'word' });
const tokenizeForPeer = (text: string) => [...peerSegmenter.segment(text)].filter((s) => s.isWordLike).map((s) => s.segment);

/**
 * The peer: MiniSearch (BM25) over every phrasing, an entry ranked by its best phrasing. Its
 * threshold figures use the best threshold for it on the same queries (an oracle, in its favour).
 */
export function evaluateMiniSearch(
  documents: Array<{ topic: string; texts: string[] }>,
  queries: EvalQuery[],
  options: { segmentWords?: boolean } = {},
): EvaluationFigures & { threshold: number } {
  const search = new MiniSearch<{ id: number; entry: string; text: string }>({
    fields: ['text'],
    storeFields: ['entry'],
    ...(options.segmentWords ? { tokenize: tokenizeForPeer } : {}),
  });
  let next = 0;
  search.addAll(documents.flatMap((d) => d.texts.map((text) => ({ id: next++, entry: d.topic, text }))));
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

/**
 * Logistic regression of correctness on the retrieval features (Newton's method, a small ridge
 * penalty): the calibration of confidence. Each sample carries a weight, so that several sets can
 * count equally whatever their sizes. The ridge keeps correlated features (the fused score and the
 * scores it is made of) from cancelling each other with large opposite weights that fit the given
 * sets and carry badly to another knowledge base.
 */
export function fitCalibration(samples: Array<{ features: RetrievalFeatures; correct: boolean; weight?: number }>, iterations = 25, ridge = 1e-3): Calibration {
  const d = FEATURE_NAMES.length + 1;
  const toRow = (f: RetrievalFeatures) => [1, ...FEATURE_NAMES.map((name) => f[name])];
  let w: number[] = new Array(d).fill(0);
  const total = samples.reduce((n, s) => n + (s.weight ?? 1), 0);
  for (let it = 0; it < iterations; it++) {
    const gradient: number[] = new Array(d).fill(0);
    const hessian: number[][] = Array.from({ length: d }, () => new Array(d).fill(0));
    for (const sample of samples) {
      const x = toRow(sample.features);
      const z = x.reduce((acc, xi, i) => acc + xi * (w[i] ?? 0), 0);
      const p = 1 / (1 + Math.exp(-z));
      const weight = (sample.weight ?? 1) / total;
      const err = (p - (sample.correct ? 1 : 0)) * weight;
      const curvature = p * (1 - p) * weight;
      for (let i = 0; i < d; i++) {
        gradient[i]! += err * (x[i] ?? 0);
        for (let j = 0; j < d; j++) hessian[i]![j]! += curvature * (x[i] ?? 0) * (x[j] ?? 0);
      }
    }
    for (let i = 1; i < d; i++) {
      gradient[i]! += ridge * (w[i] ?? 0);
      hessian[i]![i]! += ridge;
    }
    const step = solveLinear(hessian, gradient);
    w = w.map((wi, i) => wi - (step[i] ?? 0));
  }
  const calibration = { bias: Number((w[0] ?? 0).toFixed(3)) } as Calibration;
  FEATURE_NAMES.forEach((name, i) => {
    calibration[name] = Number((w[i + 1] ?? 0).toFixed(3));
  });
  return calibration;
}

/** Gaussian elimination with partial pivoting, for the small Newton systems above. */
function solveLinear(matrix: number[][], rhs: number[]): number[] {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i] ?? 0]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r;
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    const p = a[c]![c]!;
    if (Math.abs(p) < 1e-12) continue;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const m = a[r]![c]! / p;
      for (let j = c; j <= n; j++) a[r]![j]! -= m * a[c]![j]!;
    }
  }
  return a.map((row, i) => (Math.abs(row[i]!) < 1e-12 ? 0 : row[n]! / row[i]!));
}
