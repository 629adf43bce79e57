import { ApiError, call } from '../api.js';
import { formatTime, t, type TextKey } from '../i18n.js';
import type { PageContext } from '../shell.js';
import type { InboxConversationView, InboxItemView, InboxTurnView, SavedReplyView } from '../types.js';
import { announce, badge, button, confirmDialog, errorText, h } from '../ui.js';

/** Changes arriving together are read once. */
const REFRESH_DEBOUNCE_MS = 150;
/** Waiting times are redrawn this often. */
const CLOCK_MS = 30_000;
/** After the live stream failed for good (a 401, a server gone), the page tries again after this. */
const RECONNECT_MS = 5_000;

type Action = 'claim' | 'reply' | 'note' | 'resolve' | 'hand-back';

const minutesSince = (iso: string) => Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60_000));
const textKey = (key: string): TextKey => key as TextKey;
const newKey = () => (typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

/** The customer's handle, else the channel and (the start of) their id there. */
function who(item: InboxItemView): string {
  if (item.customerHandle) return item.customerHandle;
  const id = item.customerId.length > 12 ? `${item.customerId.slice(0, 8)}…` : item.customerId;
  return `${t(textKey(`channel_${item.channel}`))} · ${id}`;
}

function statusBadge(item: InboxItemView): HTMLElement {
  if (!item.open) return badge(t('closedState'), 'muted', { 'data-testid': 'inbox-status' });
  return item.claimedBy
    ? badge(t('claimedByName', { name: item.claimedName ?? item.claimedBy }), 'ok', { 'data-testid': 'inbox-status' })
    : badge(t('unclaimed'), 'warn', { 'data-testid': 'inbox-status' });
}

function queueEntry(item: InboxItemView, selected: boolean, query: string): HTMLElement {
  const href = `#/inbox/${item.conversationId}${query ? `?q=${encodeURIComponent(query)}` : ''}`;
  return h('li', { class: selected ? 'queue-item queue-selected' : 'queue-item', 'data-testid': 'queue-item', 'data-id': item.conversationId }, [
    h('a', { href, class: 'queue-link', 'aria-current': selected ? 'true' : null }, [
      h('span', { class: 'queue-top' }, [
        item.priority === 'urgent' ? badge(t('urgent'), 'bad') : badge(t('normal'), 'muted'),
        badge(t(textKey(`channel_${item.channel}`)), 'info'),
        h('span', { class: 'queue-who', text: who(item) }),
        h('span', { class: 'queue-wait muted small', 'data-since': item.waitingSince, text: t('waitingFor', { minutes: minutesSince(item.waitingSince) }) }),
      ]),
      h('span', {
        class: 'queue-preview',
        'data-testid': 'queue-preview',
        lang: item.language === 'zh' ? 'zh-CN' : 'en',
        text: item.preview?.text || t('noPreview'),
      }),
      h('span', { class: 'queue-bottom small' }, [
        statusBadge(item),
        item.reason ? h('span', { class: 'muted', text: t(textKey(`reason_${item.reason}`)) }) : null,
        item.preview?.files ? h('span', { class: 'muted', text: t('filesCount', { count: item.preview.files }) }) : null,
      ]),
    ]),
  ]);
}

function roleLabel(turn: InboxTurnView): string {
  if (turn.role === 'agent') return turn.author ?? t('role_agent_turn');
  return t(textKey(`role_${turn.role}`));
}

function turnEntry(turn: InboxTurnView): HTMLElement {
  const classes = ['turn', `turn-${turn.role}`, turn.internal ? 'turn-internal' : ''].filter(Boolean).join(' ');
  return h('li', { class: classes, 'data-testid': 'inbox-turn', 'data-seq': String(turn.seq), 'data-kind': turn.kind }, [
    h('div', { class: 'turn-head small' }, [
      h('strong', { text: roleLabel(turn) }),
      turn.internal ? badge(t('internalNote'), 'warn') : null,
      turn.via ? h('span', { class: 'muted', text: t('viaTool', { tool: turn.via }) }) : null,
      turn.escalation ? badge(t(textKey(`reason_${turn.escalation.reason}`)), turn.escalation.priority === 'urgent' ? 'bad' : 'info') : null,
      h('time', { class: 'muted', datetime: turn.createdAt, text: formatTime(turn.createdAt) }),
    ]),
    h('p', { class: 'turn-text', lang: turn.language === 'zh' ? 'zh-CN' : 'en', text: turn.erased ? t('erasedTurn') : turn.text }),
    turn.citations.length > 0
      ? h(
          'p',
          { class: 'small' },
          turn.citations.map((c) => h('a', { href: `#/entries/${encodeURIComponent(c.id)}`, class: 'entry-id', text: `${c.title} (${c.id} v${c.version}) ` })),
        )
      : null,
    turn.choices?.length
      ? h(
          'ul',
          { class: 'turn-choices small' },
          turn.choices.map((c) => h('li', { text: `${c.title} (${c.entryId})` })),
        )
      : null,
    turn.files?.length
      ? h(
          'ul',
          { class: 'turn-files small' },
          turn.files.map((f) =>
            h('li', {
              text: `📎 ${f.type}${f.fileName ? ` ${f.fileName}` : ''}${f.fileSize ? ` · ${t('fileSize', { size: Math.ceil(f.fileSize / 1024) })}` : ''}`,
            }),
          ),
        )
      : null,
  ]);
}

function blockedBox(error: ApiError): HTMLElement {
  const reasons = Array.isArray(error.detail.reasons) ? (error.detail.reasons as string[]) : [];
  const contacts = Array.isArray(error.detail.contacts) ? (error.detail.contacts as string[]).join(', ') : '';
  return h('div', { class: 'error-box', role: 'alert', 'data-testid': 'reply-blocked' }, [
    h('p', { class: 'blocked-title', text: t('blockedTitle') }),
    h(
      'ul',
      {},
      reasons.map((r) => h('li', { 'data-reason': r, text: t(textKey(`blocked_${r}`), { contacts }) })),
    ),
  ]);
}

/**
 * The agents' inbox: the queue (urgent first, then the longest waiting) with the customer's latest
 * words and a search, and the chosen conversation with its summary, what the bot tried, the
 * customer's files, the turns, and the desk's actions. Live: a server-sent event names what
 * changed, and the page reads it again (nothing is reloaded by hand).
 */
export async function renderInbox(ctx: PageContext): Promise<HTMLElement> {
  const selectedId = ctx.params[0] || null;
  let query = ctx.query.get('q') ?? '';
  let items: InboxItemView[] = [];
  let view: InboxConversationView | null = null;
  let replies: SavedReplyView[] = [];

  const liveBadge = badge(t('liveOff'), 'muted', { 'data-testid': 'inbox-live' });
  const list = h('ul', { class: 'queue-list', 'aria-label': t('inboxTitle') });
  const count = h('p', { class: 'small muted', 'data-testid': 'inbox-count' });
  const search = h('input', {
    type: 'search',
    id: 'inbox-search',
    class: 'inbox-search-input',
    'data-testid': 'inbox-search',
    placeholder: t('inboxSearchPlaceholder'),
    maxlength: 200,
    value: query,
  });
  const searchForm = h('form', { class: 'inbox-search', role: 'search' }, [
    h('label', { for: 'inbox-search', class: 'sr-only', text: t('inboxSearch') }),
    search,
    h('button', { type: 'submit', class: 'btn', text: t('search') }),
  ]);

  function drawQueue(): void {
    list.replaceChildren(...items.map((item) => queueEntry(item, item.conversationId === selectedId, query)));
    count.textContent = query ? t('inboxFound', { count: items.length }) : t('inboxCount', { count: items.length });
    if (items.length === 0) list.append(h('li', { class: 'empty', text: query ? t('inboxNoMatch') : t('inboxEmpty') }));
  }
  async function loadQueue(): Promise<void> {
    const { data } = await call<{ items: InboxItemView[] }>('GET', `/api/admin/inbox/queue${query ? `?q=${encodeURIComponent(query)}` : ''}`);
    items = data.items;
    drawQueue();
  }
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    query = search.value.trim();
    history.replaceState(null, '', `#/inbox${selectedId ? `/${selectedId}` : ''}${query ? `?q=${encodeURIComponent(query)}` : ''}`);
    void loadQueue().catch((error) => announce(errorText(error), 'bad'));
  });

  // ---- the conversation ----
  const conversationPane = h('section', { class: 'inbox-conversation', 'aria-live': 'polite', 'data-testid': 'inbox-conversation' });
  const head = h('div', { class: 'inbox-head' });
  const side = h('div', { class: 'inbox-side' });
  const turnList = h('ol', { class: 'turns', 'aria-label': t('turns') });
  const textArea = h('textarea', { id: 'inbox-reply', 'data-testid': 'reply-text', rows: 4, maxlength: 8000, placeholder: t('replyPlaceholder') });
  const feedback = h('div', { class: 'composer-feedback' });
  const savedPicker = h('select', { 'data-testid': 'saved-reply', 'aria-label': t('insertSaved') });
  /** The key of a send not answered yet (network failure): sending again reuses it, so it is recorded once. */
  const pendingKeys = new Map<string, string>();

  async function act(action: Action, text?: string): Promise<boolean> {
    if (!view) return false;
    const id = view.item.conversationId;
    const pendingFor = `${action}:${text ?? ''}`;
    const key = pendingKeys.get(pendingFor) ?? newKey();
    pendingKeys.set(pendingFor, key);
    feedback.replaceChildren();
    try {
      const { data } = await call<{ status: string }>('POST', `/api/admin/inbox/conversations/${id}/${action}`, {
        body: { key, ...(text !== undefined ? { text } : {}) },
      });
      pendingKeys.delete(pendingFor);
      const done: Record<Action, TextKey> = { claim: 'claimedOk', reply: 'sent', note: 'noteAdded', resolve: 'resolvedOk', 'hand-back': 'handedBackOk' };
      announce(data.status === 'duplicate' ? t('alreadyDone') : t(done[action]));
      await refreshConversation();
      return true;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 0) pendingKeys.delete(pendingFor);
      if (error instanceof ApiError && error.code === 'reply_blocked') {
        feedback.replaceChildren(blockedBox(error));
        await refreshConversation();
      } else if (error instanceof ApiError && error.code === 'claimed_by_other') {
        feedback.replaceChildren(h('p', { class: 'error-box', role: 'alert', text: t('claimedByOther', { name: String(error.detail.by ?? '') }) }));
      } else if (error instanceof ApiError && error.code === 'not_open') {
        feedback.replaceChildren(h('p', { class: 'error-box', role: 'alert', text: t('notOpen') }));
      } else {
        feedback.replaceChildren(h('p', { class: 'error-box', role: 'alert', text: errorText(error) }));
      }
      return false;
    }
  }

  const send = (action: 'reply' | 'note') => async (event: Event) => {
    const target = event.currentTarget as HTMLButtonElement;
    const text = textArea.value.trim();
    if (!text) {
      textArea.focus();
      return;
    }
    target.disabled = true;
    const label = target.textContent;
    target.textContent = t('sending');
    try {
      if (await act(action, text)) textArea.value = '';
    } finally {
      target.disabled = false;
      target.textContent = label;
    }
  };
  const composer = h('form', { class: 'composer', 'data-testid': 'composer' }, [
    h('label', { for: 'inbox-reply', text: t('replyLabel') }),
    textArea,
    h('div', { class: 'row' }, [
      savedPicker,
      button(t('sendReply'), (e) => void send('reply')(e), { class: 'btn btn-primary', 'data-testid': 'reply-send' }),
      button(t('addNote'), (e) => void send('note')(e), { 'data-testid': 'note-send' }),
    ]),
    feedback,
  ]);
  composer.addEventListener('submit', (event) => event.preventDefault());
  savedPicker.addEventListener('change', () => {
    const reply = replies.find((r) => String(r.id) === savedPicker.value);
    if (reply) {
      const at = textArea.selectionStart ?? textArea.value.length;
      textArea.value = `${textArea.value.slice(0, at)}${reply.body}${textArea.value.slice(textArea.selectionEnd ?? at)}`;
      textArea.focus();
    }
    savedPicker.value = '';
  });
  function drawSavedPicker(): void {
    const language = view?.item.language;
    const ordered = [...replies].sort((a, b) => Number(b.language === language) - Number(a.language === language));
    savedPicker.replaceChildren(
      h('option', { value: '', text: t('insertSaved') }),
      ...ordered.map((r) => h('option', { value: String(r.id), text: `${r.language === 'zh' ? '中' : 'EN'} · ${r.title}` })),
    );
    savedPicker.hidden = replies.length === 0;
  }

  function drawConversation(): void {
    if (!view) return;
    const { item, summary, tried, files } = view;
    const actionButtons = item.open
      ? [
          item.claimedBy ? null : button(t('claim'), () => void act('claim'), { class: 'btn btn-primary', 'data-testid': 'inbox-claim' }),
          button(
            t('resolve'),
            async () => {
              if (await confirmDialog(t('confirmResolve'))) await act('resolve');
            },
            { 'data-testid': 'inbox-resolve' },
          ),
          button(
            t('handBack'),
            async () => {
              if (await confirmDialog(t('confirmHandBack'))) await act('hand-back');
            },
            { 'data-testid': 'inbox-hand-back' },
          ),
        ]
      : [];
    head.replaceChildren(
      h('div', { class: 'page-head' }, [h('h2', { class: 'inbox-who', text: who(item) }), h('div', { class: 'actions' }, actionButtons)]),
      h('p', { class: 'badges' }, [
        item.priority === 'urgent' ? badge(t('urgent'), 'bad') : badge(t('normal'), 'muted'),
        badge(t(textKey(`channel_${item.channel}`)), 'info'),
        badge(t(textKey(`lang_${item.language}`)), 'muted'),
        item.reason ? badge(t(textKey(`reason_${item.reason}`)), 'info') : null,
        statusBadge(item),
      ]),
      h('p', { class: 'small muted' }, [`${t('customer')}: ${item.customerId} · `, h('span', { class: 'entry-id', text: item.conversationId })]),
    );
    const sideParts: Array<Node | null> = [
      h('h3', { class: 'small-head', text: t('summary') }),
      h('p', { 'data-testid': 'inbox-summary', text: summary.summary }),
      summary.escalation?.detail ? h('p', { class: 'small muted', text: summary.escalation.detail }) : null,
      h('h3', { class: 'small-head', text: t('triedEntries') }),
      tried.length === 0
        ? h('p', { class: 'small muted', text: t('noTried') })
        : h(
            'ul',
            { class: 'tried small', 'data-testid': 'inbox-tried' },
            tried.map((e) =>
              h('li', {}, [
                h('a', { href: `#/entries/${encodeURIComponent(e.entryId)}`, text: e.title ?? e.entryId }),
                ' ',
                badge(t(textKey(`tried_${e.how}`)), e.how === 'cited' ? 'ok' : 'muted'),
                e.score !== null ? h('span', { class: 'muted', text: ` ${e.score.toFixed(2)}` }) : null,
              ]),
            ),
          ),
      h('h3', { class: 'small-head', text: t('customerFiles') }),
      files.length === 0
        ? h('p', { class: 'small muted', text: t('noFiles') })
        : h(
            'ul',
            { class: 'files small', 'data-testid': 'inbox-files' },
            files.map((f) => {
              const href = `/api/admin/inbox/conversations/${item.conversationId}/files/${f.seq}/${f.index}`;
              const label = `📎 ${f.type}${f.fileName ? ` · ${f.fileName}` : ''}${f.mimeType ? ` · ${f.mimeType}` : ''}${f.fileSize ? ` · ${t('fileSize', { size: Math.ceil(f.fileSize / 1024) })}` : ''} · ${formatTime(f.at)}`;
              return h('li', {}, [
                h('a', { href, target: '_blank', rel: 'noopener', 'data-testid': 'inbox-file', text: label }),
                f.type === 'photo'
                  ? h('img', {
                      src: href,
                      alt: f.fileName ?? f.type,
                      class: 'file-thumb',
                      loading: 'lazy',
                      onerror: (event: Event) => (event.target as HTMLElement).remove(),
                    })
                  : null,
              ]);
            }),
          ),
    ];
    side.replaceChildren(...sideParts.filter((n): n is Node => n !== null));
    turnList.replaceChildren(...view.turns.map(turnEntry));
    composer.hidden = !item.open;
    drawSavedPicker();
  }

  async function refreshConversation(): Promise<void> {
    if (!selectedId) return;
    const stick = turnList.scrollHeight - turnList.scrollTop - turnList.clientHeight < 40;
    const { data } = await call<InboxConversationView>('GET', `/api/admin/inbox/conversations/${selectedId}`);
    view = data;
    drawConversation();
    if (stick) turnList.scrollTop = turnList.scrollHeight;
  }

  // ---- live updates ----
  let source: EventSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let changed = new Set<string>();
  let left = false;
  function refreshSoon(ids: string[]): void {
    for (const id of ids) changed.add(id);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const mine = selectedId !== null && changed.has(selectedId);
      changed = new Set();
      void loadQueue().catch(() => undefined);
      if (mine) void refreshConversation().catch(() => undefined);
    }, REFRESH_DEBOUNCE_MS);
  }
  function connect(): void {
    if (left) return;
    source = new EventSource(`/api/admin/inbox/events${selectedId ? `?watch=${selectedId}` : ''}`);
    source.addEventListener('ready', () => {
      liveBadge.textContent = t('live');
      liveBadge.className = 'badge badge-ok';
      // What changed while the stream was down.
      refreshSoon(selectedId ? [selectedId] : []);
    });
    source.addEventListener('change', (event) => {
      const ids = (JSON.parse((event as MessageEvent<string>).data) as { ids?: string[] }).ids ?? [];
      refreshSoon(ids);
    });
    const down = () => {
      liveBadge.textContent = t('liveOff');
      liveBadge.className = 'badge badge-muted';
    };
    source.addEventListener('expired', () => {
      source?.close();
      down();
      // A call now finds the session gone and asks to sign in again; the stream follows.
      void loadQueue().catch(() => undefined);
      setTimeout(connect, RECONNECT_MS);
    });
    source.addEventListener('error', () => {
      down();
      if (source?.readyState === EventSource.CLOSED) {
        void loadQueue().catch(() => undefined);
        setTimeout(connect, RECONNECT_MS);
      }
    });
  }
  const clock = setInterval(() => {
    for (const el of Array.from(list.querySelectorAll<HTMLElement>('.queue-wait')))
      el.textContent = t('waitingFor', { minutes: minutesSince(el.dataset.since ?? '') });
  }, CLOCK_MS);
  ctx.onLeave(() => {
    left = true;
    source?.close();
    clearTimeout(timer);
    clearInterval(clock);
  });

  await loadQueue();
  const [conversationResult, repliesResult] = await Promise.allSettled([
    selectedId ? call<InboxConversationView>('GET', `/api/admin/inbox/conversations/${selectedId}`) : Promise.resolve(undefined),
    call<{ replies: SavedReplyView[] }>('GET', '/api/admin/inbox/replies'),
  ]);
  if (repliesResult.status === 'fulfilled') replies = repliesResult.value.data.replies;
  if (conversationResult.status === 'fulfilled' && conversationResult.value) {
    view = conversationResult.value.data;
    drawConversation();
    conversationPane.replaceChildren(head, h('div', { class: 'inbox-body' }, [h('div', { class: 'inbox-thread' }, [turnList, composer]), side]));
  } else if (conversationResult.status === 'rejected') {
    conversationPane.replaceChildren(h('p', { class: 'error-box', role: 'alert', text: errorText(conversationResult.reason) }));
  } else {
    conversationPane.replaceChildren(h('p', { class: 'empty', text: t('inboxPick') }));
  }
  connect();

  const page = h('section', { class: 'page inbox' }, [
    h('div', { class: 'page-head' }, [h('h1', { text: t('inboxTitle') }), liveBadge]),
    h('div', { class: 'inbox-layout' }, [h('aside', { class: 'inbox-queue' }, [searchForm, count, list]), conversationPane]),
  ]);
  requestAnimationFrame(() => {
    turnList.scrollTop = turnList.scrollHeight;
  });
  return page;
}
