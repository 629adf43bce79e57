import { ApiError, call, type FieldIssue, issuesOf } from '../api.js';
import { entryDiff } from '../diff.js';
import { formatTime, isTextKey, t, type TextKey, uiLanguage } from '../i18n.js';
import { answerPreview } from '../preview.js';
import { SETTINGS } from '../settings.js';
import type { PageContext } from '../shell.js';
import type { EntryContent, EntryView, Lang, RevisionView } from '../types.js';
import { announce, badge, button, confirmDialog, errorText, h } from '../ui.js';
import { statusBadge, translationBadge } from './entries.js';

/** One language's side of the editor: what the server has, and the edit in progress. */
interface Side {
  lang: Lang;
  view: EntryView | null;
  form: EntryContent;
  /** The latest version the edit started from (If-Match); null for an entry not stored yet. */
  base: number | null;
  issues: FieldIssue[];
  /** This version matches the other side's published version (declared with the save). */
  sync: boolean;
  /** Their version, after a save refused because someone else saved first. */
  theirs: RevisionView | null;
  /** The edit is shown (an entry that does not exist yet shows an "add" button first). */
  open: boolean;
  busy: boolean;
}

const LANGS: Lang[] = ['zh', 'en'];
const OTHER: Record<Lang, Lang> = { zh: 'en', en: 'zh' };
const WIP_PREFIX = 'helpdesk-console-wip:';
export const PREFILL_KEY = 'helpdesk-console-prefill';

const emptyContent = (lang: Lang, id = ''): EntryContent => ({ id, lang, title: '', questions: [], tags: [], links: [], translation: null, body: '' });
const sameContent = (a: EntryContent, b: EntryContent) => JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
/** The nodes that are there: parts of a view that do not apply are null. */
function present(...nodes: Array<Node | string | null>): Array<Node | string> {
  return nodes.filter((n): n is Node | string => n !== null);
}

function normalize(c: EntryContent): EntryContent {
  return {
    ...c,
    title: c.title.trim(),
    questions: c.questions.map((q) => q.trim()).filter(Boolean),
    tags: c.tags.map((x) => x.trim()).filter(Boolean),
    links: c.links.filter((l) => l.title.trim() || l.url.trim()),
    translation: c.translation?.trim() || null,
    body: c.body.trim(),
  };
}

/** Unsaved work survives a reload, an expired session and a language switch: kept per entry in the browser. */
interface Wip {
  form: EntryContent;
  base: number | null;
  at: string;
}
function readWip(id: string): Wip | undefined {
  try {
    const raw = localStorage.getItem(WIP_PREFIX + id);
    return raw ? (JSON.parse(raw) as Wip) : undefined;
  } catch {
    return undefined;
  }
}
function writeWip(id: string, side: Side): void {
  if (!id) return;
  try {
    localStorage.setItem(WIP_PREFIX + id, JSON.stringify({ form: side.form, base: side.base, at: new Date().toISOString() } satisfies Wip));
  } catch {
    // storage full or unavailable: the edit stays in this page only
  }
}
function dropWip(id: string): void {
  try {
    localStorage.removeItem(WIP_PREFIX + id);
  } catch {
    // nothing kept
  }
}

/** A suggested id for the translation of `id`: its language suffix swapped, else one added. */
function translationIdFor(id: string, lang: Lang): string {
  const swapped = id.replace(/-(zh|en)$/, `-${lang}`);
  return swapped !== id ? swapped : `${id}-${lang}`;
}

