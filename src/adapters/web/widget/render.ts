import type { TurnView } from './api.js';
import { all, h, ICONS, icon } from './dom.js';
import { type Inline, parseMarkup } from './markup.js';
import { isTextKey, type Language, type TextKey, type Texts } from './texts.js';

export type ActionId = 'solved' | 'human' | 'bot';
const ACTION_IDS: readonly string[] = ['solved', 'human', 'bot'];

export interface TurnContext {
  texts: Texts;
  language: Language;
  /** The widget's texts in a turn's own language (labels under a turn follow the turn, not the toggle). */
  textsOf(language: string): Texts;
  /** The customer pressed one of a turn's action buttons. */
  onAction(action: ActionId, label: string, button: HTMLButtonElement): void;
  /** The customer picked one of the entries a clarifying turn offered (null: none of them). */
  onChoice(entryId: string | null, label: string, button: HTMLButtonElement): void;
  /** The customer rated the service 1–5 after an agent resolved the conversation. */
  onRate(rating: number, button: HTMLButtonElement): void;
  /** A picture of a file the customer sent from this page (an object URL), to show with its turn. */
  previewOf?(fileId: string): string | undefined;
  /** Fetches the picture of a file sent earlier (another page, before a reload): its object URL, or undefined. */
  loadPreview?(fileId: string): Promise<string | undefined>;
}

type Role = 'customer' | 'bot' | 'system' | 'agent';
const ROLES: readonly string[] = ['customer', 'bot', 'system', 'agent'];

function appendInline(parent: Node, nodes: readonly Inline[]): void {
  for (const node of nodes) {
    switch (node.type) {
      case 'text':
        parent.appendChild(document.createTextNode(node.text));
        break;
      case 'strong':
      case 'em': {
        const el = h(node.type);
        appendInline(el, node.children);
        parent.appendChild(el);
        break;
      }
      case 'code':
        parent.appendChild(h('code', { class: 'exh-code', text: node.text }));
        break;
      case 'link':
        parent.appendChild(h('a', { href: node.href, target: '_blank', rel: 'noopener noreferrer nofollow', class: 'exh-link', text: node.text }));
        break;
    }
  }
}

function appendLines(parent: Node, lines: readonly (readonly Inline[])[]): void {
  lines.forEach((line, i) => {
    if (i > 0) parent.appendChild(h('br'));
    appendInline(parent, line);
  });
}

/** A message's text with its light markup (see markup.ts) as DOM nodes. */
export function renderRichText(container: HTMLElement, text: string): void {
  for (const block of parseMarkup(text)) {
    if (block.type === 'paragraph') {
      const p = h('p', { class: 'exh-p' });
      appendLines(p, block.lines);
      container.appendChild(p);
    } else if (block.type === 'heading') {
      const strong = h('strong');
      appendInline(strong, block.content);
      container.appendChild(h('p', { class: 'exh-p exh-heading' }, [strong]));
    } else {
      const list = h(block.ordered ? 'ol' : 'ul', { class: 'exh-list', start: block.start !== 1 ? block.start : null });
      for (const item of block.items) {
        const li = h('li');
        appendLines(li, item);
        list.appendChild(li);
      }
      container.appendChild(list);
    }
  }
}

/** A label that follows the language switch: relabel() sets it again from its data-i18n key. */
function label(tag: 'span' | 'div', key: TextKey, texts: Texts, className?: string): HTMLElement {
  return h(tag, { class: className ?? null, 'data-i18n': key, text: texts[key] });
}

/** Sets every language-following label under root (see label()) in the given texts. */
export function relabel(root: ParentNode, texts: Texts): void {
  for (const el of all(root, '[data-i18n]')) {
    const key = el.getAttribute('data-i18n');
    if (isTextKey(texts, key)) el.textContent = texts[key];
  }
}

function formatTime(iso: string, language: Language): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  try {
    return date.toLocaleTimeString(language === 'zh' ? 'zh-CN' : 'en', { hour: '2-digit', minute: '2-digit' });
  } catch {
    return '';
  }
}

/** Who wrote the message, and when. */
function metaLine(role: Role, turn: Partial<TurnView> | null, ctx: Pick<TurnContext, 'texts' | 'language'>): HTMLElement {
  const meta = h('div', { class: 'exh-meta' });
  if (role === 'agent') {
    const author = typeof turn?.author === 'string' ? turn.author.trim() : '';
    if (author) {
      meta.appendChild(h('span', { class: 'exh-author', 'data-testid': 'author', text: author }));
      meta.appendChild(label('span', 'agent', ctx.texts, 'exh-author-role'));
    } else {
      const el = label('span', 'agent', ctx.texts, 'exh-author');
      el.setAttribute('data-testid', 'author');
      meta.appendChild(el);
    }
  } else if (role === 'bot') {
    meta.appendChild(label('span', 'bot', ctx.texts, 'exh-author'));
  } else if (role === 'customer') {
    meta.appendChild(label('span', 'you', ctx.texts, 'exh-author exh-sr'));
  }
  const createdAt = turn?.createdAt;
  if (typeof createdAt === 'string' && createdAt) {
    const time = formatTime(createdAt, ctx.language);
    if (time) meta.appendChild(h('time', { class: 'exh-time', datetime: createdAt, text: time }));
  }
  return meta;
}

