import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readKnowledgeFiles } from '../src/adapters/knowledge-files/read-knowledge-files.js';
import { loadConfig } from '../src/config.js';
import { DEFAULT_TUNING, toTopic, validateEntries } from '../src/core/index.js';
import { createEmbedder } from '../src/create-embedder.js';
import { readEvalSet, readQueries, samplePhrasings } from '../src/evaluation/eval-set.js';
import { type EvaluationRun, evaluateHelpdesk, evaluateMiniSearch, fitCalibration, toKnowledgeEntry } from '../src/evaluation/run-evaluation.js';

const USAGE = `usage: npm run eval -- --kb kb.jsonl|knowledge-folder --queries queries.jsonl [--kb … --queries …] [--per-entry K] [--seed N] [--compare] [--json] [--fit]
  --kb takes a kb.jsonl (shared/eval format) or a folder of Markdown entries (labels are entry-pair topics);
  several --kb/--queries pairs run one after the other, and --fit then fits the calibration on all of them, each set weighted equally.`;

const { values } = parseArgs({
  options: {
    kb: { type: 'string', multiple: true },
    queries: { type: 'string', multiple: true },
    'per-entry': { type: 'string' },
    seed: { type: 'string', default: '1' },
    compare: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    fit: { type: 'boolean', default: false },
  },
});
const kbs = values.kb ?? [];
const queryFiles = values.queries ?? [];
if (kbs.length === 0 || kbs.length !== queryFiles.length) {
  console.error(USAGE);
  process.exit(2);
}
const perEntry = values['per-entry'] === undefined ? undefined : Number(values['per-entry']);
const seed = Number(values.seed);
if ((perEntry !== undefined && !(Number.isInteger(perEntry) && perEntry > 0)) || !Number.isInteger(seed)) {
  console.error(`--per-entry and --seed take whole numbers\n${USAGE}`);
  process.exit(2);
}

const config = loadConfig(process.env);
const embedder = createEmbedder(config);

/** A knowledge folder (entries as the bot syncs them, topics = entry pairs) or a kb.jsonl. */
async function loadSet(kbPath: string, queriesPath: string) {
  if ((await stat(kbPath)).isDirectory()) {
    const { entries, problems } = validateEntries(await readKnowledgeFiles(kbPath));
    if (problems.length > 0) throw new Error(`${kbPath}: ${problems.map((p) => `${p.source}: ${p.reason}`).join('; ')}`);
    const topics = new Set(entries.map(toTopic));
    const queries = await readQueries(queriesPath, topics, kbPath);
    const documents = new Map<string, string[]>();
    for (const e of entries) documents.set(toTopic(e), [...(documents.get(toTopic(e)) ?? []), e.title, ...e.questions]);
    return {
      entries,
      queries,
      peerDocuments: [...documents].map(([topic, texts]) => ({ topic, texts })),
      segmentWords: true,
    };
  }
  const set = await readEvalSet(kbPath, queriesPath);
  const sampled = perEntry === undefined ? set.entries : samplePhrasings(set.entries, perEntry, seed);
  return {
    entries: sampled.map(toKnowledgeEntry),
    queries: set.queries,
    peerDocuments: sampled.map((e) => ({ topic: e.id, texts: e.questions })),
    segmentWords: false,
  };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '   n/a' : `${(x * 100).toFixed(1).padStart(5)}%`);
const num = (x: number | null | undefined) => (x === null || x === undefined ? '   n/a' : x.toFixed(3).padStart(6));
const runs: Array<{ run: EvaluationRun; json: object }> = [];
for (const [i, kbPath] of kbs.entries()) {
  const queriesPath = queryFiles[i] as string;
  const set = await loadSet(kbPath, queriesPath);
  const run = await evaluateHelpdesk({
    entries: set.entries,
    queries: set.queries,
    embedder,
    threshold: config.answerThreshold,
    tuning: DEFAULT_TUNING,
    databaseUrl: process.env.EVAL_DATABASE_URL,
  });
  const peer = values.compare ? evaluateMiniSearch(set.peerDocuments, set.queries, { segmentWords: set.segmentWords }) : undefined;
  const phrasings = set.entries.reduce((n, e) => n + e.questions.length, 0);
  if (kbs.length > 1) console.log(`\n== ${kbPath} / ${queriesPath}`);
  console.log(`knowledge base: ${set.entries.length} entries, ${phrasings} phrasings; queries: ${run.figures.queries} (${run.figures.uncovered} uncovered)`);
  console.log(
    `embedder: ${embedder.id}; threshold ${config.answerThreshold}; indexed in ${(run.indexMs / 1000).toFixed(1)} s; ${(run.queryMs / Math.max(1, run.figures.queries)).toFixed(1)} ms per query`,
  );
  console.log(`${'figure'.padEnd(34)} ${'helpdesk'.padStart(8)}${peer ? `  ${'minisearch'.padStart(10)}` : ''}`);
  const rows: Array<[string, keyof typeof run.figures, 'pct' | 'num']> = [
    ['top-1 accuracy', 'top1', 'pct'],
    ['recall@5', 'recall5', 'pct'],
    ['MRR', 'mrr', 'num'],
    ['AUROC covered vs uncovered', 'auroc', 'num'],
    ['covered answered correctly', 'answeredCorrectly', 'pct'],
    ['escalated (all queries)', 'escalated', 'pct'],
    ['harmful answers (all queries)', 'harmful', 'pct'],
    ['uncovered answered (of uncovered)', 'uncoveredAnswered', 'pct'],
  ];
  for (const [label, key, kind] of rows) {
    const f = kind === 'pct' ? pct : num;
    console.log(`${label.padEnd(34)} ${f(run.figures[key]).padStart(8)}${peer ? `  ${f(peer[key]).padStart(10)}` : ''}`);
  }
  if (peer) console.log(`(minisearch threshold figures at its best threshold on these queries: ${peer.threshold.toFixed(3)})`);
  runs.push({
    run,
    json: { ...run.figures, embedder: embedder.id, threshold: config.answerThreshold, perEntry: perEntry ?? null, ...(peer ? { peer } : {}) },
  });
}
if (values.fit) {
  const samples = runs.flatMap(({ run }) => run.samples.map((s) => ({ ...s, weight: 1 / run.samples.length })));
  console.log(`fitted calibration: ${JSON.stringify(fitCalibration(samples))}`);
}
if (values.json) console.log(JSON.stringify(runs.length === 1 ? runs[0]?.json : { sets: runs.map((r) => r.json) }));
