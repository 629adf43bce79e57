/**
 * Dashboard figures for `npm run bench`: GET /api/admin/stats's reads (createPgStats) over a
 * generated history of 1M turns on PostgreSQL, p95 per range (target ≤ 500 ms).
 *
 * The history: CONVERSATIONS conversations spread evenly over HISTORY_DAYS days, 8 turns each.
 * Three in four are answered by the bot (greeting, two questions with cited answers, "solved" on
 * every third, a last message); one in four is escalated (reason and priority varying), claimed,
 * replied to, resolved and rated. A third are on Telegram, half in Chinese. Rows are written with
 * one INSERT … SELECT per table as the store writes them (content sealed elsewhere: the row keeps
 * the marker and its plain metadata; the turn trigger fills the roll-ups), in each conversation's
 * seq order, then VACUUM ANALYZE (as autovacuum does on a live append-only table).
 */
import { sql } from 'drizzle-orm';
import { openDatabase, queryRows } from '../../src/adapters/postgres/db/database.js';
import { createPgStats } from '../../src/adapters/postgres/stores/pg-stats.js';
import { MOST_CITED, toHelpdeskStats, toStatsPeriod } from '../../src/core/index.js';
import { round, summarize } from './stats.js';

const TURNS_PER_CONVERSATION = 8;
const HISTORY_DAYS = 180;
const HISTORY_END = '2026-06-30';
const RUNS = 20;
const WARMUP = 2;

const dayBefore = (date: string, days: number) => new Date(new Date(`${date}T00:00:00Z`).getTime() - days * 86_400_000).toISOString().slice(0, 10);

/** Writes the generated history (see above) into a migrated database; returns the turns written. */
export async function writeHistory(database: Awaited<ReturnType<typeof openDatabase>>, turns: number, log: (message: string) => void): Promise<number> {
  const conversations = Math.ceil(turns / TURNS_PER_CONVERSATION);
  const options = { log };
  {
    const t0 = performance.now();
    const historyStart = `${dayBefore(HISTORY_END, HISTORY_DAYS - 1)}T00:00:00Z`;
    await database.db.execute(sql`
      INSERT INTO conversation (id, channel, external_id, language, state, priority, last_seq, created_at, updated_at)
      SELECT md5('bench-conversation-' || i)::uuid,
             CASE WHEN i % 3 = 0 THEN 'telegram' ELSE 'web' END,
             'bench-' || i,
             CASE WHEN i % 2 = 0 THEN 'zh' ELSE 'en' END,
             CASE WHEN i % 4 = 0 THEN 'closed' ELSE 'bot' END,
             CASE WHEN i % 20 = 0 THEN 'urgent' ELSE 'normal' END,
             ${TURNS_PER_CONVERSATION},
             ${historyStart}::timestamptz + (i::float8 / ${conversations}) * interval '${sql.raw(String(HISTORY_DAYS))} days',
             ${historyStart}::timestamptz + (i::float8 / ${conversations}) * interval '${sql.raw(String(HISTORY_DAYS))} days'
      FROM generate_series(1, ${conversations}) AS i`);
    options.log(`stats: ${conversations} conversations written`);
    // Turn s of conversation i: escalated conversations (i % 4 = 0) follow the handoff script.
    await database.db.execute(sql`
      INSERT INTO turn (conversation_id, seq, role, kind, text, language, data, escalation_reason, escalation_priority, created_at,
                        rating, action, handoff, agent_id, agent_name, cites)
      SELECT conversation_id, s, role, kind, '', language, '{"sealed":1}'::jsonb, escalation_reason, escalation_priority, created_at,
             CASE WHEN kind = 'rating' THEN (1 + i % 5)::smallint END,
             CASE WHEN kind = 'action' THEN 'solved' END,
             CASE WHEN kind = 'handoff' THEN CASE s WHEN 5 THEN 'claimed' ELSE 'resolved' END END,
             CASE WHEN role = 'agent' THEN 'U' || (i % 12) END,
             CASE WHEN role = 'agent' THEN 'Agent ' || (i % 12) END,
             CASE WHEN kind = 'answer' THEN ARRAY['entry-' || CASE WHEN i % 4 = 0 THEN i % 97 ELSE (i * s) % 97 END] END
      FROM (
      SELECT i, s, md5('bench-conversation-' || i)::uuid AS conversation_id,
             CASE WHEN i % 4 = 0 THEN (ARRAY['customer','bot','customer','system','agent','agent','agent','customer'])[s]
                  ELSE (ARRAY['bot','customer','bot','customer','bot','customer','bot','customer'])[s] END AS role,
             CASE WHEN i % 4 = 0 THEN (ARRAY['message','answer','message','escalation','handoff','message','handoff','rating'])[s]
                  WHEN s = 6 AND i % 3 = 0 THEN 'action'
                  ELSE (ARRAY['greeting','message','answer','message','answer','message','notice','message'])[s] END AS kind,
             CASE WHEN i % 2 = 0 THEN 'zh' ELSE 'en' END AS language,
             CASE WHEN i % 4 = 0 AND s = 4 THEN (ARRAY['low_confidence','customer_requested_human','sensitive_topic','scam_report','customer_unsatisfied'])[1 + i % 5] END AS escalation_reason,
             CASE WHEN i % 4 = 0 AND s = 4 THEN CASE WHEN i % 20 = 0 THEN 'urgent' ELSE 'normal' END END AS escalation_priority,
             ${historyStart}::timestamptz + (i::float8 / ${conversations}) * interval '${sql.raw(String(HISTORY_DAYS))} days'
               + CASE WHEN i % 4 = 0 AND s >= 5 THEN interval '1 second' * (60 + (i % 900) * s) ELSE interval '20 seconds' * s END AS created_at
      FROM generate_series(1, ${conversations}) AS i CROSS JOIN generate_series(1, ${TURNS_PER_CONVERSATION}) AS s
      ) g
      ORDER BY i, s`);
    const [{ n: written } = { n: 0 }] = await queryRows<{ n: number }>(database.db, sql`SELECT count(*)::int AS n FROM turn`);
    options.log(`stats: ${written} turns written in ${((performance.now() - t0) / 1000).toFixed(1)} s; vacuum analyze…`);
    for (const table of ['turn', 'conversation', 'stats_activity', 'stats_conversation_day', 'stats_handoff', 'stats_rating', 'stats_citation_day']) {
      await database.db.execute(sql.raw(`VACUUM ANALYZE ${table}`));
    }
    return written;
  }
}