/** Only web links are followed from a citation. */
const isWebLink = (url: unknown): url is string => typeof url === 'string' && /^https?:\/\//i.test(url);

/** The entries an answer used, by title, linked to their help-center page when they have one. */
function renderCitations(citations: readonly unknown[], texts: Texts): HTMLElement | null {
  const items = citations.flatMap((value) => {
    if (!value || typeof value !== 'object') return [];
    const c = value as Partial<Record<keyof TurnView['citations'][number], unknown>>;
    const id = c.id == null ? '' : String(c.id);
    const title = c.title == null || c.title === '' ? id : String(c.title);
    const name = isWebLink(c.url)
      ? h('a', { class: 'exh-citation-title exh-link', href: c.url, target: '_blank', rel: 'noopener noreferrer nofollow', text: title })
      : h('span', { class: 'exh-citation-title', text: title });
    return [
      h('li', { class: 'exh-citation', 'data-testid': 'citation', 'data-citation-id': id, 'data-version': c.version == null ? null : String(c.version) }, [
        icon(ICONS.book, 13),
        h('span', { class: 'exh-citation-label', text: texts.source }),
        name,
      ]),
    ];
  });
  return items.length ? h('ul', { class: 'exh-citations', 'data-testid': 'citations' }, items) : null;
}

/** A clarifying turn's choices as quick replies, then "None of these: talk to a human". */
function renderChoices(choices: readonly unknown[], noneLabel: unknown, ctx: TurnContext): HTMLElement | null {
  const pick = (entryId: string | null, text: string, className: string) => {
    const button = h('button', { type: 'button', class: `exh-action ${className}`, 'data-testid': 'choice', 'data-entry-id': entryId ?? '', text });
    button.addEventListener('click', () => {
      if (!button.disabled) ctx.onChoice(entryId, text, button);
    });
    return button;
  };
  const buttons = choices.flatMap((value) => {
    if (!value || typeof value !== 'object') return [];
    const { entryId, title } = value as Record<string, unknown>;
    if (typeof entryId !== 'string' || !entryId) return [];
    return [pick(entryId, typeof title === 'string' && title ? title : entryId, 'exh-choice')];
  });
  if (buttons.length === 0) return null;
  buttons.push(pick(null, typeof noneLabel === 'string' && noneLabel ? noneLabel : ctx.texts.human, 'exh-choice exh-choice-none'));
  return h('div', { class: 'exh-actions exh-choices', role: 'group' }, buttons);
}

/** The 1–5 rating asked for when an agent resolves the conversation. */
function renderRating(texts: Texts, ctx: TurnContext): HTMLElement {
  const buttons = [1, 2, 3, 4, 5].map((n) => {
    const button = h('button', {
      type: 'button',
      class: 'exh-action exh-rate',
      'data-testid': 'rate',
      'data-rating': String(n),
      'aria-label': texts.rateLabel(n),
      text: `${n} ★`,
    });
    button.addEventListener('click', () => {
      if (!button.disabled) ctx.onRate(n, button);
    });
    return button;
  });
  return h('div', { class: 'exh-actions exh-rating', role: 'group', 'aria-label': texts.rate }, buttons);
}

function renderActions(actions: readonly unknown[], ctx: TurnContext): HTMLElement | null {
  const buttons = actions.flatMap((value) => {
    if (!value || typeof value !== 'object') return [];
    const { id: givenId, label: given } = value as Record<string, unknown>;
    if (typeof givenId !== 'string' || !ACTION_IDS.includes(givenId)) return [];
    const id = givenId as ActionId;
    const text = typeof given === 'string' && given ? given : id === 'solved' ? 'OK' : ctx.texts.human;
    const button = h('button', { type: 'button', class: `exh-action exh-action-${id}`, 'data-testid': 'action', 'data-action': id, text });
    button.addEventListener('click', () => {
      if (!button.disabled) ctx.onAction(id, text, button);
    });
    return [button];
  });
  return buttons.length ? h('div', { class: 'exh-actions', role: 'group' }, buttons) : null;
}

/**
 * A file the customer sent: its picture when this page has it, fetched back from the server when
 * it does not (after a reload); its name, and an image icon until (or unless) the picture comes.
 */
