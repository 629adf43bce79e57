import type { Channel, Language } from '../model.js';

/** A period of whole UTC days, `from` and `to` included, optionally one channel. */
export interface StatsRange {
  from: string;
  to: string;
  channel?: Channel;
}

/** An agent as the desk recorded them on their turns. */
export interface StatsAgent {
  id: string;
  name: string | null;
}

/** One escalation made in the range, with what followed it until the next escalation of its conversation. */
export interface HandoffSpan {
  escalatedAt: Date;
  /** The first agent message to the customer after the escalation (internal notes are not replies). */
  firstReply: { at: Date; agent: StatsAgent } | null;
  /** The agent's resolve of the handoff. */
  resolved: { at: Date; agent: StatsAgent } | null;
}

/**
 * What storage counts for a range; `toHelpdeskStats` turns it into the published figures. The
 * definitions of each field are in docs/stats.md, and every implementation follows them exactly.
 */
export interface StatsFacts {
  /** Conversations with at least one customer turn in the range. */
  conversations: number;
  /** Of those: a customer "solved" action in the range and no agent turn in the range. */
  resolvedByBot: number;
  /** Of those: neither an escalation nor an agent turn in the range. */
  botOnly: number;
  /**
   * Per UTC day, channel and language: conversations with a customer turn in that language that
   * day (one that switched language that day counts under both).
   */
  perDay: Array<{ date: string; channel: Channel; language: Language; conversations: number }>;
  /** Escalation turns in the range by reason and priority. */
  escalations: Array<{ reason: string; priority: string; count: number }>;
  /** Rating turns in the range, each with the agent who resolved the handoff it rates. */
  ratings: Array<{ date: string; rating: number; agent: StatsAgent | null }>;
  /** Escalations in the range and what followed them. */
  handoffs: HandoffSpan[];
  /** Knowledge entries cited by the bot's answers in the range, most cited first (ties by id), at most `limit`. */
  cited: Array<{ entryId: string; title: string | null; count: number }>;
}

/** Reads the facts of a range from storage: `start` included, `end` excluded. */
export interface StatsSource {
  read(range: { start: Date; end: Date; channel?: Channel; citedLimit: number }): Promise<StatsFacts>;
}

export interface DurationSummary {
  count: number;
  p50Seconds: number | null;
  p90Seconds: number | null;
}

export type HelpdeskStats = ReturnType<typeof toHelpdeskStats>;

const DAY_MS = 86_400_000;
/** The longest range one request may ask for: a year, leap day included. */
export const MAX_STATS_DAYS = 366;
export const MOST_CITED = 10;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Why a stats range is refused, for the caller to show as it is. */
export class StatsRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StatsRangeError';
  }
}

function toDay(name: string, value: string | undefined): Date {
  if (value === undefined || value === '') throw new StatsRangeError(`${name} is required (YYYY-MM-DD, a UTC day).`);
  const day = DATE.test(value) ? new Date(`${value}T00:00:00Z`) : undefined;
  if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) {
    throw new StatsRangeError(`${name} must be a date written YYYY-MM-DD (got "${value.slice(0, 40)}").`);
  }
  return day;
}

/** The instants a range covers: from the start of `from` to the end of `to` (UTC); throws StatsRangeError. */
export function toStatsPeriod(range: { from?: string; to?: string }): { start: Date; end: Date; days: number } {
  const start = toDay('from', range.from);
  const last = toDay('to', range.to);
  if (last < start) throw new StatsRangeError(`to (${range.to}) is before from (${range.from}).`);
  const days = Math.round((last.getTime() - start.getTime()) / DAY_MS) + 1;
  if (days > MAX_STATS_DAYS) throw new StatsRangeError(`The range spans ${days} days; at most ${MAX_STATS_DAYS} are allowed.`);
  return { start, end: new Date(last.getTime() + DAY_MS), days };
}