export async function benchDashboardStats(options: { databaseUrl: string; turns?: number; log: (message: string) => void }) {
  const turns = options.turns ?? 1_000_000;
  const conversations = Math.ceil(turns / TURNS_PER_CONVERSATION);
  const database = await openDatabase({ databaseUrl: options.databaseUrl, dataDir: 'unused' });
  try {
    await database.migrate();
    const t0 = performance.now();
    const written = await writeHistory(database, turns, options.log);
    const generatedS = round((performance.now() - t0) / 1000, 1);

    const stats = createPgStats(database.db);
    const ranges = {
      last7Days: { from: dayBefore(HISTORY_END, 6), to: HISTORY_END },
      last30Days: { from: dayBefore(HISTORY_END, 29), to: HISTORY_END },
      last30DaysTelegram: { from: dayBefore(HISTORY_END, 29), to: HISTORY_END, channel: 'telegram' as const },
      last90Days: { from: dayBefore(HISTORY_END, 89), to: HISTORY_END },
      whole180Days: { from: dayBefore(HISTORY_END, HISTORY_DAYS - 1), to: HISTORY_END },
    };
    const results: Record<string, unknown> = {};
    for (const [name, range] of Object.entries(ranges)) {
      const period = toStatsPeriod(range);
      const once = async () => {
        const started = performance.now();
        const facts = await stats.read({
          start: period.start,
          end: period.end,
          ...('channel' in range ? { channel: range.channel } : {}),
          citedLimit: MOST_CITED,
        });
        const figures = toHelpdeskStats(range, facts);
        return { ms: performance.now() - started, figures };
      };
      for (let i = 0; i < WARMUP; i++) await once();
      const samples: number[] = [];
      let last: Awaited<ReturnType<typeof once>>['figures'] | undefined;
      for (let i = 0; i < RUNS; i++) {
        const run = await once();
        samples.push(run.ms);
        last = run.figures;
      }
      const summary = summarize(samples);
      options.log(`stats ${name}: p50 ${summary.p50Ms} ms, p95 ${summary.p95Ms} ms (${last?.conversations} conversations)`);
      results[name] = { ...range, ...summary, conversations: last?.conversations, escalations: last?.escalations };
    }
    return { turns: written, conversations, historyDays: HISTORY_DAYS, generatedS, runsPerRange: RUNS, targetP95Ms: 500, ranges: results };
  } finally {
    await database.close();
  }
}
