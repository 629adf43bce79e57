import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../../src/adapters/postgres/db/database.js';
import { createPgStats } from '../../src/adapters/postgres/stores/pg-stats.js';
import { type Channel, MOST_CITED, type StatsRange, toHelpdeskStats, toStatsPeriod } from '../../src/core/index.js';
import { createTestDatabase, testEngines } from '../support/databases.js';

/** A seeded generator (mulberry32): the same histories on every run and engine. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Turn = {
  role: 'customer' | 'agent' | 'system' | 'bot';
  kind: string;
  at: Date;
  action?: string;
  handoff?: string;
  agent?: { id: string; name: string };
  rating?: number;
};
type Conversation = { id: string; channel: Channel; turns: Turn[] };

/** The documented percentile (docs/stats.md): linear interpolation between the closest ranks. */
function percentile(values: number[], p: number): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const a = sorted[lo] as number;
  return a + ((sorted[Math.ceil(rank)] as number) - a) * (rank - lo);
}
const ms = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 1000) / 1000);

/** Writes turns as the store's rows (plain metadata, content sealed elsewhere), one statement per turn in seq order. */
async function write(db: Database['db'], conversations: Conversation[]) {
  for (const c of conversations) {
    await db.execute(
      sql`INSERT INTO conversation (id, channel, external_id, language, last_seq) VALUES (${c.id}::uuid, ${c.channel}, ${c.id}, 'en', ${c.turns.length})`,
    );
    for (const [i, t] of c.turns.entries()) {
      await db.execute(sql`
        INSERT INTO turn (conversation_id, seq, role, kind, text, language, data, escalation_reason, escalation_priority, created_at, rating, action, handoff, agent_id, agent_name)
        VALUES (${c.id}::uuid, ${i + 1}, ${t.role}, ${t.kind}, '', 'en', '{"sealed":1}'::jsonb,
                ${t.kind === 'escalation' ? 'low_confidence' : null}, ${t.kind === 'escalation' ? 'normal' : null}, ${t.at.toISOString()}::timestamptz,
                ${t.rating ?? null}, ${t.action ?? null}, ${t.handoff ?? null}, ${t.agent?.id ?? null}, ${t.agent?.name ?? null})`);
    }
  }
}

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe.each(testEngines())('the dashboard figures computed in SQL on %s', (engine) => {
  let database: Database;
  let drop: () => Promise<void>;
  const read = async (range: StatsRange) => {
    const period = toStatsPeriod(range);
    const facts = await createPgStats(database.db).read({
      start: period.start,
      end: period.end,
      ...(range.channel ? { channel: range.channel } : {}),
      citedLimit: MOST_CITED,
    });
    return toHelpdeskStats(range, facts);
  };

  beforeAll(async () => {
    ({ database, drop } = await createTestDatabase(engine));
  }, 120_000);
  afterAll(async () => drop?.());

  it('counts conversations, bot resolutions and bot-only ones by their definitions, whatever order the days of a conversation arrive in', async () => {
    // Turns over six days whose times go back and forth (instances with different clocks, a
    // conversation returned to days later): every count must still follow the turns' own days.
    const next = random(21);
    const days = ['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04', '2026-05-05', '2026-05-06'];
    const conversations: Conversation[] = Array.from({ length: 40 }, (_, n) => ({
      id: uuid(1000 + n),
      channel: n % 3 === 0 ? 'telegram' : 'web',
      turns: Array.from({ length: 1 + Math.floor(next() * 7) }, (): Turn => {
        const at = new Date(`${days[Math.floor(next() * days.length)]}T00:00:00Z`);
        at.setUTCMilliseconds(Math.floor(next() * 86_400_000));
        const pick = next();
        if (pick < 0.35) return { role: 'customer', kind: 'message', at };
        if (pick < 0.5) return { role: 'customer', kind: 'action', action: 'solved', at };
        if (pick < 0.6) return { role: 'system', kind: 'escalation', at };
        if (pick < 0.75) return { role: 'agent', kind: next() < 0.5 ? 'message' : 'note', agent: { id: 'U1', name: 'Alice' }, at };
        return { role: 'bot', kind: 'answer', at };
      }),
    }));
    await write(database.db, conversations);

    const expected = (from: string, to: string, channel?: Channel) => {
      const [start, end] = [new Date(`${from}T00:00:00Z`), new Date(new Date(`${to}T00:00:00Z`).getTime() + 86_400_000)];
      let total = 0;
      let resolvedByBot = 0;
      let botOnly = 0;
      for (const c of conversations) {
        if (channel && c.channel !== channel) continue;
        const inRange = c.turns.filter((t) => t.at >= start && t.at < end);
        if (!inRange.some((t) => t.role === 'customer')) continue;
        total += 1;
        const human = inRange.some((t) => t.role === 'agent');
        if (!human && inRange.some((t) => t.role === 'customer' && t.action === 'solved')) resolvedByBot += 1;
        if (!human && !inRange.some((t) => t.kind === 'escalation')) botOnly += 1;
      }
      return { conversations: total, resolvedByBot, botOnly };
    };
    for (const [i, from] of days.entries()) {
      for (const to of days.slice(i)) {
        const stats = await read({ from, to });
        expect({ conversations: stats.conversations, resolvedByBot: stats.resolvedByBot, botOnly: stats.botOnly }, `${from}..${to}`).toEqual(
          expected(from, to),
        );
      }
    }
    const telegram = await read({ from: '2026-05-02', to: '2026-05-04', channel: 'telegram' });
    expect({ conversations: telegram.conversations, resolvedByBot: telegram.resolvedByBot, botOnly: telegram.botOnly }).toEqual(
      expected('2026-05-02', '2026-05-04', 'telegram'),
    );

    // The trigger's roll-up is the one the migration's backfill builds from the turns alone.
    const rows = () =>
      queryRows<Record<string, unknown>>(
        database.db,
        sql`SELECT conversation_id::text, day::text, channel, next_day::text, customer_day::text, solved_day::text, human_day::text, escalated_day::text
            FROM stats_conversation_day WHERE day >= '2026-05-01' AND day < '2026-05-07' ORDER BY 1, 2`,
      );
    const kept = await rows();
    expect(kept.length).toBeGreaterThan(40);
    const { readFile } = await import('node:fs/promises');
    const migration = await readFile(new URL('../../drizzle/0021_stats_in_sql.sql', import.meta.url), 'utf8');
    const backfill = migration
      .split('--> statement-breakpoint')
      .map((part) => part.trim())
      .find((part) => /^(--[^\n]*\n)*INSERT INTO stats_conversation_day/.test(part));
    await database.db.execute(sql`DELETE FROM stats_conversation_day`);
    await database.db.execute(sql.raw(backfill as string));
    expect(await rows()).toEqual(kept);
  });

  it('gives the percentiles, counts and per-agent figures of the documented definitions over many handoffs', async () => {
    const next = random(7);
    const agents = [
      { id: 'U7', name: 'Grace' },
      { id: 'U3', name: 'Carol' },
      { id: 'admin:dan', name: 'Dan' },
    ];
    const conversations: Conversation[] = [];
    const replies: Array<{ agent: string; seconds: number }> = [];
    const resolves: Array<{ agent: string; seconds: number }> = [];
    const ratings: Array<{ agent: string; rating: number; day: string }> = [];
    for (let n = 0; n < 61; n++) {
      const escalated = new Date(Date.UTC(2026, 6, 1 + (n % 3), 8, 0, 0) + Math.floor(next() * 36_000_000));
      const agent = agents[Math.floor(next() * agents.length)] as (typeof agents)[number];
      const turns: Turn[] = [
        { role: 'customer', kind: 'message', at: new Date(escalated.getTime() - 1000) },
        { role: 'system', kind: 'escalation', at: escalated },
      ];
      if (n % 7 !== 3) {
        const replyMs = 1 + Math.floor(next() * 5_000_000);
        turns.push({ role: 'agent', kind: 'note', agent, at: new Date(escalated.getTime() + Math.floor(replyMs / 2)) });
        turns.push({ role: 'agent', kind: 'message', agent, at: new Date(escalated.getTime() + replyMs) });
        replies.push({ agent: agent.id, seconds: replyMs / 1000 });
        if (n % 5 !== 1) {
          const resolvedMs = replyMs + Math.floor(next() * 9_000_000);
          const resolvedAt = new Date(escalated.getTime() + resolvedMs);
          turns.push({ role: 'agent', kind: 'handoff', handoff: 'resolved', agent, at: resolvedAt });
          resolves.push({ agent: agent.id, seconds: resolvedMs / 1000 });
          const rating = 1 + Math.floor(next() * 5);
          const ratedAt = new Date(resolvedAt.getTime() + 30_000);
          turns.push({ role: 'customer', kind: 'rating', rating, at: ratedAt });
          ratings.push({ agent: agent.id, rating, day: ratedAt.toISOString().slice(0, 10) });
        }
      }
      conversations.push({ id: uuid(5000 + n), channel: 'web', turns });
    }
    await write(database.db, conversations);

    const stats = await read({ from: '2026-07-01', to: '2026-07-31' });
    const summary = (samples: Array<{ seconds: number }>) => ({
      count: samples.length,
      p50Seconds: ms(
        percentile(
          samples.map((s) => s.seconds),
          50,
        ),
      ),
      p90Seconds: ms(
        percentile(
          samples.map((s) => s.seconds),
          90,
        ),
      ),
    });
    const perAgent = (samples: Array<{ agent: string; seconds: number }>) =>
      [...agents]
        .filter((a) => samples.some((s) => s.agent === a.id))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((a) => ({ agentId: a.id, agent: a.name, ...summary(samples.filter((s) => s.agent === a.id)) }));
    const average = (values: number[]) => Math.round((values.reduce((s, v) => s + v, 0) / values.length) * 100) / 100;

    expect(stats.escalations).toBe(61);
    expect(stats.firstHumanReply).toEqual({ ...summary(replies), withoutReply: 61 - replies.length, byAgent: perAgent(replies) });
    expect(stats.resolution).toEqual({ ...summary(resolves), unresolved: 61 - resolves.length, byAgent: perAgent(resolves) });
    expect(stats.ratings).toEqual(Object.fromEntries([1, 2, 3, 4, 5].map((v) => [String(v), ratings.filter((r) => r.rating === v).length])));
    expect(stats.ratingAverage).toBe(average(ratings.map((r) => r.rating)));
    expect(stats.ratingsPerDay).toEqual(
      [...new Set(ratings.map((r) => r.day))].sort().map((day) => {
        const values = ratings.filter((r) => r.day === day).map((r) => r.rating);
        return { date: day, count: values.length, average: average(values) };
      }),
    );
    expect(stats.ratingsByAgent).toEqual(
      [...agents]
        .filter((a) => ratings.some((r) => r.agent === a.id))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((a) => {
          const values = ratings.filter((r) => r.agent === a.id).map((r) => r.rating);
          return { agentId: a.id, agent: a.name, count: values.length, average: average(values) };
        }),
    );
    // The documented example, through the same statements: of [60, 120, 240, 600] s, p50 180 and p90 492.
    const example = [60, 120, 240, 600].map(
      (seconds, n): Conversation => ({
        id: uuid(9000 + n),
        channel: 'telegram',
        turns: [
          { role: 'system', kind: 'escalation', at: new Date(Date.UTC(2026, 7, 1, 9, n)) },
          { role: 'agent', kind: 'message', agent: { id: 'U1', name: 'Alice' }, at: new Date(Date.UTC(2026, 7, 1, 9, n) + seconds * 1000) },
        ],
      }),
    );
    await write(database.db, example);
    expect((await read({ from: '2026-08-01', to: '2026-08-01' })).firstHumanReply).toMatchObject({ count: 4, p50Seconds: 180, p90Seconds: 492 });
  });
});