const fetchEntry = async (id: string): Promise<EntryView | null> => {
  try {
    return (await call<EntryView>('GET', `/api/admin/kb/entries/${encodeURIComponent(id)}`)).data;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
};

/** Codes whose server message names the offending part (a contact, a tag, a link, an id). */
const SPECIFIC = new Set(['unlisted_contact', 'html_in_markdown', 'unsafe_link', 'duplicate_id', 'translation_missing', 'translation_same_language']);

function issueText(issue: FieldIssue): string {
  const key = `issue_${issue.code}`;
  if (!isTextKey(key)) return issue.message;
  const localized = t(key, { limit: issue.limit ?? '' });
  if (!SPECIFIC.has(issue.code)) return localized;
  return uiLanguage() === 'en' ? issue.message : `${localized}（${issue.message}）`;
}

/**
 * The entry editor: Chinese and English side by side (the entry and its translation), each with
 * its fields, the answer's preview as customers see it, the problems found field by field, and
 * its own draft, publish, history and removal. A save names the version it started from: a
 * save refused because someone else saved first keeps the text and shows both.
 */
export async function renderEditor(ctx: PageContext, options: { isNew: boolean }): Promise<HTMLElement> {
  const editable = ctx.can('kb.edit');
  const requestedId = ctx.params[0] ?? '';
  const first = options.isNew ? null : await fetchEntry(requestedId);
  if (!options.isNew && !first) throw new ApiError(404, 'entry_not_found', t('notFound'));
  const partnerId = first ? (first.translation.id ?? first.head.entry.translation) : null;
  const second = partnerId ? await fetchEntry(partnerId) : null;

  const sides = {} as Record<Lang, Side>;
  const makeSide = (lang: Lang, view: EntryView | null): Side => ({
    lang,
    view,
    form: view
      ? { ...view.head.entry, questions: [...view.head.entry.questions], tags: [...view.head.entry.tags], links: view.head.entry.links.map((l) => ({ ...l })) }
      : emptyContent(lang),
    base: view?.version ?? null,
    issues: [],
    sync: false,
    theirs: null,
    open: view !== null,
    busy: false,
  });
  const newLang: Lang = ctx.query.get('lang') === 'zh' || ctx.query.get('lang') === 'en' ? (ctx.query.get('lang') as Lang) : uiLanguage();
  for (const lang of LANGS) {
    const view = first?.lang === lang ? first : second?.lang === lang ? second : null;
    sides[lang] = makeSide(lang, view);
  }
  if (options.isNew) sides[newLang].open = true;
  const notices: HTMLElement[] = [];

  // A new entry from the gap report: its questions, title and language come prefilled.
  const prefill = (() => {
    try {
      const raw = sessionStorage.getItem(PREFILL_KEY);
      sessionStorage.removeItem(PREFILL_KEY);
      return raw ? (JSON.parse(raw) as { target: string; title?: string; questions: string[]; lang?: Lang }) : undefined;
    } catch {
      return undefined;
    }
  })();
  if (prefill && options.isNew && prefill.target === 'new') {
    const side = sides[prefill.lang ?? newLang];
    side.open = true;
    side.form.title = prefill.title ?? '';
    side.form.questions = [...prefill.questions];
    notices.push(h('p', { class: 'banner banner-info', role: 'status', text: t('addedQuestions', { count: prefill.questions.length }) }));
  }
  // Unsaved work from before (a reload, an expired session) comes back.
  for (const lang of LANGS) {
    const side = sides[lang];
    const id = side.view?.id;
    const wip = id ? readWip(id) : undefined;
    if (id && wip && !sameContent(wip.form, side.form)) {
      side.form = wip.form;
      side.base = wip.base;
      notices.push(
        h('p', { class: 'banner banner-info', role: 'status' }, [
          t('restoredLocal', { when: formatTime(wip.at) }),
          ' ',
          button(t('discardLocal'), () => {
            dropWip(id);
            side.form = makeSide(lang, side.view).form;
            side.base = side.view?.version ?? null;
            drawSide(lang);
          }),
        ]),
      );
    }
  }
  if (prefill && prefill.target !== 'new') {
    const side = LANGS.map((l) => sides[l]).find((s) => s.view?.id === prefill.target);
    if (side) {
      const known = new Set(side.form.questions);
      side.form.questions.push(...prefill.questions.filter((q) => !known.has(q)));
      notices.push(h('p', { class: 'banner banner-info', role: 'status', text: t('addedQuestions', { count: prefill.questions.length }) }));
      writeWip(side.form.id, side);
    }
  }

  const dirty = (side: Side) =>
    side.open && (side.view ? !sameContent(side.form, side.view.head.entry) : !sameContent(side.form, emptyContent(side.lang, side.form.id)));
  ctx.setLeaveGuard(() => LANGS.some((l) => dirty(sides[l])));

  const columns = h('div', { class: 'editor-columns' });
  const containers = {} as Record<Lang, HTMLElement>;
  for (const lang of LANGS) {
    containers[lang] = h('section', {
      class: 'side',
      'data-lang': lang,
      'data-testid': `side-${lang}`,
      'aria-labelledby': `side-${lang}-title`,
      lang: lang === 'zh' ? 'zh-CN' : 'en',
    });
    columns.append(containers[lang]);
  }

  async function refresh(lang: Lang, id: string) {
    const side = sides[lang];
    side.view = await fetchEntry(id);
    side.base = side.view?.version ?? null;
    if (side.view) side.form = makeSide(lang, side.view).form;
    side.theirs = null;
    side.issues = [];
    side.sync = false;
  }

  async function save(lang: Lang, publish: boolean, overwrite = false) {
    const side = sides[lang];
    const other = sides[OTHER[lang]];
    const content = normalize(side.form);
    if (!content.id) {
      side.issues = [{ field: 'id', code: 'required', message: 'required' }];
      drawSide(lang);
      return;
    }
    side.busy = true;
    drawActions(lang);
    const path = `/api/admin/kb/entries/${encodeURIComponent(content.id)}${publish ? '' : '/draft'}`;
    const headers: Record<string, string> = side.base !== null ? { 'if-match': `"${side.base}"` } : overwrite ? {} : { 'if-none-match': '*' };
    const syncVersion = side.sync ? other.view?.liveVersion : undefined;
    try {
      const reply = await call<{ id: string; version: number }>('PUT', path, {
        headers,
        body: {
          lang: content.lang,
          title: content.title,
          questions: content.questions,
          tags: content.tags,
          links: content.links,
          translation: content.translation,
          body: content.body,
          ...(syncVersion ? { translationSync: syncVersion } : {}),
        },
      });
      dropWip(content.id);
      const unchanged = side.view?.version === reply.data.version;
      await refresh(lang, content.id);
      if (other.view) await refresh(OTHER[lang], other.view.id);
      side.open = true;
      announce(unchanged ? t('unchanged') : t(publish ? 'published' : 'savedDraft', { version: reply.data.version }));
      drawSide(lang);
      drawSide(OTHER[lang]);
      (containers[lang].querySelector('h2') as HTMLElement | null)?.focus();
    } catch (error) {
      const issues = issuesOf(error);
      if (issues) {
        side.issues = issues;
        announce(t('invalid'), 'bad');
      } else if (error instanceof ApiError && error.code === 'version_conflict') {
        side.theirs = (error.detail.current as RevisionView | null) ?? null;
      } else if (error instanceof ApiError && error.code === 'duplicate_id') {
        side.issues = [{ field: 'id', code: 'duplicate_id', message: error.message }];
      } else {
        announce(errorText(error), 'bad');
      }
      writeWip(content.id, side);
      drawSide(lang);
    } finally {
      side.busy = false;
      drawActions(lang);
    }
  }

  async function remove(lang: Lang) {
    const side = sides[lang];
    if (!side.view || !(await confirmDialog(t('confirmRemove', { id: side.view.id })))) return;
    try {
      const reply = await call<{ version: number }>('DELETE', `/api/admin/kb/entries/${encodeURIComponent(side.view.id)}`, {
        headers: { 'if-match': `"${side.base}"` },
      });
      await refresh(lang, side.view.id);
      announce(t('removed', { version: reply.data.version }));
      drawSide(lang);
    } catch (error) {
      const issues = issuesOf(error);
      if (issues) side.issues = issues;
      else if (error instanceof ApiError && error.code === 'version_conflict') side.theirs = (error.detail.current as RevisionView | null) ?? null;
      else announce(errorText(error), 'bad');
      drawSide(lang);
    }
  }

  // Live checks while typing: the server's validator (the same as for files), a moment after the last key.
  const validateTimers = {} as Record<Lang, ReturnType<typeof setTimeout> | undefined>;
  function scheduleValidation(lang: Lang) {
    clearTimeout(validateTimers[lang]);
    validateTimers[lang] = setTimeout(async () => {
      const side = sides[lang];
      const content = normalize(side.form);
      if (!content.id || !/^[a-z0-9][a-z0-9._-]{0,127}$/.test(content.id)) return;
      try {
        const reply = await call<{ issues: FieldIssue[] }>('POST', `/api/admin/kb/entries/${encodeURIComponent(content.id)}/validate?publish=1`, {
          body: {
            lang: content.lang,
            title: content.title,
            questions: content.questions,
            tags: content.tags,
            links: content.links,
            translation: content.translation,
            body: content.body,
          },
        });
        side.issues = reply.data.issues;
        drawIssues(lang);
      } catch {
        // checked again on save
      }
    }, 700);
  }

  const actionSlots = {} as Record<Lang, HTMLElement>;
  function drawActions(lang: Lang) {
    const slot = actionSlots[lang];
    if (!slot) return;
    const side = sides[lang];
    const exists = side.view !== null && side.view.status !== 'removed';
    slot.replaceChildren(
      ...present(
        ...(editable
          ? [
              button(side.busy ? t('saving') : t('saveDraft'), () => void save(lang, false), { disabled: side.busy, 'data-testid': 'save-draft' }),
              button(side.busy ? t('publishing') : t('publish'), () => void save(lang, true), {
                class: 'btn btn-primary',
                disabled: side.busy,
                'data-testid': 'publish',
              }),
            ]
          : []),
        side.view
          ? h('a', { class: 'btn btn-link', href: `#/history/${encodeURIComponent(side.view.id)}`, 'data-testid': 'history-link', text: t('history') })
          : null,
        editable && exists && side.view?.liveVersion !== null
          ? button(t('removeEntry'), () => void remove(lang), { class: 'btn btn-danger', 'data-testid': 'remove' })
          : null,
      ),
    );
  }

  const issueSlots = {} as Record<Lang, Map<string, HTMLElement>>;
  function drawIssues(lang: Lang) {
    const slots = issueSlots[lang];
    if (!slots) return;
    const side = sides[lang];
    for (const [, el] of slots) {
      el.replaceChildren();
      el.hidden = true;
    }
    const container = containers[lang];
    for (const input of Array.from(container.querySelectorAll('[aria-invalid]'))) input.removeAttribute('aria-invalid');
    for (const issue of side.issues) {
      const [field = 'file', index, sub] = issue.field.split('.');
      const slot = slots.get(field) ?? slots.get('file');
      if (!slot) continue;
      const where =
        field === 'questions' && index !== undefined
          ? `${t('line', { n: Number(index) + 1 })}: `
          : field === 'links' && index !== undefined
            ? `${t('link', { n: Number(index) + 1 })}${sub ? ` (${sub})` : ''}: `
            : '';
      slot.append(h('span', { class: 'issue', 'data-testid': 'issue', 'data-field': issue.field, 'data-code': issue.code, text: where + issueText(issue) }));
      slot.hidden = false;
      container.querySelector(`[data-field-input="${field}"]`)?.setAttribute('aria-invalid', 'true');
    }
  }

  function drawSide(lang: Lang) {
    const side = sides[lang];
    const other = sides[OTHER[lang]];
    const container = containers[lang];
    const title = h('h2', { id: `side-${lang}-title`, tabindex: '-1', text: t(`lang_${lang}` as TextKey) });
    const head = h('header', { class: 'side-head' }, [
      title,
      side.view ? statusBadge(side.view) : side.open ? badge(t('newSide'), 'info') : null,
      side.view
        ? h('span', {
            class: 'small muted',
            'data-testid': 'version',
            text: side.view.liveVersion !== null ? t('liveVersion', { version: side.view.liveVersion }) : t('headVersion', { version: side.view.version }),
          })
        : null,
      side.view ? translationBadge(side.view) : null,
    ]);
    if (!side.open) {
      const otherId = other.view?.id ?? normalize(other.form).id;
      container.replaceChildren(
        ...present(
          head,
          h('p', { class: 'muted', text: t('noTranslation', { lang: t(`lang_${lang}` as TextKey) }) }),
          editable && otherId
            ? button(
                t('addTranslation', { lang: t(`lang_${lang}` as TextKey) }),
                () => {
                  side.open = true;
                  side.form = {
                    ...emptyContent(lang, translationIdFor(otherId, lang)),
                    tags: [...other.form.tags],
                    links: other.form.links.map((l) => ({ ...l })),
                    translation: otherId,
                  };
                  side.sync = other.view?.liveVersion != null;
                  if (!normalize(other.form).translation) other.form.translation = side.form.id;
                  drawSide(lang);
                  drawSide(OTHER[lang]);
                  (containers[lang].querySelector('[data-field-input="title"]') as HTMLElement | null)?.focus();
                },
                { 'data-testid': 'add-translation' },
              )
            : null,
        ),
      );
      return;
    }
    const f = side.form;
    const slots = new Map<string, HTMLElement>();
    issueSlots[lang] = slots;
    const issueSlot = (field: string) => {
      const el = h('p', { class: 'field-issues', id: `issues-${lang}-${field}`, hidden: true });
      slots.set(field, el);
      return el;
    };
    const fieldId = (name: string) => `f-${lang}-${name}`;
    const changed = (validate = true) => {
      writeWip(normalize(side.form).id, side);
      if (validate) scheduleValidation(lang);
    };
    const input = (name: keyof EntryContent, value: string, props: Record<string, string | number | boolean> = {}) => {
      const el = h('input', { id: fieldId(name), value, 'data-field-input': name, 'aria-describedby': `issues-${lang}-${name}`, ...props });
      return el;
    };

    const id = input('id', f.id, {
      readonly: side.view !== null || !editable,
      required: true,
      maxlength: 128,
      spellcheck: 'false',
      autocapitalize: 'none',
      'data-testid': 'field-id',
    });
    id.addEventListener('input', () => {
      side.form.id = id.value.trim();
      changed();
    });
    const titleInput = input('title', f.title, { maxlength: SETTINGS.limits.titleChars, required: true, 'data-testid': 'field-title' });
    titleInput.addEventListener('input', () => {
      side.form.title = titleInput.value;
      changed();
      drawPreview();
    });
    const questions = h('textarea', {
      id: fieldId('questions'),
      rows: 4,
      'data-field-input': 'questions',
      'aria-describedby': `issues-${lang}-questions`,
      'data-testid': 'field-questions',
    });
    questions.value = f.questions.join('\n');
    questions.addEventListener('input', () => {
      side.form.questions = questions.value.split('\n');
      changed();
    });
    const tags = input('tags', f.tags.join(', '), { 'data-testid': 'field-tags' });
    tags.addEventListener('input', () => {
      side.form.tags = tags.value.split(/[,，]/).map((x) => x.trim());
      changed();
    });
    const translation = input('translation', f.translation ?? '', {
      maxlength: 128,
      spellcheck: 'false',
      autocapitalize: 'none',
      'data-testid': 'field-translation',
    });
    translation.addEventListener('input', () => {
      side.form.translation = translation.value.trim() || null;
      changed();
    });
    const links = h('div', { class: 'links', 'data-field-input': 'links' });
    const drawLinks = () => {
      links.replaceChildren(
        ...present(
          ...side.form.links.map((link, i) => {
            const text = h('input', { 'aria-label': `${t('linkTitle')} ${i + 1}`, placeholder: t('linkTitle'), value: link.title, readonly: !editable });
            const url = h('input', {
              'aria-label': `${t('linkUrl')} ${i + 1}`,
              placeholder: t('linkUrl'),
              value: link.url,
              type: 'url',
              readonly: !editable,
              spellcheck: 'false',
            });
            text.addEventListener('input', () => {
              link.title = text.value;
              changed();
            });
            url.addEventListener('input', () => {
              link.url = url.value;
              changed();
            });
            return h('div', { class: 'link-row' }, [
              text,
              url,
              editable
                ? button(
                    '×',
                    () => {
                      side.form.links.splice(i, 1);
                      drawLinks();
                      changed();
                    },
                    { 'aria-label': t('removeLink', { n: i + 1 }), class: 'btn btn-icon' },
                  )
                : null,
            ]);
          }),
          editable
            ? button(t('addLink'), () => {
                side.form.links.push({ title: '', url: '' });
                drawLinks();
                (links.querySelector('.link-row:last-of-type input') as HTMLInputElement | null)?.focus();
              })
            : null,
        ),
      );
    };
    drawLinks();
    const body = h('textarea', {
      id: fieldId('body'),
      rows: 12,
      'data-field-input': 'body',
      'aria-describedby': `issues-${lang}-body count-${lang}`,
      'data-testid': 'field-body',
      maxlength: SETTINGS.limits.bodyChars + 1000,
    });
    body.value = f.body;
    const count = h('span', { class: 'small muted', id: `count-${lang}`, 'aria-live': 'off' });
    const preview = h('div', { class: 'preview', 'data-testid': 'preview' });
    let previewTimer: ReturnType<typeof setTimeout> | undefined;
    function drawPreview() {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(() => {
        count.textContent = t('chars', { count: side.form.body.length, max: SETTINGS.limits.bodyChars });
        count.classList.toggle('over', side.form.body.length > SETTINGS.limits.bodyChars);
        preview.replaceChildren(
          side.form.body.trim()
            ? answerPreview({ id: side.form.id || '…', title: side.form.title, body: side.form.body, lang }, side.view?.liveVersion ?? null)
            : h('p', { class: 'muted small', text: t('previewEmpty') }),
        );
      }, 120);
    }
    body.addEventListener('input', () => {
      side.form.body = body.value;
      changed();
      drawPreview();
    });
    drawPreview();
    for (const el of [titleInput, questions, tags, translation, body]) if (!editable) el.setAttribute('readonly', '');

    const syncBox = h('input', { type: 'checkbox', id: fieldId('sync'), 'data-testid': 'translation-sync' });
    syncBox.checked = side.sync;
    syncBox.addEventListener('change', () => {
      side.sync = syncBox.checked;
    });
    const otherLive = other.view?.liveVersion ?? null;

    const field = (name: string, labelKey: TextKey, control: HTMLElement, hint?: TextKey) =>
      h('div', { class: 'field' }, [
        h('label', { for: control.id || null, text: t(labelKey) }),
        hint ? h('p', { class: 'hint', text: t(hint) }) : null,
        control,
        issueSlot(name),
      ]);

    const conflict = side.theirs
      ? h('div', { class: 'conflict', role: 'alert', 'data-testid': 'version-conflict' }, [
          h('h3', { text: t('conflictTitle') }),
          h('p', { text: t('conflictText', { who: side.theirs.author, version: side.theirs.version, when: formatTime(side.theirs.createdAt) }) }),
          h('p', { class: 'small muted', text: `${t('theirText')} → ${t('yourText')}` }),
          entryDiff(side.theirs.entry, normalize(side.form)),
          h('div', { class: 'actions' }, [
            button(
              t('conflictKeepMine', { version: side.theirs.version }),
              () => {
                side.base = (side.theirs as RevisionView).version;
                side.theirs = null;
                drawSide(lang);
              },
              { class: 'btn btn-primary', 'data-testid': 'keep-mine' },
            ),
            button(
              t('conflictTakeTheirs'),
              () => {
                const mine = normalize(side.form);
                const theirs = side.theirs as RevisionView;
                side.form = { ...theirs.entry };
                side.base = theirs.version;
                side.theirs = null;
                drawSide(lang);
                containers[lang].append(
                  h('details', { class: 'kept-text', open: true }, [h('summary', { text: t('yourText') }), h('pre', { class: 'kept', text: mine.body })]),
                );
              },
              { 'data-testid': 'take-theirs' },
            ),
          ]),
        ])
      : null;

    const form = h('form', { class: 'entry-form', novalidate: true }, [
      field('id', 'fieldId', id, side.view ? undefined : 'fieldIdHint'),
      field('title', 'fieldTitle', titleInput),
      field('questions', 'fieldQuestions', questions, 'fieldQuestionsHint'),
      field('tags', 'fieldTags', tags, 'fieldTagsHint'),
      h('fieldset', { class: 'field' }, [h('legend', { text: t('fieldLinks') }), links, issueSlot('links')]),
      field('translation', 'fieldTranslation', translation),
      h('div', { class: 'field' }, [
        h('div', { class: 'label-row' }, [h('label', { for: fieldId('body'), text: t('fieldBody') }), count]),
        body,
        issueSlot('body'),
      ]),
      h('div', { class: 'field' }, [h('p', { class: 'label', text: t('preview') }), preview]),
      otherLive !== null && editable
        ? h('div', { class: 'field checkbox' }, [
            syncBox,
            h('label', { for: fieldId('sync'), text: t('translationSync', { lang: t(`lang_${OTHER[lang]}` as TextKey), version: otherLive }) }),
          ])
        : null,
      issueSlot('file'),
      (actionSlots[lang] = h('div', { class: 'actions' })),
    ]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void save(lang, false);
    });
    // Ctrl+S saves a draft, Ctrl+Enter publishes (⌘ on a Mac).
    form.addEventListener('keydown', (event) => {
      if (!editable || !(event.ctrlKey || event.metaKey)) return;
      if (event.key === 's' || event.key === 'S') {
        event.preventDefault();
        void save(lang, false);
      } else if (event.key === 'Enter') {
        event.preventDefault();
        void save(lang, true);
      }
    });
    container.replaceChildren(...present(head, !editable ? h('p', { class: 'banner banner-info', text: t('readOnly') }) : null, conflict ?? '', form));
    drawActions(lang);
    drawIssues(lang);
  }

  for (const lang of LANGS) drawSide(lang);
  const heading = first ? first.title : t('newEntry');
  return h('section', { class: 'page editor' }, [
    h('div', { class: 'page-head' }, [h('div', {}, [h('a', { href: '#/entries', class: 'back', text: `← ${t('backToList')}` }), h('h1', { text: heading })])]),
    ...notices,
    editable ? h('p', { class: 'muted small', text: t('shortcutsHint') }) : null,
    columns,
  ]);
}
