import { readFile } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../../src/adapters/postgres/db/database.js';
import { ADMIN_TOKEN, AGENT, createTestConsole } from '../support/console.js';
import { testEngines } from '../support/databases.js';
import { CUSTOMER_WORDS, writeHistory } from '../support/stats-history.js';

const LEAD = { user: 'lena', password: 'lena-password-12' };
describe.each(testEngines())('GET /api/admin/stats on %s', (engine) => {
  let database: Database;
  let drop: () => Promise<void>;
  let app: Awaited<ReturnType<typeof createTestConsole>>['app'];
  let ids: Record<string, string>;
  let log: Awaited<ReturnType<typeof createTestConsole>>['turnLog'];
  const get = (query: string, token: string = ADMIN_TOKEN) =>
    app.request(`/api/admin/stats${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    const t = await createTestConsole(engine);
    ({ database, drop, app, turnLog: log } = t);
    await t.staff.access.addAccount({ name: LEAD.user, role: 'lead', password: LEAD.password });
    ids = await writeHistory(database);
  }, 300_000);
  afterAll(async () => drop?.());

  it('equals, figure by figure, what the scripted history produces', async () => {
    const res = await get('?from=2026-03-02&to=2026-03-04');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      from: '2026-03-02',
      to: '2026-03-04',
      channel: null,
      conversations: 7,
      resolvedByBot: 2,
      botOnly: 3,
      deflection: 0.2857,
      botOnlyShare: 0.4286,
      perDay: [
        { date: '2026-03-02', channel: 'telegram', language: 'zh', conversations: 1 },
        { date: '2026-03-02', channel: 'web', language: 'en', conversations: 2 },
        { date: '2026-03-03', channel: 'telegram', language: 'en', conversations: 2 },
        { date: '2026-03-03', channel: 'web', language: 'zh', conversations: 1 },
        { date: '2026-03-04', channel: 'web', language: 'en', conversations: 2 },
      ],
      escalations: 5,
      escalationsByReason: { customer_requested_human: 1, customer_unsatisfied: 1, low_confidence: 2, scam_report: 1 },
      escalationsByPriority: { normal: 4, urgent: 1 },
      ratings: { '1': 0, '2': 0, '3': 1, '4': 1, '5': 1 },
      ratingAverage: 4,
      ratingsPerDay: [
        { date: '2026-03-02', count: 1, average: 5 },
        { date: '2026-03-03', count: 1, average: 3 },
        { date: '2026-03-04', count: 1, average: 4 },
      ],
      ratingsByAgent: [
        { agentId: 'U1', agent: 'Alice', count: 1, average: 5 },
        { agentId: 'U2', agent: 'Bob', count: 2, average: 3.5 },
      ],
      firstHumanReply: {
        count: 4,
        p50Seconds: 180,
        p90Seconds: 492,
        withoutReply: 1,
        byAgent: [
          { agentId: 'U1', agent: 'Alice', count: 2, p50Seconds: 420, p90Seconds: 564 },
          { agentId: 'U2', agent: 'Bob', count: 2, p50Seconds: 90, p90Seconds: 114 },
        ],
      },
      resolution: {
        count: 3,
        p50Seconds: 1200,
        p90Seconds: 1680,
        unresolved: 2,
        byAgent: [
          { agentId: 'U1', agent: 'Alice', count: 1, p50Seconds: 1800, p90Seconds: 1800 },
          { agentId: 'U2', agent: 'Bob', count: 2, p50Seconds: 900, p90Seconds: 1140 },
        ],
      },
      mostCited: [
        { entryId: 'faq-kyc', title: null, count: 2 },
        { entryId: 'faq-withdrawal', title: null, count: 2 },
        { entryId: 'faq-fees', title: null, count: 1 },
      ],
    });
  });

  it('counts only the channel asked for', async () => {
    const stats = (await (await get('?from=2026-03-02&to=2026-03-04&channel=telegram')).json()) as Record<string, any>;
    expect(stats).toMatchObject({
      channel: 'telegram',
      conversations: 2,
      resolvedByBot: 0,
      botOnly: 1,
      escalationsByReason: { scam_report: 1 },
      escalationsByPriority: { urgent: 1 },
      ratings: { '1': 0, '2': 0, '3': 1, '4': 0, '5': 0 },
      firstHumanReply: { count: 1, p50Seconds: 120, p90Seconds: 120, withoutReply: 0 },
      resolution: { count: 1, p50Seconds: 1200, unresolved: 0 },
      mostCited: [
        { entryId: 'faq-kyc', title: null, count: 2 },
        { entryId: 'faq-withdrawal', title: null, count: 1 },
      ],
    });
    expect(stats.perDay.map((d: { channel: string }) => d.channel)).toEqual(['telegram', 'telegram']);
  });

  it('counts a single day, with no figure from the days around it', async () => {
    const stats = (await (await get('?from=2026-03-04&to=2026-03-04')).json()) as Record<string, any>;
    expect(stats).toMatchObject({ conversations: 2, resolvedByBot: 0, botOnly: 1, escalations: 2, mostCited: [{ entryId: 'faq-fees', count: 1 }] });
    expect((await (await get('?from=2026-02-01&to=2026-02-28')).json()) as Record<string, any>).toMatchObject({
      conversations: 0,
      deflection: null,
      escalations: 0,
      firstHumanReply: { count: 0, p50Seconds: null, p90Seconds: null },
      mostCited: [],
    });
  });

  it('exports the same figures as CSV rows', async () => {
    const res = await get('?from=2026-03-02&to=2026-03-04&format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toContain('helpdesk-stats-2026-03-02-2026-03-04.csv');
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('figure,date,channel,language,key,value');
    expect(lines).toContain('conversations,,,,,7');
    expect(lines).toContain('conversationsPerDay,2026-03-03,telegram,en,,2');
    expect(lines).toContain('escalationsByReason,,,,low_confidence,2');
    expect(lines).toContain('ratings,,,,5,1');
    expect(lines).toContain('firstHumanReplyP90Seconds,,,,,492');
    expect(lines).toContain('resolutionP50SecondsByAgent,,,,U2,900');
    expect(lines).toContain('mostCited,,,,faq-kyc,2');
  });

  it('refuses bad ranges, channels and formats with a clear message, and strangers', async () => {
    const refused = async (query: string, message: RegExp) => {
      const res = await get(query);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('invalid_request');
      expect(body.error.message).toMatch(message);
    };
    await refused('?to=2026-03-04', /from is required/);
    await refused('?from=2026-03-02', /to is required/);
    await refused('?from=2026-02-30&to=2026-03-04', /from must be a date written YYYY-MM-DD/);
    await refused('?from=2026-3-2&to=2026-03-04', /from must be a date/);
    await refused('?from=2026-03-02&to=tomorrow', /to must be a date/);
    await refused('?from=2026-03-04&to=2026-03-02', /before from/);
    await refused('?from=2024-01-01&to=2026-03-02', /at most 366/);
    await refused('?from=2026-03-02&to=2026-03-04&channel=email', /channel must be one of web, telegram/);
    await refused('?from=2026-03-02&to=2026-03-04&format=xml', /format must be json or csv/);
    expect((await get('?from=2026-03-02&to=2026-03-04', '')).status).toBe(401);
    expect((await get('?from=2026-03-02&to=2026-03-04', 'wrong-token-0123456789')).status).toBe(401);
  });

  it("answers a lead's console session, and refuses an agent's", async () => {
    const sessionOf = async (who: { user: string; password: string }) => {
      const res = await app.request('/api/admin/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(who) });
      expect(res.status).toBe(200);
      return (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
    };
    const asLead = await app.request('/api/admin/stats?from=2026-03-02&to=2026-03-04', { headers: { cookie: await sessionOf(LEAD) } });
    expect(asLead.status).toBe(200);
    expect(((await asLead.json()) as { conversations: number }).conversations).toBe(7);
    const asAgent = await app.request('/api/admin/stats?from=2026-03-02&to=2026-03-04', { headers: { cookie: await sessionOf(AGENT) } });
    expect(asAgent.status).toBe(403);
  });
  it('reads sealed turns: the rows keep no content, only plain metadata free of customer words', async () => {
    const rows = await queryRows<{ data: unknown; text: string; line: string }>(
      database.db,
      sql`SELECT t.data, t.text, row_to_json(t)::text AS line FROM turn t WHERE t.conversation_id = ${ids.c}::uuid ORDER BY t.seq`,
    );
    expect(rows.map((r) => [r.text, r.data])).toEqual(rows.map(() => ['', { sealed: 1 }]));
    for (const r of rows) {
      expect(r.line).not.toContain(CUSTOMER_WORDS);
      expect(r.line).not.toContain('customer_c');
    }
    const meta = await queryRows<{ kind: string; rating: number | null; handoff: string | null; agent_id: string | null; agent_name: string | null }>(
      database.db,
      sql`SELECT kind, rating, handoff, agent_id, agent_name FROM turn WHERE conversation_id = ${ids.c}::uuid AND (rating IS NOT NULL OR handoff IS NOT NULL) ORDER BY seq`,
    );
    expect(meta).toEqual([
      { kind: 'handoff', rating: null, handoff: 'claimed', agent_id: 'U1', agent_name: 'Alice' },
      { kind: 'handoff', rating: null, handoff: 'resolved', agent_id: 'U1', agent_name: 'Alice' },
      { kind: 'rating', rating: 5, handoff: null, agent_id: null, agent_name: null },
    ]);
  });

  it("rebuilds the same roll-ups from the turns alone with the migration's backfill", async () => {
    const before = await (await get('?from=2026-03-02&to=2026-03-04')).json();
    // Each roll-up's backfill, from the migration that last built it.
    const tables = ['stats_activity', 'stats_conversation_day', 'stats_handoff', 'stats_rating', 'stats_citation_day'];
    const backfill = new Map<string, string>();
    for (const file of ['0018_stats_indexes.sql', '0021_stats_in_sql.sql']) {
      const migration = await readFile(new URL(`../../drizzle/${file}`, import.meta.url), 'utf8');
      for (const part of migration.split('--> statement-breakpoint').map((p) => p.trim())) {
        const table = /^(?:--[^\n]*\n)*INSERT INTO (stats_\w+)/.exec(part)?.[1];
        if (table && tables.includes(table)) backfill.set(table, part);
      }
    }
    expect([...backfill.keys()].sort()).toEqual([...tables].sort());
    for (const table of tables) await database.db.execute(sql.raw(`DELETE FROM ${table}`));
    expect(((await (await get('?from=2026-03-02&to=2026-03-04')).json()) as { conversations: number }).conversations).toBe(0);
    for (const statement of backfill.values()) await database.db.execute(sql.raw(statement));
    expect(await (await get('?from=2026-03-02&to=2026-03-04')).json()).toEqual(before);
  });

  it('gives the same figures after conversations are erased (erasure destroys content, not counts); the audit passes, and catches a changed rating and an agent added to a customer turn', async () => {
    const before = await (await get('?from=2026-03-02&to=2026-03-04')).json();
    for (const name of ['a', 'c', 'd', 'h']) expect(await log.erase(ids[name] as string)).toMatchObject({ status: 'erased' });
    expect(await (await get('?from=2026-03-02&to=2026-03-04')).json()).toEqual(before);
    expect(await (await get('?from=2026-03-02&to=2026-03-04&format=csv')).text()).toContain('ratings,,,,5,1');
    const audit = await log.verify();
    expect(audit.violations).toEqual([]);
    expect(audit.erasedTurns).toBeGreaterThan(0);

    // A rating changed in the row after its content was erased: only the header can tell.
    const client = (database.db as unknown as { $client: { exec?: (q: string) => Promise<unknown>; query: (q: string) => Promise<unknown> } }).$client;
    const exec = (query: string) => (client.exec ? client.exec(query) : client.query(query));
    await exec(
      `ALTER TABLE turn DISABLE TRIGGER USER; UPDATE turn SET rating = 1 WHERE conversation_id = '${ids.c}' AND kind = 'rating'; ALTER TABLE turn ENABLE TRIGGER USER`,
    );
    const tampered = await log.verify();
    expect(tampered.ok).toBe(false);
    expect(tampered.violations.map((v) => v.reason)).toEqual([expect.stringMatching(/plain metadata differs from the logged header/)]);

    // A row whose metadata columns were all empty gains one: the audit reads it as metadata too.
    await exec(
      `ALTER TABLE turn DISABLE TRIGGER USER; UPDATE turn SET agent_id = 'U-forged' WHERE conversation_id = '${ids.b}' AND seq = 1; ALTER TABLE turn ENABLE TRIGGER USER`,
    );
    const forged = await log.verify();
    const reasons = forged.violations.map((v) => v.reason);
    expect(reasons).toHaveLength(2);
    expect(reasons).toContainEqual(expect.stringMatching(new RegExp(`turn ${ids.b}#1: turn row's plain metadata differs from the logged header`)));
  });
});
