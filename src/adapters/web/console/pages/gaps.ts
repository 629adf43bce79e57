import { call } from '../api.js';
import { formatDay, formatTime, t, type TextKey } from '../i18n.js';
import type { PageContext } from '../shell.js';
import type { EntrySummary, GapClusterView, GapReportView, GapSignal, Lang } from '../types.js';
import { badge, button, dialog, h } from '../ui.js';
import { PREFILL_KEY } from './editor.js';

const SIGNALS: GapSignal[] = ['low_confidence', 'none_of_these', 'unsatisfied', 'low_rating'];
const PERIODS = [7, 30, 90];

/** A row of bars, one per day (the cluster's trend), with the counts as text for screen readers. */
function trendBars(trend: number[], since: string): HTMLElement {
  const max = Math.max(1, ...trend);
  const start = new Date(since).getTime();
  return h(
    'div',
    { class: 'trend', role: 'img', 'aria-label': `${t('trend')}: ${trend.join(', ')}` },
    trend.map((n, i) => {
      const bar = h('span', { class: 'trend-bar', title: `${formatDay(new Date(start + i * 86_400_000))}: ${n}` });
      // Through the CSSOM: the console's CSP allows no inline style attribute.
      bar.style.height = `${Math.max(n > 0 ? 8 : 2, Math.round((n / max) * 100))}%`;
      return bar;
    }),
  );
}

function prefill(target: string, cluster: GapClusterView, lang?: Lang): void {
  const questions = cluster.questions.filter((q) => !lang || q.language === lang).map((q) => q.text);
  sessionStorage.setItem(PREFILL_KEY, JSON.stringify({ target, title: target === 'new' ? cluster.label : undefined, questions, lang }));
}

/** The gap report: unanswered questions grouped by similarity, with ways to turn a group into knowledge. */
export async function renderGaps(ctx: PageContext): Promise<HTMLElement> {
  const days = Number(ctx.query.get('days') ?? 30);
  const signal = ctx.query.get('signal') ?? '';
  const language = ctx.query.get('language') ?? '';
  const params = new URLSearchParams({ days: String(PERIODS.includes(days) ? days : 30) });
  if (signal) params.set('signal', signal);
  if (language) params.set('language', language);
  const { data } = await call<GapReportView>('GET', `/api/admin/kb/gaps?${params}`);
  const editable = ctx.can('kb.edit');

  const select = (name: string, label: string, options: Array<[string, string]>, value: string) => {
    const el = h(
      'select',
      { name, 'aria-label': label, 'data-testid': `gaps-${name}` },
      options.map(([v, text]) => h('option', { value: v, text })),
    );
    el.value = value;
    el.addEventListener('change', () => {
      const next = new URLSearchParams(params);
      if (el.value) next.set(name, el.value);
      else next.delete(name);
      ctx.navigate(`#/gaps?${next}`);
    });
    return el;
  };
  const filters = h('div', { class: 'filters' }, [
    select(
      'days',
      t('period'),
      PERIODS.map((d) => [String(d), t('lastDays', { days: d })]),
      params.get('days') ?? '30',
    ),
    select('signal', t('allSignals'), [['', t('allSignals')], ...SIGNALS.map((s): [string, string] => [s, t(`signal_${s}` as TextKey)])], signal),
    select(
      'language',
      t('allLanguages'),
      [
        ['', t('allLanguages')],
        ['zh', t('lang_zh')],
        ['en', t('lang_en')],
      ],
      language,
    ),
  ]);

  async function addToEntry(cluster: GapClusterView) {
    const { data: list } = await call<{ entries: EntrySummary[] }>('GET', '/api/admin/kb/entries?status=published');
    const picker = h(
      'select',
      { id: 'gap-entry', 'data-testid': 'gap-entry-picker' },
      list.entries.map((e) => h('option', { value: e.id, text: `${e.title} (${e.id})` })),
    );
    const suggested = cluster.answeredWith[0]?.entryId;
    if (suggested) picker.value = suggested;
    const chosen = await dialog(
      t('addToEntry'),
      [h('label', { for: 'gap-entry', text: t('chooseEntry') }), picker],
      [
        { label: t('cancel'), value: '' },
        { label: t('add'), value: 'add', primary: true },
      ],
      '',
    );
    if (!chosen || !picker.value) return;
    const entry = list.entries.find((e) => e.id === picker.value);
    prefill(picker.value, cluster, entry?.lang);
    ctx.navigate(`#/entries/${encodeURIComponent(picker.value)}`);
  }

  const cards = data.clusters.map((cluster) => {
    const mainLang: Lang = cluster.languages.zh > cluster.languages.en ? 'zh' : 'en';
    return h('article', { class: 'card gap-cluster', 'data-testid': 'gap-cluster' }, [
      h('div', { class: 'gap-head' }, [
        h('h2', { class: 'gap-label', text: cluster.label }),
        badge(t('asked', { count: cluster.count }), 'info', { 'data-testid': 'gap-count' }),
        ...SIGNALS.filter((s) => cluster.signals[s] > 0).map((s) => badge(`${t(`signal_${s}` as TextKey)} ${cluster.signals[s]}`, 'muted')),
      ]),
      h('p', { class: 'small muted', text: t('firstLast', { first: formatTime(cluster.firstSeen), last: formatTime(cluster.lastSeen) }) }),
      trendBars(cluster.trend, data.since),
      h('h3', { class: 'small-head', text: t('examples') }),
      h(
        'ul',
        { class: 'gap-questions' },
        cluster.questions
          .slice(0, 8)
          .map((q) =>
            h('li', { lang: q.language === 'zh' ? 'zh-CN' : 'en' }, [q.text, q.count > 1 ? h('span', { class: 'muted', text: ` ×${q.count}` }) : null]),
          ),
      ),
      cluster.answeredWith.length > 0
        ? h('p', { class: 'small' }, [
            `${t('answeredWith')}: `,
            ...cluster.answeredWith
              .slice(0, 3)
              .map((a) => h('a', { href: `#/entries/${encodeURIComponent(a.entryId)}`, class: 'entry-id', text: `${a.entryId} ` })),
          ])
        : null,
      h('div', { class: 'actions' }, [
        button(t('testThis'), () => ctx.navigate(`#/hit-test?q=${encodeURIComponent(cluster.questions[0]?.text ?? cluster.label)}`)),
        editable
          ? button(
              t('createFromCluster'),
              () => {
                prefill('new', cluster, mainLang);
                ctx.navigate(`#/new?lang=${mainLang}`);
              },
              { class: 'btn btn-primary', 'data-testid': 'gap-create' },
            )
          : null,
        editable ? button(t('addToEntry'), () => void addToEntry(cluster), { 'data-testid': 'gap-add' }) : null,
      ]),
    ]);
  });

  return h('section', { class: 'page' }, [
    h('div', { class: 'page-head' }, [h('h1', { text: t('gapsTitle') })]),
    h('p', { class: 'muted', text: t('gapsHint') }),
    filters,
    h('p', { class: 'small', 'data-testid': 'gaps-summary', text: t('gapsSummary', { questions: data.questions, clusters: data.clusters.length }) }),
    cards.length === 0 ? h('p', { class: 'empty', text: t('noGaps') }) : h('div', { class: 'cards' }, cards),
  ]);
}
