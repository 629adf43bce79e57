import { ApiError, call } from '../api.js';
import { formatTime, t, type TextKey } from '../i18n.js';
import type { PageContext } from '../shell.js';
import type { Lang, SavedReplyView } from '../types.js';
import { announce, badge, button, confirmDialog, errorText, h } from '../ui.js';

/** A form for a new reply or for changing one (its version sent along: a change made meanwhile is refused). */
function replyForm(reply: SavedReplyView | null, onSaved: () => void, onCancel: (() => void) | null): HTMLFormElement {
  const prefix = reply ? `reply-${reply.id}` : 'reply-new';
  const title = h('input', { id: `${prefix}-title`, 'data-testid': 'saved-title', maxlength: 80, required: true, value: reply?.title ?? '' });
  const language = h('select', { id: `${prefix}-lang`, 'data-testid': 'saved-language' }, [
    h('option', { value: 'zh', text: t('lang_zh') }),
    h('option', { value: 'en', text: t('lang_en') }),
  ]);
  language.value = reply?.language ?? 'zh';
  const body = h('textarea', { id: `${prefix}-body`, 'data-testid': 'saved-body', rows: 4, maxlength: 4000, required: true });
  body.value = reply?.body ?? '';
  const message = h('div', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'card reply-form', 'data-testid': 'saved-form' }, [
    h('label', { for: `${prefix}-title`, text: t('replyTitle') }),
    title,
    h('label', { for: `${prefix}-lang`, text: t('replyLanguage') }),
    language,
    h('label', { for: `${prefix}-body`, text: t('replyBody') }),
    body,
    message,
    h('div', { class: 'actions' }, [
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'saved-save', text: t('save') }),
      onCancel ? button(t('cancel'), onCancel) : null,
    ]),
  ]);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const input = { title: title.value, language: language.value as Lang, body: body.value };
    try {
      if (reply) await call('PUT', `/api/admin/inbox/replies/${reply.id}`, { body: { ...input, version: reply.version } });
      else await call('POST', '/api/admin/inbox/replies', { body: input });
      announce(t('savedOk'));
      onSaved();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'reply_blocked' && Array.isArray(error.detail.reasons)) {
        const contacts = Array.isArray(error.detail.contacts) ? (error.detail.contacts as string[]).join(', ') : '';
        message.replaceChildren(
          h('p', { text: error.message }),
          h(
            'ul',
            {},
            (error.detail.reasons as string[]).map((r) => h('li', { text: t(`blocked_${r}` as TextKey, { contacts }) })),
          ),
        );
      } else message.replaceChildren(h('p', { text: errorText(error) }));
    }
  });
  return form;
}

/** The team's saved replies: listed for everyone who works the inbox, kept by leads and admins. */
export async function renderReplies(ctx: PageContext): Promise<HTMLElement> {
  const { data } = await call<{ replies: SavedReplyView[] }>('GET', '/api/admin/inbox/replies');
  const editable = ctx.can('inbox.replies');
  const reload = () => ctx.navigate(`#/replies?v=${Date.now()}`);
  const list = h(
    'ul',
    { class: 'cards saved-replies' },
    data.replies.map((reply) => {
      const item = h('li', { class: 'card', 'data-testid': 'saved-item' });
      const show = () =>
        item.replaceChildren(
          ...[
            h('div', { class: 'side-head' }, [h('strong', { text: reply.title }), badge(t(`lang_${reply.language}` as TextKey), 'muted')]),
            h('p', { class: 'saved-body', lang: reply.language === 'zh' ? 'zh-CN' : 'en', text: reply.body }),
            h('p', { class: 'small muted', text: t('byAt', { who: reply.updatedBy, when: formatTime(reply.updatedAt) }) }),
            editable
              ? h('div', { class: 'actions' }, [
                  button(t('edit'), () => item.replaceChildren(replyForm(reply, reload, show))),
                  button(
                    t('remove'),
                    async () => {
                      if (!(await confirmDialog(t('confirmRemoveReply', { title: reply.title })))) return;
                      try {
                        await call('DELETE', `/api/admin/inbox/replies/${reply.id}`);
                        announce(t('removedOk'));
                        reload();
                      } catch (error) {
                        announce(errorText(error), 'bad');
                      }
                    },
                    { class: 'btn btn-danger' },
                  ),
                ])
              : null,
          ].filter((n): n is NonNullable<typeof n> => n !== null),
        );
      show();
      return item;
    }),
  );
  return h('section', { class: 'page' }, [
    h('div', { class: 'page-head' }, [h('h1', { text: t('repliesTitle') })]),
    h('p', { class: 'muted', text: t('repliesHint') }),
    editable ? h('details', { class: 'new-reply' }, [h('summary', { text: t('newReply') }), replyForm(null, reload, null)]) : null,
    data.replies.length === 0 ? h('p', { class: 'empty', text: t('noReplies') }) : list,
  ]);
}
