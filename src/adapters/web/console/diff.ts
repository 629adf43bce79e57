import { type Change, diffChars, diffLines, diffWordsWithSpace } from 'diff';
import { h } from '../widget/dom.js';
import { t, type TextKey } from './i18n.js';
import type { EntryContent } from './types.js';

const HAN = /\p{Script=Han}/u;

/** Changed text within a line: by character for Chinese, by word otherwise. */
function inline(before: string, after: string): Change[] {
  return HAN.test(before + after) ? diffChars(before, after) : diffWordsWithSpace(before, after);
}

function spans(changes: Change[]): HTMLElement[] {
  return changes.map((c) => (c.added ? h('ins', { text: c.value }) : c.removed ? h('del', { text: c.value }) : h('span', { text: c.value })));
}

/** The difference of two texts: unchanged lines as they are, changed lines with what changed marked. */
export function textDiff(before: string, after: string): HTMLElement {
  const out = h('div', { class: 'diff' });
  const parts = diffLines(before, after);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as Change;
    const next = parts[i + 1];
    if (part.removed && next?.added) {
      out.append(h('div', { class: 'diff-change' }, spans(inline(part.value, next.value))));
      i++;
    } else if (part.added) out.append(h('div', { class: 'diff-add' }, [h('ins', { text: part.value })]));
    else if (part.removed) out.append(h('div', { class: 'diff-del' }, [h('del', { text: part.value })]));
    else out.append(h('div', { class: 'diff-same', text: part.value }));
  }
  return out;
}

const FIELDS: Array<[TextKey, (e: EntryContent) => string]> = [
  ['fieldTitle', (e) => e.title],
  ['fieldQuestions', (e) => e.questions.join('\n')],
  ['fieldTags', (e) => e.tags.join(', ')],
  ['fieldLinks', (e) => e.links.map((l) => `${l.title} ${l.url}`).join('\n')],
  ['fieldTranslation', (e) => e.translation ?? ''],
  ['fieldBody', (e) => e.body],
];

/** The fields that differ between two versions of an entry, each with its text difference. */
export function entryDiff(before: EntryContent | null, after: EntryContent): HTMLElement {
  const rows = FIELDS.flatMap(([key, read]) => {
    const a = before ? read(before) : '';
    const b = read(after);
    if (a === b) return [];
    return [h('div', { class: 'diff-field' }, [h('div', { class: 'diff-label', text: t(key) }), textDiff(a, b)])];
  });
  return h('div', { class: 'entry-diff', 'data-testid': 'diff' }, rows.length > 0 ? rows : [h('p', { class: 'muted', text: t('noChanges') })]);
}
