import { call } from '../api.js';
import { formatTime, t, type TextKey } from '../i18n.js';
import type { PageContext } from '../shell.js';
import type { EntrySummary, FileConflictView } from '../types.js';
import { badge, button, h } from '../ui.js';

export const STATUS_TONE = { published: 'ok', draft: 'info', removed: 'muted' } as const;
export const TRANSLATION_TONE = { ok: 'ok', missing: 'bad', outdated: 'warn', both_changed: 'warn' } as const;

export function statusBadge(e: Pick<EntrySummary, 'status' | 'hasDraft'>): HTMLElement {
  const wrap = h('span', { class: 'badges' }, [badge(t(`status_${e.status}` as TextKey), STATUS_TONE[e.status], { 'data-testid': 'status' })]);
  if (e.hasDraft) wrap.append(badge(t('draftPending'), 'info'));
  return wrap;
}

export function translationBadge(e: Pick<EntrySummary, 'translation'>): HTMLElement {
  return badge(t(`translation_${e.translation.state}` as TextKey), TRANSLATION_TONE[e.translation.state], { 'data-testid': 'translation-state' });
}

/** The knowledge base: entries with their state, searchable and filtered by language, tag and status. */
export async function renderEntries(ctx: PageContext): Promise<HTMLElement> {
  const query = ctx.query;
  const params = new URLSearchParams();
  for (const key of ['q', 'lang', 'tag', 'status']) {
    const value = query.get(key);
    if (value) params.set(key, value);
  }
  const [{ data }, conflicts] = await Promise.all([
    call<{ entries: EntrySummary[]; tags: string[] }>('GET', `/api/admin/kb/entries${params.size > 0 ? `?${params}` : ''}`),
    call<{ conflicts: FileConflictView[] }>('GET', '/api/admin/kb/conflicts'),
  ]);

  const search = h('input', {
    type: 'search',
    id: 'entry-search',
    name: 'q',
    value: query.get('q') ?? '',
    placeholder: t('searchPlaceholder'),
    'data-testid': 'entry-search',
  });
  const select = (name: string, label: string, options: Array<[string, string]>) => {
    const el = h('select', { name, 'aria-label': label, 'data-testid': `filter-${name}` }, [
      h('option', { value: '', text: label }),
      ...options.map(([value, text]) => h('option', { value, text })),
    ]);
    el.value = query.get(name) ?? '';
    return el;
  };
  const lang = select('lang', t('allLanguages'), [
    ['zh', t('lang_zh')],
    ['en', t('lang_en')],
  ]);
  const tag = select(
    'tag',
    t('allTags'),
    data.tags.map((x) => [x, x]),
  );
  const status = select('status', t('allStatuses'), [
    ['published', t('status_published')],
    ['draft', t('status_draft')],
    ['removed', t('status_removed')],
  ]);
  const form = h('form', { class: 'filters', role: 'search' }, [
    h('label', { class: 'sr-only', for: 'entry-search', text: t('search') }),
    search,
    lang,
    tag,
    status,
    h('button', { type: 'submit', class: 'btn', text: t('search') }),
  ]);
  const apply = () => {
    const next = new URLSearchParams();
    if (search.value.trim()) next.set('q', search.value.trim());
    for (const el of [lang, tag, status]) if (el.value) next.set(el.name, el.value);
    ctx.navigate(`#/entries${next.size > 0 ? `?${next}` : ''}`);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  for (const el of [lang, tag, status]) el.addEventListener('change', apply);

  const rows = data.entries.map((e) => {
    const open = h('a', { href: `#/entries/${encodeURIComponent(e.id)}`, class: 'entry-link', 'data-testid': 'entry-link' }, [
      h('span', { class: 'entry-title', text: e.title }),
      h('span', { class: 'entry-id', text: e.id }),
    ]);
    return h('tr', { 'data-testid': 'entry-row', 'data-entry-id': e.id }, [
      h('td', { 'data-label': t('colEntry') }, [open]),
      h('td', { 'data-label': t('colLang'), text: t(`lang_${e.lang}` as TextKey) }),
      h('td', { 'data-label': t('colStatus') }, [statusBadge(e), e.conflict ? badge(t('navConflicts'), 'bad') : null]),
      h('td', {
        'data-label': t('colVersion'),
        class: 'num',
        text: e.liveVersion !== null && e.liveVersion !== e.version ? `${e.liveVersion} → ${e.version}` : String(e.version),
      }),
      h('td', { 'data-label': t('colTranslation') }, [
        translationBadge(e),
        e.translation.id ? h('span', { class: 'entry-id', text: ` ${e.translation.id}` }) : null,
      ]),
      h('td', { 'data-label': t('colUpdated'), class: 'small', text: t('byAt', { who: e.updatedBy, when: formatTime(e.updatedAt) }) }),
    ]);
  });

  return h('section', { class: 'page' }, [
    h('div', { class: 'page-head' }, [
      h('h1', { text: t('navEntries') }),
      ctx.can('kb.edit') ? button(t('newEntry'), () => ctx.navigate('#/new'), { class: 'btn btn-primary', 'data-testid': 'new-entry' }) : null,
    ]),
    conflicts.data.conflicts.length > 0
      ? h('p', { class: 'banner banner-warn' }, [h('a', { href: '#/conflicts', text: t('conflictsBanner', { count: conflicts.data.conflicts.length }) })])
      : null,
    form,
    h('p', { class: 'muted small', 'aria-live': 'polite', text: t('entriesCount', { count: data.entries.length }) }),
    data.entries.length === 0
      ? h('p', { class: 'empty', text: t('noEntries') })
      : h('table', { class: 'table entries-table' }, [
          h('thead', {}, [
            h('tr', {}, [
              h('th', { scope: 'col', text: t('colEntry') }),
              h('th', { scope: 'col', text: t('colLang') }),
              h('th', { scope: 'col', text: t('colStatus') }),
              h('th', { scope: 'col', class: 'num', text: t('colVersion') }),
              h('th', { scope: 'col', text: t('colTranslation') }),
              h('th', { scope: 'col', text: t('colUpdated') }),
            ]),
          ]),
          h('tbody', {}, rows),
        ]),
  ]);
}
