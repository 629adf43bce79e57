import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { DEFAULT_TUNING } from '../src/core/index.js';
import { createEmbedder } from '../src/create-embedder.js';
import { readEvalSet, samplePhrasings } from '../src/evaluation/eval-set.js';
import { evaluateHelpdesk, evaluateMiniSearch, fitCalibration } from '../src/evaluation/run-evaluation.js';

const USAGE = `usage: npm run eval -- --kb kb.jsonl --queries dev.jsonl [--per-entry K] [--seed N] [--compare] [--json] [--fit]`;

const { values } = parseArgs({
  options: {
    kb: { type: 'string' },
    queries: { type: 'string' },
    'per-entry': { type: 'string' },
    seed: { type: 'string', default: '1' },
    compare: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    fit: { type: 'boolean', default: false },
  },
});
if (!values.kb || !values.queries) {
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
const set = await readEvalSet(values.kb, values.queries);
const entries = perEntry === undefined ? set.entries : samplePhrasings(set.entries, perEntry, seed);

const run = await evaluateHelpdesk({
  entries,
  queries: set.queries,
  embedder,
  threshold: config.answerThreshold,
  tuning: DEFAULT_TUNING,
  databaseUrl: process.env.EVAL_DATABASE_URL,
});
const peer = values.compare ? evaluateMiniSearch(entries, set.queries) : undefined;
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '   n/a' : `${(x * 100).toFixed(1).padStart(5)}%`);
const num = (x: number | null | undefined) => (x === null || x === undefined ? '   n/a' : x.toFixed(3).padStart(6));

const phrasings = entries.reduce((n, e) => n + e.questions.length, 0);
console.log(`knowledge base: ${entries.length} entries, ${phrasings} phrasings; queries: ${run.figures.queries} (${run.figures.uncovered} uncovered)`);
console.log(`embedder: ${embedder.id}; threshold ${config.answerThreshold}; indexed in ${(run.indexMs / 1000).toFixed(1)} s; ${(run.queryMs / run.figures.queries).toFixed(1)} ms per query`);
console.log(`${'figure'.padEnd(34)} ${'helpdesk'.padStart(8)}${peer ? `  ${'minisearch'.padStart(10)}` : ''}`);
const rows: Array<[string, keyof typeof run.figures, 'pct' | 'num']> = [
  ['top-1 accuracy', 'top1', 'pct'],
  ['recall@5', 'recall5', 'pct'],
  ['MRR', 'mrr', 'num'],
  ['AUROC covered vs uncovered', 'auroc', 'num'],
  ['covered answered correctly', 'answeredCorrectly', 'pct'],
  ['escalated (all queries)', 'escalated', 'pct'],
  ['harmful answers (all queries)', 'harmful', 'pct'],
];
for (const [label, key, kind] of rows) {
  const f = kind === 'pct' ? pct : num;
  console.log(`${label.padEnd(34)} ${f(run.figures[key]).padStart(8)}${peer ? `  ${f(peer[key]).padStart(10)}` : ''}`);
}
if (peer) console.log(`(minisearch threshold figures at its best threshold on these queries: ${peer.threshold.toFixed(3)})`);
if (values.fit) console.log(`fitted calibration: ${JSON.stringify(fitCalibration(run.samples))}`);
if (values.json) {
  console.log(JSON.stringify({ ...run.figures, embedder: embedder.id, threshold: config.answerThreshold, perEntry: perEntry ?? null, ...(peer ? { peer } : {}) }));
}
