import { type SQL, sql } from 'drizzle-orm';
import type { Channel, Language, StatsAgent, StatsFacts, StatsSource } from '../../../core/index.js';
import { type Db, queryRows } from '../db/database.js';

const toAgent = (id: unknown, name: unknown): StatsAgent | null =>
  typeof id === 'string' && id !== '' ? { id, name: typeof name === 'string' ? name : null } : null;

/** A float8 or float8[] as a number on both drivers (node-postgres and PGlite parse them; null stays null). */
const toNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

type DurationRow = { total: number; agent_id: string | null; agent_name: string | null; n: number; p: unknown[] | null };

/** The overall row and the per-agent rows of a duration query (GROUPING SETS ((), (agent))). */
function toDurations(rows: DurationRow[]): StatsFacts['firstReply'] {
  const overall = rows.find((r) => Number(r.total) === 1);
  const summary = (r: DurationRow | undefined) => ({
    count: Number(r?.n ?? 0),
    p50Seconds: toNumber(r?.p?.[0] ?? null),
    p90Seconds: toNumber(r?.p?.[1] ?? null),
  });
  return {
    ...summary(overall),
    byAgent: rows.flatMap((r) => {
      const agent = Number(r.total) === 0 ? toAgent(r.agent_id, r.agent_name) : null;
      return agent ? [{ agent, ...summary(r) }] : [];
    }),
  };
}

/**
 * The dashboard's facts (docs/stats.md) in a few aggregate statements over the roll-ups the turn
 * trigger keeps (schema/stats.ts: per conversation-day, per customer day and language, per
 * escalation with what followed it, per rating with its agent, per cited entry), each bounded by
 * the range through its day or time index. Counting, grouping and the percentiles (percentile_cont,
 * the documented definition) happen here, so only figures cross the wire, never a row per
 * conversation or escalation. Hand-written SQL: this is the measured path of `npm run bench`
 * (stats over 1M turns).
 */
