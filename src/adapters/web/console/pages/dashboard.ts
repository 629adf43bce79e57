import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { call } from '../api.js';
import type { PageContext } from '../shell.js';
import type { GapReportView } from '../types.js';
import { h } from '../ui.js';
import { codeText, dt } from './dashboard-texts.js';

// Only the parts of Chart.js the dashboard draws with: the bundle keeps nothing else.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

/** GET /api/admin/stats as the dashboard reads it (docs/stats.md defines each figure). */
interface Durations {
  count: number;
  p50Seconds: number | null;
  p90Seconds: number | null;
  byAgent: Array<{ agentId: string; agent: string | null; count: number; p50Seconds: number | null; p90Seconds: number | null }>;
}
export interface StatsView {
  from: string;
  to: string;
  channel: string | null;
  conversations: number;
  resolvedByBot: number;
  deflection: number | null;
  perDay: Array<{ date: string; channel: string; language: string; conversations: number }>;
  escalations: number;
  escalationsByReason: Record<string, number>;
  escalationsByPriority: Record<string, number>;
  ratings: Record<'1' | '2' | '3' | '4' | '5', number>;
  ratingAverage: number | null;
  ratingsPerDay: Array<{ date: string; count: number; average: number | null }>;
  ratingsByAgent: Array<{ agentId: string; agent: string | null; count: number; average: number | null }>;
  firstHumanReply: Durations & { withoutReply: number };
  resolution: Durations & { unresolved: number };
  mostCited: Array<{ entryId: string; title: string | null; count: number }>;
}

const DAY_MS = 86_400_000;
const PRESETS = [7, 30, 90];
const CHANNELS = ['web', 'telegram'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
// Colour-blind-safe series colours (Okabe-Ito).
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

const today = () => new Date().toISOString().slice(0, 10);
const daysBefore = (day: string, n: number) => new Date(new Date(`${day}T00:00:00Z`).getTime() - n * DAY_MS).toISOString().slice(0, 10);

/** A duration for people: seconds, minutes or hours, one decimal at most. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return dt('notMeasured');
  const one = (n: number) => String(Math.round(n * 10) / 10);
  if (seconds < 90) return dt('seconds', { n: one(seconds) });
  if (seconds < 90 * 60) return dt('minutes', { n: one(seconds / 60) });
  return dt('hours', { n: one(seconds / 3600) });
}

const percent = (share: number | null) => (share === null ? dt('notMeasured') : `${Math.round(share * 1000) / 10}%`);
const agentName = (a: { agentId: string; agent: string | null }) => a.agent ?? a.agentId;

function table(testId: string, head: string[], rows: Array<Array<string | number | Node>>, numeric: number[] = []): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted small', 'data-testid': testId, text: dt('none') });
  return h('table', { class: 'table dash-table', 'data-testid': testId }, [
    h('thead', {}, [
      h(
        'tr',
        {},
        head.map((text, i) => h('th', { scope: 'col', class: numeric.includes(i) ? 'num' : null, text })),
      ),
    ]),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          {},
          row.map((cell, i) =>
            h('td', { class: numeric.includes(i) ? 'num' : null, 'data-label': head[i] ?? '' }, [cell instanceof Node ? cell : String(cell)]),
          ),
        ),
      ),
    ),
  ]);
}

/** A chart on a canvas (its figures are in the table beside it, for reading and for screen readers). */
function chart(testId: string, label: string, config: ChartConfiguration, charts: Chart[]): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': label, 'data-testid': testId });
  const box = h('div', { class: 'dash-chart' }, [canvas]);
  // Drawn once the page is in the document (Chart.js measures the canvas's box).
  setTimeout(() => {
    if (canvas.isConnected) charts.push(new Chart(canvas, config));
  }, 0);
  return box;
}

