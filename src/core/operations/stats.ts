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

/** Time from escalations to what followed them (docs/stats.md), as storage measured it. */
export interface DurationFacts {
  /** Escalations in the range that got one. */
  count: number;
  /** The percentiles of those times in seconds, unrounded; null when count is 0. */
  p50Seconds: number | null;
  p90Seconds: number | null;
}

/**
 * What storage counts for a range; `toHelpdeskStats` turns it into the published figures. The
 * definitions of each field are in docs/stats.md, and every implementation follows them exactly:
 * storage does the counting, grouping and percentiles, so that a range's cost is a few aggregate
 * statements however many conversations it holds.
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
  /**
   * Rating turns in the range with a value from 1 to 5: how many of each value, and the count and
   * sum of the values per UTC day and per agent credited (the agent of the last resolve before it).
   */
  ratings: {
    byValue: Array<{ rating: number; count: number }>;
    perDay: Array<{ date: string; count: number; sum: number }>;
    byAgent: Array<{ agent: StatsAgent; count: number; sum: number }>;
  };
  /** From each escalation in the range to the first agent message after it (before the next escalation). */
  firstReply: DurationFacts & { byAgent: Array<DurationFacts & { agent: StatsAgent }> };
  /** From each escalation in the range to the first resolve after it (before the next escalation). */
  resolution: DurationFacts & { byAgent: Array<DurationFacts & { agent: StatsAgent }> };
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

const roundMs = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 1000) / 1000);

/** A duration figure as published: percentiles in seconds to the millisecond. */
export function toDurationSummary(facts: DurationFacts): DurationSummary {
  return { count: facts.count, p50Seconds: roundMs(facts.p50Seconds), p90Seconds: roundMs(facts.p90Seconds) };
}

const share = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);
const average = (sum: number, count: number) => (count === 0 ? null : Math.round((sum / count) * 100) / 100);
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Duration figures per agent, agents in id order. */
const byAgent = (agents: Array<DurationFacts & { agent: StatsAgent }>) =>
  [...agents].sort((a, b) => byId(a.agent.id, b.agent.id)).map((a) => ({ agentId: a.agent.id, agent: a.agent.name, ...toDurationSummary(a) }));

const countBy = <T>(items: T[], key: (item: T) => string, weight: (item: T) => number = () => 1) => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + weight(item);
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
};

/** The published figures of a range (docs/stats.md defines each). */
export function toHelpdeskStats(range: StatsRange, facts: StatsFacts) {
  const ratings: Record<'1' | '2' | '3' | '4' | '5', number> = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  let ratingCount = 0;
  let ratingSum = 0;
  for (const r of facts.ratings.byValue) {
    const key = String(r.rating) as keyof typeof ratings;
    if (!(key in ratings)) continue;
    ratings[key] += r.count;
    ratingCount += r.count;
    ratingSum += r.rating * r.count;
  }
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
    ratingAverage: average(ratingSum, ratingCount),
    ratingsPerDay: [...facts.ratings.perDay]
      .sort((a, b) => byId(a.date, b.date))
      .map((d) => ({ date: d.date, count: d.count, average: average(d.sum, d.count) })),
    ratingsByAgent: [...facts.ratings.byAgent]
      .sort((a, b) => byId(a.agent.id, b.agent.id))
      .map((a) => ({ agentId: a.agent.id, agent: a.agent.name, count: a.count, average: average(a.sum, a.count) })),
    firstHumanReply: {
      ...toDurationSummary(facts.firstReply),
      withoutReply: escalationTotal - facts.firstReply.count,
      byAgent: byAgent(facts.firstReply.byAgent),
    },
    resolution: {
      ...toDurationSummary(facts.resolution),
      unresolved: escalationTotal - facts.resolution.count,
      byAgent: byAgent(facts.resolution.byAgent),
    },
    mostCited: facts.cited,
  };
}