/** Percentile with linear interpolation between closest ranks (PostgreSQL's percentile_cont). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const a = sorted[lo] as number;
  const b = sorted[Math.ceil(rank)] as number;
  return a + (b - a) * (rank - lo);
}

const roundMs = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 1000) / 1000);

export function summarizeDurations(seconds: readonly number[]): DurationSummary {
  const sorted = [...seconds].sort((a, b) => a - b);
  return { count: sorted.length, p50Seconds: roundMs(percentile(sorted, 50)), p90Seconds: roundMs(percentile(sorted, 90)) };
}

const secondsBetween = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;
const share = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);
const average = (values: number[]) => (values.length === 0 ? null : Math.round((values.reduce((s, v) => s + v, 0) / values.length) * 100) / 100);

/** Durations grouped by agent (id, with the name seen last), agents in id order. */
function byAgent(samples: Array<{ agent: StatsAgent; seconds: number }>) {
  const groups = new Map<string, { name: string | null; seconds: number[] }>();
  for (const { agent, seconds } of samples) {
    const group = groups.get(agent.id) ?? { name: agent.name, seconds: [] };
    group.name = agent.name ?? group.name;
    group.seconds.push(seconds);
    groups.set(agent.id, group);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, g]) => ({ agentId: id, agent: g.name, ...summarizeDurations(g.seconds) }));
}

const countBy = <T>(items: T[], key: (item: T) => string, weight: (item: T) => number = () => 1) => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + weight(item);
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
};

/** The published figures of a range (docs/stats.md defines each). */
export function toHelpdeskStats(range: StatsRange, facts: StatsFacts) {
  const ratings: Record<'1' | '2' | '3' | '4' | '5', number> = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  for (const r of facts.ratings) {
    const key = String(r.rating) as keyof typeof ratings;
    if (key in ratings) ratings[key] += 1;
  }
  const valid = facts.ratings.filter((r) => r.rating >= 1 && r.rating <= 5);
  const ratingDays = [...new Set(valid.map((r) => r.date))].sort();
  const ratedAgents = new Map<string, { name: string | null; values: number[] }>();
  for (const r of valid) {
    if (!r.agent) continue;
    const group = ratedAgents.get(r.agent.id) ?? { name: r.agent.name, values: [] };
    group.values.push(r.rating);
    ratedAgents.set(r.agent.id, group);
  }
  const replies = facts.handoffs.flatMap((h) => (h.firstReply ? [{ agent: h.firstReply.agent, seconds: secondsBetween(h.escalatedAt, h.firstReply.at) }] : []));
  const resolutions = facts.handoffs.flatMap((h) => (h.resolved ? [{ agent: h.resolved.agent, seconds: secondsBetween(h.escalatedAt, h.resolved.at) }] : []));
  const escalationTotal = facts.escalations.reduce((s, e) => s + e.count, 0);
  return {
    from: range.from,
    to: range.to,
    channel: range.channel ?? null,
    conversations: facts.conversations,
    resolvedByBot: facts.resolvedByBot,
    botOnly: facts.botOnly,
    deflection: share(facts.resolvedByBot, facts.conversations),
    botOnlyShare: share(facts.botOnly, facts.conversations),
    perDay: facts.perDay,
    escalations: escalationTotal,
    escalationsByReason: countBy(
      facts.escalations,
      (e) => e.reason,
      (e) => e.count,
    ),
    escalationsByPriority: countBy(
      facts.escalations,
      (e) => e.priority,
      (e) => e.count,
    ),
    ratings,
    ratingAverage: average(valid.map((r) => r.rating)),
    ratingsPerDay: ratingDays.map((date) => {
      const values = valid.filter((r) => r.date === date).map((r) => r.rating);
      return { date, count: values.length, average: average(values) };
    }),
    ratingsByAgent: [...ratedAgents]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, g]) => ({ agentId: id, agent: g.name, count: g.values.length, average: average(g.values) })),
    firstHumanReply: {
      ...summarizeDurations(replies.map((r) => r.seconds)),
      withoutReply: facts.handoffs.length - replies.length,
      byAgent: byAgent(replies),
    },
    resolution: {
      ...summarizeDurations(resolutions.map((r) => r.seconds)),
      unresolved: facts.handoffs.length - resolutions.length,
      byAgent: byAgent(resolutions),
    },
    mostCited: facts.cited,
  };
}
