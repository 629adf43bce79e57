import { call } from '../api.js';
import { t, type TextKey } from '../i18n.js';
import { chatPreview } from '../preview.js';
import type { PageContext } from '../shell.js';
import type { HitTestView, Lang } from '../types.js';
import { badge, errorText, h } from '../ui.js';

const DECISION_TONE = { answer: 'ok', clarify: 'info', escalate: 'warn', reply: 'muted' } as const;
const MAX_QUESTIONS = 10;

/** One question's result: the ranked entries, the confidence, the decision and the reply as sent. */
function resultCard(result: HitTestView): HTMLElement {
  const confidence = result.confidence === null ? '–' : result.confidence.toFixed(2);
  return h('article', { class: 'card hit-result', 'data-testid': 'hit-result', 'data-decision': result.decision }, [
    h('h2', { class: 'hit-question', text: result.question }),
    h('p', { class: 'hit-summary' }, [
      badge(t(`decision_${result.decision}` as TextKey), DECISION_TONE[result.decision], { 'data-testid': 'hit-decision' }),
      ' ',
      h('span', { 'data-testid': 'hit-confidence', text: t('confidence', { value: confidence, threshold: result.threshold.toFixed(2) }) }),
      ' ',
      h('span', { class: 'small muted', 'data-testid': 'hit-why', text: `${result.why.code}: ${result.why.detail}` }),
    ]),
    result.results.length === 0
      ? h('p', { class: 'muted', text: t('noResults') })
      : h('table', { class: 'table hit-table' }, [
          h('thead', {}, [
            h('tr', {}, [
              h('th', { scope: 'col', class: 'num', text: t('rank') }),
              h('th', { scope: 'col', text: t('colEntry') }),
              h('th', { scope: 'col', class: 'num', text: t('score') }),
            ]),
          ]),
          h(
            'tbody',
            {},
            result.results.map((r, i) =>
              h('tr', { 'data-testid': 'hit-row', 'data-entry-id': r.id }, [
                h('td', { class: 'num', 'data-label': t('rank'), text: String(i + 1) }),
                h('td', { 'data-label': t('colEntry') }, [
                  h('a', { href: `#/entries/${encodeURIComponent(r.id)}`, class: 'entry-link' }, [
                    h('span', { class: 'entry-title', text: r.title ?? r.id }),
                    h('span', { class: 'entry-id', text: `${r.id} · v${r.version}` }),
                  ]),
                ]),
                h('td', { class: 'num', 'data-label': t('score'), text: r.score.toFixed(3) }),
              ]),
            ),
          ),
        ]),
    h('h3', { class: 'small-head', text: t('customerSees') }),
    chatPreview(result.reply, result.language),
  ]);
}

/** Hit testing: questions in, what the bot would do with each (nothing is recorded). */
export function renderHitTest(ctx: PageContext): HTMLElement {
  const questions = h('textarea', { id: 'hit-questions', rows: 4, required: true, maxlength: 2000 * MAX_QUESTIONS, 'data-testid': 'hit-input' });
  questions.value = ctx.query.get('q') ?? '';
  const language = h('select', { id: 'hit-language', 'data-testid': 'hit-language' }, [
    h('option', { value: '', text: t('detectLanguage') }),
    h('option', { value: 'zh', text: t('lang_zh') }),
    h('option', { value: 'en', text: t('lang_en') }),
  ]);
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'hit-run', text: t('runTest') });
  const results = h('div', { class: 'hit-results', 'aria-live': 'polite', 'data-testid': 'hit-results' });
  const form = h('form', { class: 'hit-form' }, [
    h('label', { for: 'hit-questions', text: t('questions') }),
    questions,
    h('p', { class: 'small muted', text: t('hitTestHint') }),
    h('div', { class: 'row' }, [h('label', { for: 'hit-language', text: t('answerLanguage') }), language, submit]),
  ]);
  async function run() {
    const lines = questions.value
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .slice(0, MAX_QUESTIONS);
    if (lines.length === 0) return;
    submit.disabled = true;
    submit.textContent = t('testing');
    results.replaceChildren(h('p', { class: 'muted', role: 'status', text: t('loading') }));
    try {
      const lang = language.value as Lang | '';
      const replies = [];
      for (const text of lines) {
        const reply = await call<HitTestView>('POST', '/api/admin/kb/hit-test', { body: { text, ...(lang ? { language: lang } : {}) } });
        replies.push(reply.data);
      }
      results.replaceChildren(...replies.map(resultCard));
    } catch (error) {
      results.replaceChildren(h('p', { class: 'error-box', role: 'alert', text: errorText(error) }));
    } finally {
      submit.disabled = false;
      submit.textContent = t('runTest');
    }
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run();
  });
  // Ctrl+Enter runs the test from the text area.
  questions.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void run();
    }
  });
  if (questions.value) queueMicrotask(() => void run());
  return h('section', { class: 'page' }, [h('div', { class: 'page-head' }, [h('h1', { text: t('hitTestTitle') })]), form, results]);
}