function tile(testId: string, label: string, value: string, detail: string): HTMLElement {
  return h('div', { class: 'card dash-tile', 'data-testid': testId }, [
    h('p', { class: 'dash-tile-label', text: label }),
    h('p', { class: 'dash-tile-value', 'data-testid': `${testId}-value`, text: value }),
    h('p', { class: 'small muted', 'data-testid': `${testId}-detail`, text: detail }),
  ]);
}

const section = (title: string, ...children: Array<Node | null>) =>
  h('section', { class: 'card dash-section' }, [h('h2', { class: 'dash-h2', text: title }), ...children]);
const wide = (el: HTMLElement) => {
  el.classList.add('dash-wide');
  return el;
};

const baseOptions = { animation: false as const, responsive: true, maintainAspectRatio: false };

let live: Chart[] = [];

/** The support lead's dashboard: the figures of a period, drawn and tabled, with a CSV export. */
export async function renderDashboard(ctx: PageContext): Promise<HTMLElement> {
  for (const c of live) c.destroy();
  live = [];
  const to = DATE.test(ctx.query.get('to') ?? '') ? (ctx.query.get('to') as string) : today();
  const from = DATE.test(ctx.query.get('from') ?? '') ? (ctx.query.get('from') as string) : daysBefore(to, 29);
  const channel = CHANNELS.includes(ctx.query.get('channel') ?? '') ? (ctx.query.get('channel') as string) : '';
  const params = new URLSearchParams({ from, to });
  if (channel) params.set('channel', channel);

  const [{ data: s }, gaps] = await Promise.all([
    call<StatsView>('GET', `/api/admin/stats?${params}`),
    ctx.can('kb.gaps') ? call<GapReportView>('GET', '/api/admin/kb/gaps?days=30').then((r) => r.data) : Promise.resolve(undefined),
  ]);

  // Filters: a period and a channel, kept in the address (a view can be bookmarked and shared).
  const fromInput = h('input', { type: 'date', id: 'dash-from', value: from, max: to, 'data-testid': 'dash-from' });
  const toInput = h('input', { type: 'date', id: 'dash-to', value: to, 'data-testid': 'dash-to' });
  const channelSelect = h('select', { id: 'dash-channel', 'data-testid': 'dash-channel' }, [
    h('option', { value: '', text: dt('allChannels') }),
    ...CHANNELS.map((c) => h('option', { value: c, text: codeText('channel', c) })),
  ]);
  channelSelect.value = channel;
  const problem = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'dash-problem' });
  const go = (next: { from: string; to: string; channel: string }) => {
    if (!DATE.test(next.from) || !DATE.test(next.to) || next.from > next.to) {
      problem.textContent = dt('badRange');
      return;
    }
    const q = new URLSearchParams({ from: next.from, to: next.to });
    if (next.channel) q.set('channel', next.channel);
    ctx.navigate(`#/dashboard?${q}`);
  };
  const form = h('form', { class: 'filters dash-filters', 'data-testid': 'dash-filters' }, [
    h('label', { for: 'dash-from', text: dt('from') }),
    fromInput,
    h('label', { for: 'dash-to', text: dt('to') }),
    toInput,
    h('label', { for: 'dash-channel', text: dt('channel') }),
    channelSelect,
    h('button', { type: 'submit', class: 'btn btn-primary', text: dt('apply') }),
    ...PRESETS.map((days) =>
      h('a', {
        class: 'btn',
        href: `#/dashboard?${new URLSearchParams({ from: daysBefore(today(), days - 1), to: today(), ...(channel ? { channel } : {}) })}`,
        text: dt('lastDays', { days }),
      }),
    ),
    h('a', {
      class: 'btn',
      href: `/api/admin/stats?${new URLSearchParams({ ...Object.fromEntries(params), format: 'csv' })}`,
      download: '',
      'data-testid': 'dash-csv',
      text: dt('csv'),
    }),
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go({ from: fromInput.value, to: toInput.value, channel: channelSelect.value });
  });

  const tiles = h('div', { class: 'dash-tiles' }, [
    tile('dash-conversations', dt('conversations'), String(s.conversations), `${s.from} – ${s.to}`),
    tile('dash-deflection', dt('deflection'), percent(s.deflection), dt('deflectionDetail', { resolved: s.resolvedByBot, total: s.conversations })),
    tile('dash-escalations', dt('escalations'), String(s.escalations), ''),
    tile(
      'dash-rating',
      dt('ratingAverage'),
      s.ratingAverage === null ? dt('notMeasured') : String(s.ratingAverage),
      dt('ratingCount', { count: Object.values(s.ratings).reduce((a, b) => a + b, 0) }),
    ),
    tile(
      'dash-first-reply',
      dt('firstReply'),
      formatDuration(s.firstHumanReply.p50Seconds),
      `${dt('p50p90', { p50: formatDuration(s.firstHumanReply.p50Seconds), p90: formatDuration(s.firstHumanReply.p90Seconds) })} · ${dt('measured', { count: s.firstHumanReply.count })}`,
    ),
    tile(
      'dash-resolution',
      dt('resolution'),
      formatDuration(s.resolution.p50Seconds),
      `${dt('p50p90', { p50: formatDuration(s.resolution.p50Seconds), p90: formatDuration(s.resolution.p90Seconds) })} · ${dt('measured', { count: s.resolution.count })}`,
    ),
  ]);

  // Conversations per day: one stacked series per channel and language.
  const days = [...new Set(s.perDay.map((d) => d.date))].sort();
  const series = [...new Set(s.perDay.map((d) => `${d.channel}|${d.language}`))].sort();
  const seriesLabel = (key: string) => {
    const [c = '', l = ''] = key.split('|');
    return `${codeText('channel', c)} · ${codeText('lang', l)}`;
  };
  const perDay = section(
    dt('perDay'),
    days.length > 0
      ? chart(
          'dash-per-day-chart',
          dt('perDay'),
          {
            type: 'bar',
            data: {
              labels: days,
              datasets: series.map((key, i) => ({
                label: seriesLabel(key),
                backgroundColor: COLOURS[i % COLOURS.length],
                data: days.map((day) => s.perDay.find((d) => d.date === day && `${d.channel}|${d.language}` === key)?.conversations ?? 0),
              })),
            },
            options: { ...baseOptions, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
          },
          live,
        )
      : null,
    table(
      'dash-per-day',
      [dt('date'), dt('channel'), dt('language'), dt('conversations')],
      s.perDay.map((d) => [d.date, codeText('channel', d.channel), codeText('lang', d.language), d.conversations]),
      [3],
    ),
  );

  const reasons = Object.entries(s.escalationsByReason).sort(([, a], [, b]) => b - a);
  const escalations = section(
    dt('byReason'),
    reasons.length > 0
      ? chart(
          'dash-reasons-chart',
          dt('byReason'),
          {
            type: 'bar',
            data: {
              labels: reasons.map(([r]) => codeText('reason', r)),
              datasets: [{ label: dt('escalations'), backgroundColor: COLOURS[5], data: reasons.map(([, n]) => n) }],
            },
            options: { ...baseOptions, indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
          },
          live,
        )
      : null,
    table(
      'dash-reasons',
      [dt('reason'), dt('count')],
      reasons.map(([r, n]) => [codeText('reason', r), n]),
      [1],
    ),
    h('h3', { class: 'small-head', text: dt('byPriority') }),
    table(
      'dash-priorities',
      [dt('priority'), dt('count')],
      Object.entries(s.escalationsByPriority).map(([p, n]) => [codeText('priority', p), n]),
      [1],
    ),
  );

  const stars = ['1', '2', '3', '4', '5'] as const;
  const ratings = section(
    dt('ratings'),
    chart(
      'dash-ratings-chart',
      dt('ratings'),
      {
        type: 'bar',
        data: {
          labels: stars.map((n) => dt('stars', { n })),
          datasets: [{ label: dt('ratings'), backgroundColor: COLOURS[2], data: stars.map((n) => s.ratings[n]) }],
        },
        options: { ...baseOptions, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      },
      live,
    ),
    table(
      'dash-ratings',
      [dt('rating'), dt('count')],
      stars.map((n) => [dt('stars', { n }), s.ratings[n]]),
      [1],
    ),
    h('h3', { class: 'small-head', text: dt('ratingTrend') }),
    s.ratingsPerDay.length > 0
      ? chart(
          'dash-rating-trend-chart',
          dt('ratingTrend'),
          {
            type: 'line',
            data: {
              labels: s.ratingsPerDay.map((d) => d.date),
              datasets: [{ label: dt('average'), borderColor: COLOURS[0], backgroundColor: COLOURS[0], data: s.ratingsPerDay.map((d) => d.average) }],
            },
            options: { ...baseOptions, plugins: { legend: { display: false } }, scales: { y: { min: 1, max: 5 } } },
          },
          live,
        )
      : null,
    table(
      'dash-rating-trend',
      [dt('date'), dt('rated'), dt('average')],
      s.ratingsPerDay.map((d) => [d.date, d.count, d.average ?? dt('notMeasured')]),
      [1, 2],
    ),
  );

  // Per agent: first replies, resolutions and ratings side by side.
  const agentIds = [...new Set([...s.firstHumanReply.byAgent, ...s.resolution.byAgent, ...s.ratingsByAgent].map((a) => a.agentId))].sort();
  const nameOf = (id: string) => {
    const a = [...s.firstHumanReply.byAgent, ...s.resolution.byAgent, ...s.ratingsByAgent].find((x) => x.agentId === id);
    return a ? agentName(a) : id;
  };
  const agents = wide(
    section(
      dt('byAgent'),
      table(
        'dash-agents',
        [
          dt('agent'),
          dt('replies'),
          `${dt('firstReply')} p50`,
          `${dt('firstReply')} p90`,
          dt('resolved'),
          `${dt('resolution')} p50`,
          `${dt('resolution')} p90`,
          dt('rated'),
          dt('average'),
        ],
        agentIds.map((id) => {
          const r = s.firstHumanReply.byAgent.find((a) => a.agentId === id);
          const z = s.resolution.byAgent.find((a) => a.agentId === id);
          const g = s.ratingsByAgent.find((a) => a.agentId === id);
          return [
            nameOf(id),
            r?.count ?? 0,
            formatDuration(r?.p50Seconds ?? null),
            formatDuration(r?.p90Seconds ?? null),
            z?.count ?? 0,
            formatDuration(z?.p50Seconds ?? null),
            formatDuration(z?.p90Seconds ?? null),
            g?.count ?? 0,
            g?.average ?? dt('notMeasured'),
          ];
        }),
        [1, 2, 3, 4, 5, 6, 7, 8],
      ),
    ),
  );

  const cited = section(
    dt('mostCited'),
    table(
      'dash-cited',
      [dt('entry'), dt('citations')],
      s.mostCited.map((c) => [
        h('a', { href: `#/entries/${encodeURIComponent(c.entryId)}`, text: c.title ? `${c.title} (${c.entryId})` : c.entryId }),
        c.count,
      ]),
      [1],
    ),
  );

  const gapSection = gaps
    ? section(
        dt('gaps'),
        table(
          'dash-gaps',
          [dt('question'), dt('asked')],
          gaps.clusters.slice(0, 5).map((c) => [h('a', { href: '#/gaps?days=30', text: c.label }), c.count]),
          [1],
        ),
        h('p', {}, [h('a', { href: '#/gaps?days=30', 'data-testid': 'dash-gaps-link', text: dt('gapsLink') })]),
      )
    : null;

  return h('section', { class: 'page dashboard' }, [
    h('div', { class: 'page-head' }, [h('h1', { text: dt('title') })]),
    h('p', { class: 'muted', text: dt('hint') }),
    form,
    problem,
    tiles,
    h('div', { class: 'dash-grid' }, [perDay, escalations, ratings, agents, cited, gapSection]),
  ]);
}
