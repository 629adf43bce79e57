/**
 * `npm run bench`: start-up time, offline web reply latency and retrieval latency at 10,000
 * phrasings, on PGlite and PostgreSQL. Progress goes to stderr; stdout gets exactly one JSON object.
 *
 * PostgreSQL parts use BENCH_DATABASE_URL (or TEST_DATABASE_URL) as an admin URL: each part runs
 * in a fresh database `helpdesk_bench_<random>` that is dropped afterwards. Without a URL they are
 * reported as skipped. The retrieval part needs ../shared/eval/clinc150/{kb,dev}.jsonl.
 * Telegram webhook throughput and Slack handoff latency run against the stand-ins in test/stand-ins.
 * Screening measures the secret firewall on hostile 64 KB messages (in-process, no database).
 * Stats measures the dashboard's figures (GET /api/admin/stats) over a generated history of 1M turns on PostgreSQL.
 * `npm run bench -- --only startup,webReply,retrieval,telegram,slack,turnLog,erasure,stats,screening` runs a subset (the others are marked skipped).
 * `npm run bench -- --only soak [--soak-minutes 30]` runs the product on PGlite under steady load for
 * that long and reports its memory over time; it runs only when named.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { installCleanupHandlers } from './bench/cleanup.js';
import { adminDatabaseUrl, withBenchDatabase } from './bench/postgres.js';
import { benchErasure } from './bench/erasure.js';
import { benchRetrieval, loadRetrievalSet } from './bench/retrieval.js';
import { benchScreening } from './bench/screening.js';
import { benchSlack } from './bench/slack.js';
import { benchSoak } from './bench/soak.js';
import { benchStartup } from './bench/startup.js';
import { benchTelegram } from './bench/telegram.js';
import { benchWebReply } from './bench/web-reply.js';
import { benchTurnLog } from './bench/turn-log.js';
import { benchDashboardStats } from './bench/dashboard-stats.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const KB_URL = new URL('../../shared/eval/clinc150/kb.jsonl', import.meta.url);
const DEV_URL = new URL('../../shared/eval/clinc150/dev.jsonl', import.meta.url);

// Stdout carries only the final JSON: anything else printing there goes to stderr instead.
const writeStdout = process.stdout.write.bind(process.stdout);
console.log = console.error;
console.info = console.error;
console.debug = console.error;

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

const PARTS = ['startup', 'webReply', 'retrieval', 'telegram', 'slack', 'turnLog', 'erasure', 'stats', 'screening', 'soak'] as const;
/** Parts that run only when named in --only (they take long). */
const ON_REQUEST: readonly Part[] = ['soak'];
type Part = (typeof PARTS)[number];
const { values: args } = parseArgs({ options: { only: { type: 'string' }, 'soak-minutes': { type: 'string' } } });
const only = args.only
  ?.split(',')
  .map((x) => x.trim())
  .filter(Boolean);
const soakMinutes = Number(args['soak-minutes'] ?? 30);
if (only?.some((x) => !(PARTS as readonly string[]).includes(x)) || !(soakMinutes > 0)) {
  console.error(`usage: npm run bench [-- --only ${PARTS.join(',')}] [--soak-minutes 30]`);
  process.exit(2);
}
const selected = (name: Part) => (only ? only.includes(name) : !ON_REQUEST.includes(name));
const NOT_SELECTED = { skipped: 'not selected (--only)' };
const loadAvg = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
    return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}${cause}`;
  }
  return String(error);
}

/** Runs one part; a failure becomes `{ error }` in its slot so the other parts still run. */
async function part<T>(name: string, run: () => Promise<T>): Promise<T | { error: string }> {
  log(`${name}…`);
  const t0 = performance.now();
  try {
    const value = await run();
    log(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return value;
  } catch (error) {
    log(`${name}: FAILED after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { error: describeError(error) };
  }
}

