import { call } from '../api.js';
import { entryDiff } from '../diff.js';
import { formatTime, t, type TextKey } from '../i18n.js';
import type { PageContext } from '../shell.js';
import type { RevisionView } from '../types.js';
import { announce, badge, button, errorText, h } from '../ui.js';
import { STATUS_TONE } from './entries.js';

/** An entry's versions, newest first, each with what it changed and a restore (as a draft, or published). */
export async function renderHistory(ctx: PageContext): Promise<HTMLElement> {
  const id = ctx.params[0] ?? '';
  const { data } = await call<{ revisions: RevisionView[] }>('GET', `/api/admin/kb/entries/${encodeURIComponent(id)}/history`);
  const revisions = data.revisions;
  const latest = revisions[revisions.length - 1];
  const editable = ctx.can('kb.edit');

  async function restore(version: number, publish: boolean) {
    try {
      const reply = await call<{ version: number }>('POST', `/api/admin/kb/entries/${encodeURIComponent(id)}/restore`, {
        headers: latest ? { 'if-match': `"${latest.version}"` } : {},
        body: { version, publish },
      });
      announce(t('restored', { from: version, version: reply.data.version }));
      ctx.navigate(`#/entries/${encodeURIComponent(id)}`);
    } catch (error) {
      announce(errorText(error), 'bad');
    }
  }

  const items = [...revisions].reverse().map((r) => {
    const previous = revisions.find((p) => p.version === r.version - 1) ?? null;
    const details = h('details', { class: 'revision-diff' }, [
      h('summary', { text: t('compareWith', { from: previous?.version ?? 0, to: r.version }) }),
      entryDiff(previous?.entry ?? null, r.entry),
    ]);
    if (r === latest) details.open = true;
    return h('li', { class: 'revision', 'data-testid': 'revision', 'data-version': String(r.version) }, [
      h('div', { class: 'revision-head' }, [
        h('strong', { text: t('headVersion', { version: r.version }) }),
        badge(t(`status_${r.status}` as TextKey), STATUS_TONE[r.status]),
        h('span', { class: 'small', text: t('byAt', { who: r.author, when: formatTime(r.createdAt) }) }),
        h('span', { class: 'small muted', text: `${t(`origin_${r.origin}` as TextKey)}${r.restoredFrom ? ` ← v${r.restoredFrom}` : ''} · log #${r.logIndex}` }),
      ]),
      h('p', { class: 'revision-title', text: r.entry.title }),
      details,
      editable && r !== latest
        ? h('div', { class: 'actions' }, [
            button(t('restore'), () => void restore(r.version, false), { 'data-testid': 'restore-draft' }),
            button(t('restorePublish'), () => void restore(r.version, true), { class: 'btn btn-primary', 'data-testid': 'restore-publish' }),
          ])
        : null,
    ]);
  });
  return h('section', { class: 'page' }, [
    h('div', { class: 'page-head' }, [
      h('div', {}, [h('a', { href: `#/entries/${encodeURIComponent(id)}`, class: 'back', text: `← ${id}` }), h('h1', { text: t('historyTitle', { id }) })]),
    ]),
    h('ol', { class: 'revisions' }, items),
  ]);
}