export function createPgStats(db: Db): StatsSource {
  return {
    async read({ start, end, channel, citedLimit }): Promise<StatsFacts> {
      // The roll-ups are keyed by UTC day: the range's days are [start, end).
      const startDay = sql`${start.toISOString().slice(0, 10)}::date`;
      const endDay = sql`${end.toISOString().slice(0, 10)}::date`;
      const days = sql`a.day >= ${startDay} AND a.day < ${endDay}`;
      const ofChannelA = channel ? sql`AND a.channel = ${channel}` : sql``;
      const perDayQuery = queryRows<{ day: string; channel: Channel; language: Language; n: number }>(
        db,
        sql`SELECT to_char(a.day, 'YYYY-MM-DD') AS day, a.channel, a.language, count(*)::int AS n
            FROM stats_activity a
            WHERE ${days} ${ofChannelA}
            GROUP BY a.day, a.channel, a.language
            ORDER BY a.day, a.channel, a.language`,
      );

      // One row per conversation: its last day in the range, carrying the latest day of each kind of turn.
      const totalsQuery = queryRows<{ conversations: number; resolved_by_bot: number; bot_only: number }>(
        db,
        sql`SELECT count(*)::int AS conversations,
                   count(*) FILTER (WHERE d.solved_day >= ${startDay} AND NOT coalesce(d.human_day >= ${startDay}, false))::int AS resolved_by_bot,
                   count(*) FILTER (WHERE NOT coalesce(d.human_day >= ${startDay}, false) AND NOT coalesce(d.escalated_day >= ${startDay}, false))::int AS bot_only
            FROM stats_conversation_day d
            WHERE d.day >= ${startDay} AND d.day < ${endDay} ${channel ? sql`AND d.channel = ${channel}` : sql``}
              AND (d.next_day IS NULL OR d.next_day >= ${endDay})
              AND d.customer_day >= ${startDay}`,
      );

      const inRangeH = sql`h.escalated_at >= ${start.toISOString()}::timestamptz AND h.escalated_at < ${end.toISOString()}::timestamptz ${channel ? sql`AND h.channel = ${channel}` : sql``}`;
      const escalationsQuery = queryRows<{ reason: string | null; priority: string | null; n: number }>(
        db,
        sql`SELECT h.reason, h.priority, count(*)::int AS n FROM stats_handoff h WHERE ${inRangeH} GROUP BY 1, 2 ORDER BY 1, 2`,
      );

      // Per value, per UTC day and per credited agent in one pass. An agent's name is the one recorded
      // with their latest rating in the range: the group keeps that time, and the name is looked up
      // by it on the time index (a few rows), which costs less than carrying names through the groups.
      const inRangeR = sql`r.rated_at >= ${start.toISOString()}::timestamptz AND r.rated_at < ${end.toISOString()}::timestamptz ${channel ? sql`AND r.channel = ${channel}` : sql``}`;
      const ratingsQuery = queryRows<{
        set: number;
        rating: number | null;
        day: string | null;
        agent_id: string | null;
        agent_name: string | null;
        n: number;
        total: number;
      }>(
        db,
        sql`SELECT g.set, g.rating, to_char(g.day, 'YYYY-MM-DD') AS day, g.agent_id, g.n, g.total,
                   (SELECT max(x.agent_name) FROM stats_rating x
                    WHERE x.rated_at = g.named_at AND x.agent_id = g.agent_id AND x.rating BETWEEN 1 AND 5 ${channel ? sql`AND x.channel = ${channel}` : sql``}) AS agent_name
            FROM (
              SELECT CASE WHEN GROUPING(r.rating) = 0 THEN 0 WHEN GROUPING(d.day) = 0 THEN 1 ELSE 2 END AS set,
                     r.rating::int AS rating, d.day, r.agent_id, count(*)::int AS n, sum(r.rating)::int AS total,
                     max(r.rated_at) FILTER (WHERE r.agent_name IS NOT NULL) AS named_at
              FROM stats_rating r CROSS JOIN LATERAL (SELECT (r.rated_at AT TIME ZONE 'UTC')::date AS day) d
              WHERE ${inRangeR} AND r.rating BETWEEN 1 AND 5
              GROUP BY GROUPING SETS ((r.rating), (d.day), (r.agent_id))
            ) g`,
      );

      // Seconds from the escalation, exact to the microsecond the turns were stored with; an agent's
      // name is the one recorded with their turn after the latest escalation in the range (looked up
      // as for the ratings).
      const durations = (at: string, agent: string, name: string) => {
        const [atColumn, agentColumn, nameColumn] = [sql.raw(at), sql.raw(agent), sql.raw(name)];
        return queryRows<DurationRow>(
          db,
          sql`SELECT g.total, g.agent_id, g.n, g.p,
                     (SELECT max(x.${nameColumn}) FROM stats_handoff x
                      WHERE x.escalated_at = g.named_at AND x.${agentColumn} = g.agent_id AND x.${atColumn} IS NOT NULL ${channel ? sql`AND x.channel = ${channel}` : sql``}) AS agent_name
              FROM (
                SELECT GROUPING(h.${agentColumn}) AS total, h.${agentColumn} AS agent_id, count(*)::int AS n,
                       percentile_cont(ARRAY[0.5, 0.9]::float8[]) WITHIN GROUP (ORDER BY extract(epoch from h.${atColumn} - h.escalated_at)::float8) AS p,
                       max(h.escalated_at) FILTER (WHERE h.${nameColumn} IS NOT NULL) AS named_at
                FROM stats_handoff h
                WHERE ${inRangeH} AND h.${atColumn} IS NOT NULL AND h.${agentColumn} <> ''
                GROUP BY GROUPING SETS ((), (h.${agentColumn}))
              ) g`,
        );
      };
      const firstReplyQuery = durations('reply_at', 'reply_agent', 'reply_agent_name');
      const resolutionQuery = durations('resolved_at', 'resolved_agent', 'resolved_agent_name');

      const citedQuery = queryRows<{ entry_id: string; title: string | null; n: number }>(
        db,
        sql`SELECT x.entry_id, e.title, x.n FROM (
              SELECT a.entry_id, sum(a.answers)::int AS n
              FROM stats_citation_day a
              WHERE ${days} ${ofChannelA}
              GROUP BY 1 ORDER BY n DESC, entry_id LIMIT ${citedLimit}
            ) x LEFT JOIN kb_entry e ON e.id = x.entry_id
            ORDER BY x.n DESC, x.entry_id`,
      );

      const [perDay, totals, escalations, ratings, firstReply, resolution, cited] = await Promise.all([
        perDayQuery,
        totalsQuery,
        escalationsQuery,
        ratingsQuery,
        firstReplyQuery,
        resolutionQuery,
        citedQuery,
      ]);
      const total = totals[0];
      return {
        conversations: Number(total?.conversations ?? 0),
        resolvedByBot: Number(total?.resolved_by_bot ?? 0),
        botOnly: Number(total?.bot_only ?? 0),
        perDay: perDay.map((r) => ({ date: r.day, channel: r.channel, language: r.language, conversations: Number(r.n) })),
        escalations: escalations.map((r) => ({ reason: r.reason ?? 'unknown', priority: r.priority ?? 'unknown', count: Number(r.n) })),
        ratings: {
          byValue: ratings.filter((r) => Number(r.set) === 0).map((r) => ({ rating: Number(r.rating), count: Number(r.n) })),
          perDay: ratings.filter((r) => Number(r.set) === 1).map((r) => ({ date: String(r.day), count: Number(r.n), sum: Number(r.total) })),
          byAgent: ratings.flatMap((r) => {
            const agent = Number(r.set) === 2 ? toAgent(r.agent_id, r.agent_name) : null;
            return agent ? [{ agent, count: Number(r.n), sum: Number(r.total) }] : [];
          }),
        },
        firstReply: toDurations(firstReply),
        resolution: toDurations(resolution),
        cited: cited.map((r) => ({ entryId: r.entry_id, title: r.title ?? null, count: Number(r.n) })),
      };
    },
  };
}