function renderFileChip(file: NonNullable<TurnView['attachments']>[number], ctx: TurnContext): HTMLElement {
  const name = typeof file?.fileName === 'string' && file.fileName ? file.fileName : ctx.texts.screenshot;
  const fileId = typeof file?.fileId === 'string' ? file.fileId : null;
  const preview = fileId ? ctx.previewOf?.(fileId) : undefined;
  const picture = preview ? h('img', { class: 'exh-file-thumb', 'data-testid': 'file-thumb', src: preview, alt: name }) : icon(ICONS.image, 16);
  const chip = h('div', { class: 'exh-file', 'data-testid': 'file', 'data-file-id': fileId }, [picture, h('span', { class: 'exh-file-name', text: name })]);
  if (!preview && fileId && ctx.loadPreview) {
    void ctx.loadPreview(fileId).then((url) => {
      if (url && picture.isConnected) picture.replaceWith(h('img', { class: 'exh-file-thumb', 'data-testid': 'file-thumb', src: url, alt: name }));
    });
  }
  return chip;
}

/** One turn from the server as a message of the list: the one place a turn's look is decided. */
export function renderTurn(turn: TurnView, ctx: TurnContext): HTMLLIElement {
  const role: Role = ROLES.includes(turn.role) ? (turn.role as Role) : 'system';
  const li = h('li', {
    class: `exh-msg exh-msg-${role}`,
    'data-testid': 'message',
    'data-role': role,
    'data-seq': String(turn.seq),
    lang: turn.language === 'zh' ? 'zh-CN' : turn.language === 'en' ? 'en' : null,
  });
  const text = typeof turn.text === 'string' ? turn.text : '';

  if (role === 'system') {
    const body = h('div', { class: 'exh-system-text', 'data-testid': 'message-text' });
    renderRichText(body, text);
    const escalation: unknown = turn.escalation;
    if (escalation && typeof escalation === 'object') {
      const { priority } = escalation as Record<string, unknown>;
      li.setAttribute('data-escalation', 'true');
      if (priority) li.setAttribute('data-priority', String(priority));
      if (priority === 'urgent') {
        li.classList.add('exh-urgent');
        const first = body.querySelector('.exh-p') ?? body;
        first.insertBefore(label('span', 'urgent', ctx.texts, 'exh-tag'), first.firstChild);
      }
    }
    li.appendChild(body);
    return li;
  }

  const bubble = h('div', { class: 'exh-bubble', 'data-testid': 'message-text' });
  const files = role === 'customer' && Array.isArray(turn.attachments) ? turn.attachments : [];
  if (role === 'customer') {
    bubble.classList.add('exh-plain');
    // A file's turn starts with the server's label of what it is ("[photo]"): the chip says it.
    bubble.textContent = files.length > 0 ? text.replace(/^\[[a-z_]+\]\s*/, '') : text;
    for (const file of files) bubble.insertBefore(renderFileChip(file, ctx), bubble.firstChild);
  } else {
    renderRichText(bubble, text);
  }
  li.appendChild(metaLine(role, turn, ctx));
  li.appendChild(bubble);
  if (role !== 'customer') {
    const own = ctx.textsOf(turn.language);
    const citations = Array.isArray(turn.citations) ? renderCitations(turn.citations, own) : null;
    if (citations) li.appendChild(citations);
    const actions = Array.isArray(turn.actions) ? renderActions(turn.actions, ctx) : null;
    if (actions) li.appendChild(actions);
    const choices = Array.isArray(turn.choices) ? renderChoices(turn.choices, turn.noneLabel, ctx) : null;
    if (choices) li.appendChild(choices);
    if (turn.handoff === 'resolved') li.appendChild(renderRating(own, ctx));
  }
  return li;
}

/** The customer's message as shown while it is being sent (no seq yet). */
export function renderPending(text: string, ctx: Pick<TurnContext, 'texts' | 'language'>): HTMLLIElement {
  return h(
    'li',
    {
      class: 'exh-msg exh-msg-customer exh-pending',
      'data-testid': 'message',
      'data-role': 'customer',
      'data-pending': 'true',
      'data-text': text.trim(),
    },
    [
      metaLine('customer', null, ctx),
      h('div', { class: 'exh-bubble exh-plain', 'data-testid': 'message-text', text }),
      label('div', 'sending', ctx.texts, 'exh-status'),
    ],
  );
}

function setPendingStatus(li: HTMLElement, failed: boolean, texts: Texts): void {
  li.classList.toggle('exh-failed', failed);
  li.setAttribute('data-pending', failed ? 'failed' : 'true');
  const status = li.querySelector('.exh-status');
  if (status) {
    const key: TextKey = failed ? 'notSent' : 'sending';
    status.setAttribute('data-i18n', key);
    status.textContent = texts[key];
  }
}

export function markFailed(li: HTMLElement, texts: Texts): void {
  setPendingStatus(li, true, texts);
}

export function markSending(li: HTMLElement, texts: Texts): void {
  setPendingStatus(li, false, texts);
}

/** A notice from the widget itself (not a turn), e.g. "your previous conversation has expired". */
export function renderLocalNotice(key: TextKey, texts: Texts): HTMLLIElement {
  return h('li', { class: 'exh-msg exh-msg-system exh-local', 'data-testid': 'local-notice', 'data-role': 'local' }, [
    label('div', key, texts, 'exh-system-text'),
  ]);
}
