import { Hono, type MiddlewareHandler } from 'hono';
import { type Channel, type HelpdeskStats, MOST_CITED, type StatsSource, StatsRangeError, toHelpdeskStats, toStatsPeriod } from '../../core/index.js';

const CHANNELS: readonly Channel[] = ['web', 'telegram'];

type CsvRow = { figure: string; date?: string; channel?: string; language?: string; key?: string; value: number | string | null };

/** A spreadsheet cell: quoted when it holds a separator, a quote or a line break; formula starts defused. */
function toCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The figures as one long table (figure, date, channel, language, key, value): every figure of
 * the JSON in rows a spreadsheet can filter and pivot.
 */
export function toStatsCsv(stats: HelpdeskStats): string {
  const rows: CsvRow[] = [
    { figure: 'conversations', value: stats.conversations },
    { figure: 'resolvedByBot', value: stats.resolvedByBot },
    { figure: 'botOnly', value: stats.botOnly },
    { figure: 'deflection', value: stats.deflection },
    { figure: 'botOnlyShare', value: stats.botOnlyShare },
    ...stats.perDay.map((d) => ({ figure: 'conversationsPerDay', date: d.date, channel: d.channel, language: d.language, value: d.conversations })),
    { figure: 'escalations', value: stats.escalations },
    ...Object.entries(stats.escalationsByReason).map(([key, value]) => ({ figure: 'escalationsByReason', key, value })),
    ...Object.entries(stats.escalationsByPriority).map(([key, value]) => ({ figure: 'escalationsByPriority', key, value })),
    ...Object.entries(stats.ratings).map(([key, value]) => ({ figure: 'ratings', key, value })),
    { figure: 'ratingAverage', value: stats.ratingAverage },
    ...stats.ratingsPerDay.flatMap((d) => [
      { figure: 'ratingsPerDay', date: d.date, value: d.count },
      { figure: 'ratingAveragePerDay', date: d.date, value: d.average },
    ]),
    ...stats.ratingsByAgent.flatMap((a) => [
      { figure: 'ratingsByAgent', key: a.agentId, value: a.count },
      { figure: 'ratingAverageByAgent', key: a.agentId, value: a.average },
    ]),
    ...(['firstHumanReply', 'resolution'] as const).flatMap((figure) => {
      const s = stats[figure];
      return [
        { figure: `${figure}Count`, value: s.count },
        { figure: `${figure}P50Seconds`, value: s.p50Seconds },
        { figure: `${figure}P90Seconds`, value: s.p90Seconds },
        ...s.byAgent.flatMap((a) => [
          { figure: `${figure}CountByAgent`, key: a.agentId, value: a.count },
          { figure: `${figure}P50SecondsByAgent`, key: a.agentId, value: a.p50Seconds },
          { figure: `${figure}P90SecondsByAgent`, key: a.agentId, value: a.p90Seconds },
        ]),
      ];
    }),
    { figure: 'firstHumanReplyWithoutReply', value: stats.firstHumanReply.withoutReply },
    { figure: 'resolutionUnresolved', value: stats.resolution.unresolved },
    ...stats.mostCited.map((c) => ({ figure: 'mostCited', key: c.entryId, value: c.count })),
  ];
  const header = 'figure,date,channel,language,key,value';
  return `${[header, ...rows.map((r) => [r.figure, r.date, r.channel, r.language, r.key, r.value].map(toCell).join(','))].join('\r\n')}\r\n`;
}

/**
 * GET /api/admin/stats?from=YYYY-MM-DD&to=YYYY-MM-DD[&channel=web|telegram][&format=csv]: the
 * support lead's figures (docs/stats.md), as JSON or CSV. `guard` decides who may (the console's
 * session of a role with stats.read, or the admin token).
 */
export function createStatsRoutes(deps: { stats: StatsSource; guard: MiddlewareHandler }) {
  const app = new Hono();
  const invalid = (message: string) => ({ error: { code: 'invalid_request', message } });

  app.get('/api/admin/stats', deps.guard, async (c) => {
    const query = { from: c.req.query('from'), to: c.req.query('to'), channel: c.req.query('channel'), format: c.req.query('format') };
    if (query.channel !== undefined && !CHANNELS.includes(query.channel as Channel)) {
      return c.json(invalid(`channel must be one of ${CHANNELS.join(', ')}.`), 400);
    }
    if (query.format !== undefined && query.format !== 'json' && query.format !== 'csv') {
      return c.json(invalid('format must be json or csv.'), 400);
    }
    let period: ReturnType<typeof toStatsPeriod>;
    try {
      period = toStatsPeriod(query);
    } catch (error) {
      if (error instanceof StatsRangeError) return c.json(invalid(error.message), 400);
      throw error;
    }
    const channel = query.channel as Channel | undefined;
    const range = { from: query.from as string, to: query.to as string, ...(channel ? { channel } : {}) };
    const facts = await deps.stats.read({ start: period.start, end: period.end, ...(channel ? { channel } : {}), citedLimit: MOST_CITED });
    const stats = toHelpdeskStats(range, facts);
    if (query.format === 'csv') {
      const name = `helpdesk-stats-${range.from}-${range.to}${channel ? `-${channel}` : ''}.csv`;
      return c.body(toStatsCsv(stats), 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${name}"`,
        'cache-control': 'no-store',
      });
    }
    return c.json(stats, 200, { 'cache-control': 'no-store' });
  });
  return app;
}
