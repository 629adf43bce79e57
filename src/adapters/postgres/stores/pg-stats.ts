import { type SQL, sql } from 'drizzle-orm';
import type { Channel, Language, StatsAgent, StatsFacts, StatsSource } from '../../../core/index.js';
import { type Db, queryRows } from '../db/database.js';

/** A UTC day as text, the same on both engines. */
const dayOf = (column: SQL) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

/** Milliseconds since the epoch as float8: a number on both drivers, microseconds kept. */
const msOf = (column: SQL) => sql`(extract(epoch from ${column}) * 1000)::float8`;

const toAgent = (id: unknown, name: unknown): StatsAgent | null =>
  typeof id === 'string' && id !== '' ? { id, name: typeof name === 'string' ? name : null } : null;

/**
 * The dashboard's facts (docs/stats.md) in a few aggregate statements over the roll-ups the turn
 * trigger keeps (schema/stats.ts: one row per conversation-day, per escalation with what followed
 * it, per rating with its agent, per cited entry), each bounded by the range through its day or
 * time index. Hand-written SQL: this is the measured path of `npm run bench` (stats over 1M turns).
 */
export function createPgStats(db: Db): StatsSource {
  return {
    async read({ start, end, channel, citedLimit }): Promise<StatsFacts> {
      // The roll-ups are keyed by UTC day: the range's days are [start, end).
      const days = sql`a.day >= ${start.toISOString().slice(0, 10)}::date AND a.day < ${end.toISOString().slice(0, 10)}::date`;
      const ofChannelA = channel ? sql`AND a.channel = ${channel}` : sql``;
      const perDayQuery = queryRows<{ day: string; channel: Channel; language: Language; n: number }>(
        db,
        sql`SELECT to_char(a.day, 'YYYY-MM-DD') AS day, a.channel, a.language, count(*)::int AS n
            FROM stats_activity a
            WHERE a.customer AND ${days} ${ofChannelA}
            GROUP BY a.day, a.channel, a.language
            ORDER BY a.day, a.channel, a.language`,
      );

      const totalsQuery = queryRows<{ conversations: number; resolved_by_bot: number; bot_only: number }>(
        db,
        sql`SELECT count(*)::int AS conversations,
                   count(*) FILTER (WHERE f.solved AND NOT f.human)::int AS resolved_by_bot,
                   count(*) FILTER (WHERE NOT f.human AND NOT f.escalated)::int AS bot_only
            FROM (
              SELECT bool_or(a.customer) AS customer, bool_or(a.solved) AS solved, bool_or(a.human) AS human, bool_or(a.escalated) AS escalated
              FROM stats_activity a
              WHERE ${days} ${ofChannelA}
              GROUP BY a.conversation_id
            ) f
            WHERE f.customer`,
      );

      const inRangeH = sql`h.escalated_at >= ${start.toISOString()}::timestamptz AND h.escalated_at < ${end.toISOString()}::timestamptz ${channel ? sql`AND h.channel = ${channel}` : sql``}`;
      const escalationsQuery = queryRows<{ reason: string | null; priority: string | null; n: number }>(
        db,
        sql`SELECT h.reason, h.priority, count(*)::int AS n FROM stats_handoff h WHERE ${inRangeH} GROUP BY 1, 2 ORDER BY 1, 2`,
      );

      const ratingsQuery = queryRows<{ day: string; rating: number | null; agent_id: string | null; author: string | null }>(
        db,
        sql`SELECT ${dayOf(sql`r.rated_at`)} AS day, r.rating::int AS rating, r.agent_id, r.agent_name AS author
            FROM stats_rating r
            WHERE r.rated_at >= ${start.toISOString()}::timestamptz AND r.rated_at < ${end.toISOString()}::timestamptz ${channel ? sql`AND r.channel = ${channel}` : sql``}
            ORDER BY r.rated_at, r.conversation_id, r.seq`,
      );

      const handoffsQuery = queryRows<{
        escalated_ms: number;
        reply_ms: number | null;
        reply_agent: string | null;
        reply_author: string | null;
        resolved_ms: number | null;
        resolved_agent: string | null;
        resolved_author: string | null;
      }>(
        db,
        sql`SELECT ${msOf(sql`h.escalated_at`)} AS escalated_ms,
                   ${msOf(sql`h.reply_at`)} AS reply_ms, h.reply_agent, h.reply_agent_name AS reply_author,
                   ${msOf(sql`h.resolved_at`)} AS resolved_ms, h.resolved_agent, h.resolved_agent_name AS resolved_author
            FROM stats_handoff h
            WHERE ${inRangeH}
            ORDER BY h.escalated_at, h.conversation_id, h.seq`,
      );

      const citedQuery = queryRows<{ entry_id: string; title: string | null; n: number }>(
        db,
        sql`SELECT x.entry_id, e.title, x.n FROM (
              SELECT a.entry_id, count(*)::int AS n
              FROM stats_citation a
              WHERE ${days} ${ofChannelA}
              GROUP BY 1 ORDER BY n DESC, entry_id LIMIT ${citedLimit}
            ) x LEFT JOIN kb_entry e ON e.id = x.entry_id
            ORDER BY x.n DESC, x.entry_id`,
      );

      const [perDay, totals, escalations, ratings, handoffs, cited] = await Promise.all([
        perDayQuery,
        totalsQuery,
        escalationsQuery,
        ratingsQuery,
        handoffsQuery,
        citedQuery,
      ]);
      const total = totals[0];
      return {
        conversations: Number(total?.conversations ?? 0),
        resolvedByBot: Number(total?.resolved_by_bot ?? 0),
        botOnly: Number(total?.bot_only ?? 0),
        perDay: perDay.map((r) => ({ date: r.day, channel: r.channel, language: r.language, conversations: Number(r.n) })),
        escalations: escalations.map((r) => ({ reason: r.reason ?? 'unknown', priority: r.priority ?? 'unknown', count: Number(r.n) })),
        ratings: ratings.flatMap((r) => (r.rating === null ? [] : [{ date: r.day, rating: Number(r.rating), agent: toAgent(r.agent_id, r.author) }])),
        handoffs: handoffs.map((r) => {
          const replyAgent = toAgent(r.reply_agent, r.reply_author);
          const resolvedAgent = toAgent(r.resolved_agent, r.resolved_author);
          return {
            escalatedAt: new Date(Number(r.escalated_ms)),
            firstReply: r.reply_ms !== null && replyAgent ? { at: new Date(Number(r.reply_ms)), agent: replyAgent } : null,
            resolved: r.resolved_ms !== null && resolvedAgent ? { at: new Date(Number(r.resolved_ms)), agent: resolvedAgent } : null,
          };
        }),
        cited: cited.map((r) => ({ entryId: r.entry_id, title: r.title ?? null, count: Number(r.n) })),
      };
    },
  };
}
