import { call } from '../api.js';
import { entryDiff } from '../diff.js';
import { formatTime, t, type TextKey } from '../i18n.js';
import type { PageContext } from '../shell.js';
import type { EntryView, FileConflictView } from '../types.js';
import { announce, button, errorText, h } from '../ui.js';

/** Markdown files that changed while their entry changed in the console: both kept until someone chooses. */
export async function renderConflicts(ctx: PageContext): Promise<HTMLElement> {
  const { data } = await call<{ conflicts: FileConflictView[] }>('GET', '/api/admin/kb/conflicts');
  const editable = ctx.can('kb.edit');
  const views = await Promise.all(
    data.conflicts.map((c) =>
      call<EntryView>('GET', `/api/admin/kb/entries/${encodeURIComponent(c.entryId)}`)
        .then((r) => r.data)
        .catch(() => null),
    ),
  );
  async function resolve(conflict: FileConflictView, use: 'file' | 'console') {
    try {
      await call('POST', `/api/admin/kb/conflicts/${encodeURIComponent(conflict.entryId)}/resolve`, {
        body: { use },
        headers: { 'if-match': `"${conflict.headVersion}"` },
      });
      announce(t('resolved'));
      ctx.navigate('#/entries');
    } catch (error) {
      announce(errorText(error), 'bad');
    }
  }
  const items = data.conflicts.map((conflict, i) => {
    const view = views[i];
    return h('article', { class: 'card', 'data-testid': 'file-conflict' }, [
      h('h2', {}, [h('a', { href: `#/entries/${encodeURIComponent(conflict.entryId)}`, text: conflict.entryId })]),
      h('p', { class: 'small', text: `${t(`conflict_${conflict.kind}` as TextKey)} · ${conflict.source} · ${formatTime(conflict.detectedAt)}` }),
      h('p', { class: 'small muted', text: `${t('consoleSide', { version: conflict.headVersion })} → ${t('fileSide', { source: conflict.source })}` }),
      conflict.file ? entryDiff(view?.head.entry ?? null, conflict.file) : h('p', { class: 'banner banner-warn', text: t('conflict_deleted') }),
      editable
        ? h('div', { class: 'actions' }, [
            button(t('keepConsole'), () => void resolve(conflict, 'console')),
            button(t('useFile'), () => void resolve(conflict, 'file'), { class: 'btn btn-primary' }),
          ])
        : null,
    ]);
  });
  return h('section', { class: 'page' }, [
    h('div', { class: 'page-head' }, [h('h1', { text: t('conflictsTitle') })]),
    h('p', { class: 'muted', text: t('conflictsHint') }),
    items.length === 0 ? h('p', { class: 'empty', text: t('noConflicts') }) : h('div', { class: 'cards' }, items),
  ]);
}
