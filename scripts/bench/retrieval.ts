import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import { createPassageSplitter } from '../../src/adapters/local/passage-splitter.js';
import { openDatabase } from '../../src/adapters/postgres/db/database.js';
import { createPgKnowledgeIndex } from '../../src/adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { createRetriever, DEFAULT_TUNING, syncKnowledge, toTerms } from '../../src/core/index.js';
import { createRandom, type EvalEntry, type EvalQuery, readEvalSet } from '../../src/evaluation/eval-set.js';
import { toKnowledgeEntry } from '../../src/evaluation/run-evaluation.js';
import { round, summarize } from './stats.js';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

export interface RetrievalSet {
  entries: EvalEntry[];
  warmupQueries: EvalQuery[];
  queries: EvalQuery[];
  phrasings: number;
}

/**
 * The first `entryCount` entries × `perEntry` phrasings of CLINC150, and `warmup + count` dev
 * queries labelled with one of those entries or out of scope (null), in a seeded random order.
 * Returns a reason instead when the eval set is not there.
 */
export async function loadRetrievalSet(
  kbUrl: URL,
  devUrl: URL,
  options: { entryCount?: number; perEntry?: number; warmup?: number; count?: number; seed?: number } = {},
): Promise<RetrievalSet | { missing: string }> {
  const kbPath = fileURLToPath(kbUrl);
  const devPath = fileURLToPath(devUrl);
  for (const path of [kbPath, devPath]) if (!existsSync(path)) return { missing: `${path} not found` };
  const set = await readEvalSet(kbPath, devPath);
  const entries = set.entries.slice(0, options.entryCount ?? 100).map((e) => ({ ...e, questions: e.questions.slice(0, options.perEntry ?? 100) }));
  const ids = new Set(entries.map((e) => e.id));
  const pool = set.queries.filter((q) => q.label === null || ids.has(q.label));
  const random = createRandom(options.seed ?? 1);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j] as EvalQuery, pool[i] as EvalQuery];
  }
  const warmup = options.warmup ?? 50;
  const count = options.count ?? 500;
  if (pool.length < warmup + count) throw new Error(`only ${pool.length} matching dev queries, need ${warmup + count}`);
  return {
    entries,
    warmupQueries: pool.slice(0, warmup),
    queries: pool.slice(warmup, warmup + count),
    phrasings: entries.reduce((n, e) => n + e.questions.length, 0),
  };
}

/**
 * Builds the knowledge index exactly as the eval harness does (openDatabase + migrate,
 * createPgKnowledgeIndex, local embedder, passage splitter, syncKnowledge), then times
 * `retriever.retrieve(text)` per query.
 */
export async function benchRetrieval(set: RetrievalSet, engine: 'pglite' | 'postgres', databaseUrl?: string) {
  const database = await openDatabase({ databaseUrl, dataDir: 'memory://' });
  try {
    await database.migrate();
    if (database.engine !== engine) throw new Error(`expected ${engine}, opened ${database.engine}`);
    const index = createPgKnowledgeIndex(database);
    const embedder = createLocalEmbedder();
    log(`  retrieval ${engine}: indexing ${set.entries.length} entries, ${set.phrasings} phrasings…`);
    const buildT0 = performance.now();
    const report = await syncKnowledge(set.entries.map(toKnowledgeEntry), { index, embedder, splitPassages: createPassageSplitter() });
    const buildMs = performance.now() - buildT0;
    log(`  retrieval ${engine}: index built in ${(buildMs / 1000).toFixed(1)} s (${report.chunksEmbedded} chunks)`);
    const retriever = createRetriever({ index, embedder, tuning: DEFAULT_TUNING });
    for (const q of set.warmupQueries) await retriever.retrieve(q.text);
    const samples: number[] = [];
    let labelled = 0;
    let top1 = 0;
    for (const q of set.queries) {
      const t0 = performance.now();
      const result = await retriever.retrieve(q.text);
      samples.push(performance.now() - t0);
      if (q.label !== null) {
        labelled++;
        if (result.candidates[0]?.topic === q.label) top1++;
      }
    }
    const summary = summarize(samples);
    log(`  retrieval ${engine}: p50 ${summary.p50Ms} ms, p95 ${summary.p95Ms} ms over ${summary.count} queries`);

    // Diagnostics, after the timed run. The same queries through an index with no memory copies
    // (every search by statement: BM25 in SQL, pgvector), as a knowledge base over the copies'
    // budget is searched; then those statements timed one by one (retrieve() runs them concurrently).
    const statementsIndex = createPgKnowledgeIndex(database, { replicaBudget: { terms: 0, values: 0 } });
    const statementsRetriever = createRetriever({ index: statementsIndex, embedder, tuning: DEFAULT_TUNING });
    for (const q of set.warmupQueries) await statementsRetriever.retrieve(q.text);
    const statementsMs: number[] = [];
    for (const q of set.queries) {
      const t0 = performance.now();
      await statementsRetriever.retrieve(q.text);
      statementsMs.push(performance.now() - t0);
    }
    const embedMs: number[] = [];
    const lexicalMs: number[] = [];
    const vectorMs: number[] = [];
    const centroidMs: number[] = [];
    for (const q of set.queries) {
      let t0 = performance.now();
      const [embedding] = await embedder.embed([q.text]);
      embedMs.push(performance.now() - t0);
      const terms = [...new Set(toTerms(q.text))];
      t0 = performance.now();
      if (terms.length > 0) await statementsIndex.searchLexical(terms, DEFAULT_TUNING.candidateChunks);
      lexicalMs.push(performance.now() - t0);
      t0 = performance.now();
      if (embedding) await statementsIndex.searchVector(embedding, embedder.id, DEFAULT_TUNING.candidateChunks);
      vectorMs.push(performance.now() - t0);
      t0 = performance.now();
      if (embedding) await statementsIndex.searchCentroids(embedding, embedder.id, DEFAULT_TUNING.candidateChunks);
      centroidMs.push(performance.now() - t0);
    }
    const brief = (xs: number[]) => {
      const s = summarize(xs);
      return { p50Ms: s.p50Ms, p95Ms: s.p95Ms };
    };
    const statementsOnly = brief(statementsMs);
    const steps = { embed: brief(embedMs), searchLexical: brief(lexicalMs), searchVector: brief(vectorMs), searchCentroids: brief(centroidMs) };
    log(`  retrieval ${engine} by statements only: ${JSON.stringify(statementsOnly)}; statements one by one: ${JSON.stringify(steps)}`);
    return {
      ...summary,
      warmup: set.warmupQueries.length,
      entries: set.entries.length,
      phrasings: set.phrasings,
      chunksIndexed: report.chunksEmbedded,
      indexBuildMs: Math.round(buildMs),
      embedder: embedder.id,
      // Sanity only: share of in-scope queries whose best candidate is the labelled entry.
      top1Accuracy: labelled > 0 ? round(top1 / labelled, 3) : null,
      // retrieve() with every search by statement (no memory copies), and those statements alone.
      statementsOnly,
      statementSteps: steps,
      target: { p95MsMax: 20, met: summary.p95Ms <= 20 },
    };
  } finally {
    await database.close();
  }
}