async function postgresServerVersion(adminUrl: string): Promise<string | { error: string }> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string; vector: string | null }>(
      `SELECT current_setting('server_version') AS server_version,
              (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS vector`,
    );
    const row = rows[0];
    return row ? `PostgreSQL ${row.server_version}${row.vector ? `, pgvector ${row.vector}` : ', no pgvector'}` : 'unknown';
  } catch (error) {
    return { error: describeError(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const benchT0 = performance.now();
  const adminUrl = adminDatabaseUrl();
  const noPostgres = 'no PostgreSQL: set BENCH_DATABASE_URL or TEST_DATABASE_URL to an admin URL';
  const cpus = os.cpus();
  const machine = {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    postgres: adminUrl ? await postgresServerVersion(adminUrl) : null,
    // 1/5/15-minute load averages: other work on the machine skews every figure.
    loadAvgAtStart: loadAvg(),
    loadAvgAtEnd: [] as number[],
  };
  log(`machine: ${JSON.stringify(machine)}`);

  const startup = selected('startup') ? await part('startup (npm start → /healthz 200, 3 cold + 3 warm)', () => benchStartup(REPO_ROOT, 3)) : NOT_SELECTED;

  let webReply: Record<string, unknown> = NOT_SELECTED;
  if (selected('webReply')) {
    const onPglite = await part('webReply on pglite', () => benchWebReply({ repoRoot: REPO_ROOT, engine: 'pglite' }));
    const onPostgres = adminUrl
      ? await part('webReply on postgres', () =>
          withBenchDatabase(adminUrl, (databaseUrl) => benchWebReply({ repoRoot: REPO_ROOT, engine: 'postgres', databaseUrl })),
        )
      : null;
    webReply = { pglite: onPglite, postgres: onPostgres, ...(adminUrl ? {} : { skipped: `postgres: ${noPostgres}` }) };
  }

  let retrieval: Record<string, unknown> = NOT_SELECTED;
  const set = selected('retrieval') ? await part('loading CLINC150 retrieval set', () => loadRetrievalSet(KB_URL, DEV_URL)) : undefined;
  if (set === undefined) {
    // not selected
  } else if ('error' in set) {
    retrieval = { postgres: set, pglite: set };
  } else if ('missing' in set) {
    log(`retrieval skipped: ${set.missing}`);
    retrieval = { postgres: null, pglite: null, skipped: set.missing };
  } else {
    const onPostgres = adminUrl
      ? await part('retrieval on postgres (10,000 phrasings)', () => withBenchDatabase(adminUrl, (databaseUrl) => benchRetrieval(set, 'postgres', databaseUrl)))
      : null;
    const onPglite = await part('retrieval on pglite (10,000 phrasings, memory://)', () => benchRetrieval(set, 'pglite'));
    retrieval = { postgres: onPostgres, pglite: onPglite, ...(adminUrl ? {} : { skipped: `postgres: ${noPostgres}` }) };
  }

  // Telegram webhook throughput and Slack handoff latency, against the stand-ins, on PostgreSQL.
  const telegram = !selected('telegram')
    ? NOT_SELECTED
    : adminUrl
      ? await part('telegram webhook throughput on postgres', () =>
          withBenchDatabase(adminUrl, (databaseUrl) => benchTelegram({ repoRoot: REPO_ROOT, databaseUrl })),
        )
      : { skipped: noPostgres };
  const slack = !selected('slack')
    ? NOT_SELECTED
    : adminUrl
      ? await part('slack handoff latency on postgres', () => withBenchDatabase(adminUrl, (databaseUrl) => benchSlack({ repoRoot: REPO_ROOT, databaseUrl })))
      : { skipped: noPostgres };

  // Turn log: appends/s from 2 processes, checkpoint lag, audit time per 1M entries, proofs at 1M.
  const turnLog = !selected('turnLog')
    ? NOT_SELECTED
    : adminUrl
      ? await part('turn log on postgres (2 processes, audit and proofs at 1M entries)', () =>
          withBenchDatabase(adminUrl, (databaseUrl) =>
            benchTurnLog(databaseUrl, { appendsPerProcess: 5000, concurrency: 24, verifyEntries: 1_000_000, proofEntries: 1_000_000, log }),
          ),
        )
      : { skipped: noPostgres };

  // Erasure: one conversation erased and the master key rotated, with 10,000 conversations stored.
  const erasure = !selected('erasure')
    ? NOT_SELECTED
    : adminUrl
      ? await part('erasure and key rotation on postgres (10,000 conversations)', () =>
          withBenchDatabase(adminUrl, (databaseUrl) => benchErasure(databaseUrl, { conversations: 10_000, rounds: 5, log })),
        )
      : { skipped: noPostgres };

  // The dashboard's figures over 1M turns: p95 per date range (target ≤ 500 ms).
  const stats = !selected('stats')
    ? NOT_SELECTED
    : adminUrl
      ? await part('dashboard stats on postgres (1M generated turns)', () =>
          withBenchDatabase(adminUrl, (databaseUrl) => benchDashboardStats({ databaseUrl, log })),
        )
      : { skipped: noPostgres };

  // Memory over a long run on PGlite (the embedded default), only when asked for.
  const soak = selected('soak')
    ? await part(`soak on pglite (${soakMinutes} min)`, () => benchSoak({ repoRoot: REPO_ROOT, minutes: soakMinutes }))
    : { skipped: 'runs only when named: --only soak [--soak-minutes N]' };

  // The secret firewall on hostile messages: screening time (target ≤ 20 ms each).
  const screening = selected('screening') ? await part('screening of hostile 64 KB messages', async () => benchScreening()) : NOT_SELECTED;

  const result = {
    turnLog,
    erasure,
    stats,
    screening,
    machine,
    startup,
    webReply,
    retrieval,
    telegram,
    slack,
    soak,
    benchMs: Math.round(performance.now() - benchT0),
  };
  machine.loadAvgAtEnd = loadAvg();
  log(`all done in ${(result.benchMs / 1000).toFixed(1)} s`);
  writeStdout(`${JSON.stringify(result)}\n`);
  // Everything is closed by now; if some handle still keeps the loop alive, do not hang.
  setTimeout(() => {
    log(`something kept the process alive after the bench (${process.getActiveResourcesInfo().join(', ')}): exiting`);
    process.exit(0);
  }, 5000).unref();
}

await main();
