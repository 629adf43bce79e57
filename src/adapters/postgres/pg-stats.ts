import { type SQL, sql } from 'drizzle-orm';
import type { Channel, Language, StatsAgent, StatsFacts, StatsSource } from '../../core/index.js';
import { type Db, queryRows } from './database.js';

/** A UTC day as text, the same on both engines. */
const dayOf = (column: SQL) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

/** Milliseconds since the epoch as float8: a number on both drivers, microseconds kept. */
const msOf = (column: SQL) => sql`(extract(epoch from ${column}) * 1000)::float8`;

const toAgent = (id: unknown, name: unknown): StatsAgent | null =>
  typeof id === 'string' && id !== '' ? { id, name: typeof name === 'string' ? name : null } : null;

/**
 * The dashboard's facts (docs/stats.md) in a few aggregate statements over `turn`, each bounded by
 * the range on `created_at`: the (role, created_at …) and (kind, created_at …) indexes cover them,
 * and the look-ups of what followed an escalation or preceded a rating go through small partial
 * indexes on (conversation_id, seq) of escalations, agent replies and resolves. Hand-written SQL: this is the
 * measured path of `npm run bench` (stats over 1M turns).
 */
export function createPgStats(db: Db): StatsSource {
  return {
    async read({ start, end, channel, citedLimit }): Promise<StatsFacts> {
      const inRange = (alias: SQL) => sql`${alias}.created_at >= ${start.toISOString()}::timestamptz AND ${alias}.created_at < ${end.toISOString()}::timestamptz`;
      const t = sql.raw('t');
      // Conversations of the channel asked for: a join only when a channel is asked for.
      const ofChannel = (alias: SQL) =>
        channel ? sql`JOIN conversation c ON c.id = ${alias}.conversation_id AND c.channel = ${channel}` : sql``;

      // Distinct (conversation, day, language) first: a hash aggregate over the covering index, no sort.
      const perDayQuery = queryRows<{ day: string; channel: Channel; language: Language; n: number }>(
        db,
        sql`SELECT to_char(f.day, 'YYYY-MM-DD') AS day, c.channel, f.language, count(*)::int AS n
            FROM (
              SELECT DISTINCT t.conversation_id, (t.created_at AT TIME ZONE 'UTC')::date AS day, t.language
              FROM turn t
              WHERE t.role = 'customer' AND ${inRange(t)}
            ) f
            JOIN conversation c ON c.id = f.conversation_id ${channel ? sql`AND c.channel = ${channel}` : sql``}
            GROUP BY f.day, c.channel, f.language
            ORDER BY f.day, c.channel, f.language`,
      );

      const totalsQuery = queryRows<{ conversations: number; resolved_by_bot: number; bot_only: number }>(
        db,
        sql`WITH active AS (
              SELECT DISTINCT t.conversation_id FROM turn t ${ofChannel(t)} WHERE t.role = 'customer' AND ${inRange(t)}
            ), solved AS (
              SELECT DISTINCT t.conversation_id FROM turn t
              WHERE t.kind = 'action' AND t.role = 'customer' AND t.action = 'solved' AND ${inRange(t)}
            ), human AS (
              SELECT DISTINCT t.conversation_id FROM turn t WHERE t.role = 'agent' AND ${inRange(t)}
            ), escalated AS (
              SELECT DISTINCT t.conversation_id FROM turn t WHERE t.kind = 'escalation' AND ${inRange(t)}
            )
            SELECT count(*)::int AS conversations,
                   count(*) FILTER (WHERE s.conversation_id IS NOT NULL AND h.conversation_id IS NULL)::int AS resolved_by_bot,
                   count(*) FILTER (WHERE h.conversation_id IS NULL AND e.conversation_id IS NULL)::int AS bot_only
            FROM active a
            LEFT JOIN solved s ON s.conversation_id = a.conversation_id
            LEFT JOIN human h ON h.conversation_id = a.conversation_id
            LEFT JOIN escalated e ON e.conversation_id = a.conversation_id`,
      );

      const escalationsQuery = queryRows<{ reason: string | null; priority: string | null; n: number }>(
        db,
        sql`SELECT t.escalation_reason AS reason, t.escalation_priority AS priority, count(*)::int AS n
            FROM turn t ${ofChannel(t)}
            WHERE t.kind = 'escalation' AND ${inRange(t)}
            GROUP BY 1, 2 ORDER BY 1, 2`,
      );

      // The agent a rating rates: who resolved the handoff last before it.
      const ratingsQuery = queryRows<{ day: string; rating: number | null; agent_id: string | null; author: string | null }>(
        db,
        sql`SELECT ${dayOf(sql`t.created_at`)} AS day, t.rating::int AS rating, r.agent_id, r.author
            FROM turn t ${ofChannel(t)}
            LEFT JOIN LATERAL (
              SELECT p.agent_id, p.agent_name AS author FROM turn p
              WHERE p.conversation_id = t.conversation_id AND p.seq < t.seq AND p.kind = 'handoff' AND p.handoff = 'resolved'
              ORDER BY p.seq DESC LIMIT 1
            ) r ON true
            WHERE t.kind = 'rating' AND ${inRange(t)}
            ORDER BY t.created_at, t.conversation_id, t.seq`,
      );

      // Each escalation's span ends at the conversation's next escalation: a reply after that belongs to it.
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
        sql`SELECT ${msOf(sql`t.created_at`)} AS escalated_ms,
                   fr.at_ms AS reply_ms, fr.agent_id AS reply_agent, fr.author AS reply_author,
                   rs.at_ms AS resolved_ms, rs.agent_id AS resolved_agent, rs.author AS resolved_author
            FROM turn t ${ofChannel(t)}
            LEFT JOIN LATERAL (
              SELECT min(n.seq) AS seq FROM turn n WHERE n.conversation_id = t.conversation_id AND n.seq > t.seq AND n.kind = 'escalation'
            ) nx ON true
            LEFT JOIN LATERAL (
              SELECT ${msOf(sql`r.created_at`)} AS at_ms, r.agent_id, r.agent_name AS author FROM turn r
              WHERE r.conversation_id = t.conversation_id AND r.seq > t.seq AND (nx.seq IS NULL OR r.seq < nx.seq)
                AND r.role = 'agent' AND r.kind = 'message'
              ORDER BY r.seq LIMIT 1
            ) fr ON true
            LEFT JOIN LATERAL (
              SELECT ${msOf(sql`r.created_at`)} AS at_ms, r.agent_id, r.agent_name AS author FROM turn r
              WHERE r.conversation_id = t.conversation_id AND r.seq > t.seq AND (nx.seq IS NULL OR r.seq < nx.seq)
                AND r.role = 'agent' AND r.kind = 'handoff' AND r.handoff = 'resolved'
              ORDER BY r.seq LIMIT 1
            ) rs ON true
            WHERE t.kind = 'escalation' AND ${inRange(t)}
            ORDER BY t.created_at, t.conversation_id, t.seq`,
      );

      const citedQuery = queryRows<{ entry_id: string; title: string | null; n: number }>(
        db,
        sql`SELECT x.entry_id, e.title, x.n FROM (
              SELECT el.entry_id, count(*)::int AS n
              FROM turn t ${ofChannel(t)}
              CROSS JOIN LATERAL (SELECT DISTINCT u AS entry_id FROM unnest(t.cites) AS u) el
              WHERE t.kind = 'answer' AND t.role = 'bot' AND ${inRange(t)} AND t.cites IS NOT NULL
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
