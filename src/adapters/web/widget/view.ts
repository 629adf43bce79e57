import { IMAGE_ACCEPT } from './attachments.js';
import { all, h, ICONS, icon } from './dom.js';
import { relabel } from './render.js';
import { counterThreshold, type WidgetSettings } from './settings.js';
import { htmlLang, type Language, type Texts } from './texts.js';

export type Mode = 'page' | 'embed';

/** What the customer can do in the widget's frame (the turns' own buttons are rendered with them). */
export interface ViewHandlers {
  toggleLanguage(): void;
  toggleOpen(): void;
  close(): void;
  toggleVerify(): void;
  submitVerify(): void;
  newConversation(): void;
  retry(): void;
  dismissError(): void;
  send(): void;
  human(): void;
  transcript(): void;
  /** The text in the composer changed. */
  edited(): void;
  /** The customer picked a file to attach. */
  filePicked(file: File): void;
  removeAttachment(): void;
  toggleSound(): void;
  submitEmail(): void;
}

export interface Ui {
  root: HTMLDivElement;
  panel: HTMLElement;
  title: HTMLElement;
  subtitle: HTMLElement;
  langToggle: HTMLButtonElement;
  closeBtn: HTMLButtonElement | null;
  safety: HTMLElement;
  official: HTMLElement;
  verifyForm: HTMLFormElement;
  verifyLabel: HTMLLabelElement;
  verifyInput: HTMLInputElement;
  verifyBtn: HTMLButtonElement;
  verifyResult: HTMLElement;
  verifyToolBtn: HTMLButtonElement;
  verifyToolText: HTMLElement;
  scroller: HTMLElement;
  list: HTMLOListElement;
  typing: HTMLElement;
  typingText: HTMLElement;
  closedBox: HTMLElement;
  closedText: HTMLElement;
  newConvBtn: HTMLButtonElement;
  error: HTMLElement;
  errorText: HTMLElement;
  retryBtn: HTMLButtonElement;
  dismissBtn: HTMLButtonElement;
  inputLabel: HTMLLabelElement;
  input: HTMLTextAreaElement;
  sendBtn: HTMLButtonElement;
  sendText: HTMLElement;
  humanBtn: HTMLButtonElement;
  humanText: HTMLElement;
  transcriptBtn: HTMLButtonElement;
  transcriptText: HTMLElement;
  counter: HTMLElement;
  launcher: HTMLButtonElement | null;
  badge: HTMLElement | null;
  attachBtn: HTMLButtonElement;
  fileInput: HTMLInputElement;
  attachment: HTMLElement;
  attachmentThumb: HTMLImageElement;
  attachmentName: HTMLElement;
  attachmentProgress: HTMLProgressElement;
  attachmentRemove: HTMLButtonElement;
  soundBtn: HTMLButtonElement;
  soundText: HTMLElement;
  emailBox: HTMLElement;
  emailOffer: HTMLElement;
  emailLabel: HTMLLabelElement;
  emailInput: HTMLInputElement;
  emailBtn: HTMLButtonElement;
  emailError: HTMLElement;
}

/** The composer grows with its text up to this height, then scrolls. */
const INPUT_MAX_HEIGHT_PX = 140;
/** Closer than this to the end, the list follows new messages. */
const NEAR_BOTTOM_PX = 80;

function build(mode: Mode, settings: WidgetSettings, on: ViewHandlers): Ui {
  const button = (props: Record<string, string | boolean | null>, onclick: () => void, children?: (Node | string)[]) =>
    h('button', { type: 'button', ...props, onclick }, children);

  const title = h('h2', { class: 'exh-title', id: 'exh-title' });
  const subtitle = h('p', { class: 'exh-subtitle', 'data-testid': 'status' });
  const langToggle = button({ class: 'exh-lang', 'data-testid': 'lang-toggle' }, on.toggleLanguage, [
    h('span', { class: 'exh-lang-opt', 'data-lang': 'zh', lang: 'zh-CN', text: '中文' }),
    h('span', { class: 'exh-lang-sep', 'aria-hidden': 'true', text: '/' }),
    h('span', { class: 'exh-lang-opt', 'data-lang': 'en', lang: 'en', text: 'EN' }),
  ]);
  const closeBtn = mode === 'embed' ? button({ class: 'exh-icon-btn', 'data-testid': 'close' }, on.close, [icon(ICONS.close, 18)]) : null;
  const header = h('header', { class: 'exh-header' }, [
    h('div', { class: 'exh-avatar', 'aria-hidden': 'true' }, [icon(ICONS.chat, 20)]),
    h('div', { class: 'exh-heading-text' }, [title, subtitle]),
    h('div', { class: 'exh-header-actions' }, [langToggle, closeBtn]),
  ]);

  const safety = h('p', { class: 'exh-safety-text', 'data-testid': 'safety-notice' });

  // Anti-impersonation: the official channels and an "is this official?" check.
  const official = h('p', { class: 'exh-official', 'data-testid': 'official-channels' });
  const verifyLabel = h('label', { class: 'exh-verify-label', for: 'exh-verify-input' });
  const verifyInput = h('input', {
    id: 'exh-verify-input',
    class: 'exh-verify-input',
    'data-testid': 'verify-input',
    type: 'text',
    maxlength: String(settings.verifyMaxChars),
    autocomplete: 'off',
  });
  const verifyBtn = h('button', { type: 'submit', class: 'exh-btn exh-btn-secondary', 'data-testid': 'verify-check' });
  const verifyResult = h('p', { class: 'exh-verify-result', 'data-testid': 'verify-result', role: 'status', hidden: true });
  const verifyForm = h(
    'form',
    {
      class: 'exh-verify',
      'data-testid': 'verify-form',
      novalidate: true,
      hidden: true,
      onsubmit: (e) => {
        e.preventDefault();
        on.submitVerify();
      },
    },
    [official, verifyLabel, h('div', { class: 'exh-verify-row' }, [verifyInput, verifyBtn]), verifyResult],
  );

  const list = h('ol', {
    class: 'exh-messages',
    'data-testid': 'messages',
    role: 'log',
    'aria-live': 'polite',
    'aria-relevant': 'additions',
    'aria-atomic': 'false',
  });
  const typingText = h('span', { class: 'exh-sr' });
  const typing = h('div', { class: 'exh-typing', 'data-testid': 'typing', role: 'status', hidden: true }, [
    h('span', { class: 'exh-dots', 'aria-hidden': 'true' }, [h('i'), h('i'), h('i')]),
    typingText,
  ]);
  const closedText = h('span');
  const newConvBtn = button({ class: 'exh-btn exh-btn-secondary', 'data-testid': 'new-conversation' }, on.newConversation);
  const closedBox = h('div', { class: 'exh-closed', 'data-testid': 'closed-notice', hidden: true }, [closedText, newConvBtn]);
  // While no agent is on duty: an e-mail address for the answer.
  const emailOffer = h('p', { class: 'exh-email-offer', 'data-testid': 'email-offer-text' });
  const emailLabel = h('label', { class: 'exh-sr', for: 'exh-email-input' });
  const emailInput = h('input', {
    id: 'exh-email-input',
    class: 'exh-verify-input',
    'data-testid': 'email-input',
    type: 'email',
    maxlength: '254',
    autocomplete: 'email',
    inputmode: 'email',
  });
  const emailBtn = h('button', { type: 'submit', class: 'exh-btn exh-btn-secondary', 'data-testid': 'email-submit' });
  const emailError = h('p', { class: 'exh-email-error', 'data-testid': 'email-error', role: 'alert', hidden: true });
  const emailBox = h(
    'form',
    {
      class: 'exh-email',
      'data-testid': 'email-offer',
      novalidate: true,
      hidden: true,
      onsubmit: (e) => {
        e.preventDefault();
        on.submitEmail();
      },
    },
    [emailOffer, emailLabel, h('div', { class: 'exh-verify-row' }, [emailInput, emailBtn]), emailError],
  );
  const scroller = h('div', { class: 'exh-scroller' }, [list, typing, emailBox, closedBox]);

  const errorText = h('span', { class: 'exh-error-text', 'data-testid': 'error-text' });
  const retryBtn = button({ class: 'exh-link-btn', 'data-testid': 'retry' }, on.retry);
  const dismissBtn = button({ class: 'exh-icon-btn exh-icon-btn-small', 'data-testid': 'dismiss-error' }, on.dismissError, [icon(ICONS.close, 14)]);
  const error = h('div', { class: 'exh-error', 'data-testid': 'error', role: 'alert', hidden: true }, [errorText, retryBtn, dismissBtn]);

  const inputLabel = h('label', { class: 'exh-sr', for: 'exh-input' });
  const input = h('textarea', {
    id: 'exh-input',
    class: 'exh-input',
    'data-testid': 'input',
    rows: '1',
    maxlength: String(settings.maxMessageChars),
    'aria-describedby': 'exh-counter',
    autocomplete: 'off',
    enterkeyhint: 'send',
  });
  const sendText = h('span', { class: 'exh-send-text' });
  const sendBtn = h('button', { type: 'submit', class: 'exh-send', 'data-testid': 'send' }, [icon(ICONS.send, 18), sendText]);
  const humanText = h('span');
  const humanBtn = button({ class: 'exh-tool', 'data-testid': 'human' }, on.human, [icon(ICONS.human, 16), humanText]);
  const transcriptText = h('span');
  const transcriptBtn = button({ class: 'exh-tool', 'data-testid': 'transcript' }, on.transcript, [icon(ICONS.doc, 16), transcriptText]);
  const verifyToolText = h('span');
  const verifyToolBtn = button({ class: 'exh-tool', 'data-testid': 'verify', 'aria-expanded': 'false' }, on.toggleVerify, [
    icon(ICONS.shield, 16),
    verifyToolText,
  ]);
  const counter = h('span', { class: 'exh-counter', id: 'exh-counter', 'data-testid': 'counter', 'aria-live': 'polite' });
  const fileInput = h('input', { type: 'file', accept: IMAGE_ACCEPT, class: 'exh-sr', 'data-testid': 'file-input', tabindex: '-1', 'aria-hidden': 'true' });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (file) on.filePicked(file);
  });
  const attachBtn = button({ class: 'exh-icon-btn exh-attach', 'data-testid': 'attach' }, () => fileInput.click(), [icon(ICONS.clip, 18)]);
  const attachmentThumb = h('img', { class: 'exh-attachment-thumb', 'data-testid': 'attachment-thumb', alt: '' });
  const attachmentName = h('span', { class: 'exh-attachment-name', 'data-testid': 'attachment-name' });
  const attachmentProgress = h('progress', { class: 'exh-attachment-progress', 'data-testid': 'attachment-progress', max: '1', value: '0', hidden: true });
  const attachmentRemove = button({ class: 'exh-icon-btn exh-icon-btn-small', 'data-testid': 'attachment-remove' }, on.removeAttachment, [
    icon(ICONS.close, 14),
  ]);
  const attachment = h('div', { class: 'exh-attachment', 'data-testid': 'attachment', hidden: true }, [
    attachmentThumb,
    h('div', { class: 'exh-attachment-info' }, [attachmentName, attachmentProgress]),
    attachmentRemove,
  ]);
  const soundText = h('span');
  const soundBtn = button({ class: 'exh-tool', 'data-testid': 'sound', 'aria-pressed': 'false' }, on.toggleSound, [icon(ICONS.bell, 16), soundText]);
  const form = h(
    'form',
    {
      class: 'exh-composer',
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        on.send();
      },
    },
    [
      inputLabel,
      attachment,
      h('div', { class: 'exh-input-row' }, [attachBtn, fileInput, input, sendBtn]),
      h('div', { class: 'exh-tools' }, [humanBtn, transcriptBtn, verifyToolBtn, soundBtn, h('span', { class: 'exh-spacer' }), counter]),
    ],
  );
  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    // Enter confirms an IME composition (Chinese pinyin, …); it sends only outside one.
    if (e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    on.send();
  });
  input.addEventListener('input', on.edited);

  const panel = h('section', { class: 'exh-panel', 'data-testid': 'panel', role: mode === 'embed' ? 'dialog' : 'region', 'aria-labelledby': 'exh-title' }, [
    header,
    h('div', { class: 'exh-safety' }, [icon(ICONS.shield, 16), safety]),
    verifyForm,
    scroller,
    error,
    form,
  ]);
  const root = h('div', { class: `exh-root exh-${mode}`, 'data-testid': 'helpdesk-root', 'data-mode': mode }, [panel]);

  let launcher: HTMLButtonElement | null = null;
  let badge: HTMLElement | null = null;
  if (mode === 'embed') {
    badge = h('span', { class: 'exh-badge', 'data-testid': 'unread', hidden: true });
    launcher = button({ class: 'exh-launcher', 'data-testid': 'launcher', 'aria-expanded': 'false' }, on.toggleOpen, [
      icon(ICONS.chat, 26, 'exh-ico-chat'),
      icon(ICONS.close, 24, 'exh-ico-close'),
      badge,
    ]);
    root.appendChild(launcher);
  }

  return {
    root,
    panel,
    title,
    subtitle,
    langToggle,
    closeBtn,
    safety,
    official,
    verifyForm,
    verifyLabel,
    verifyInput,
    verifyBtn,
    verifyResult,
    verifyToolBtn,
    verifyToolText,
    scroller,
    list,
    typing,
    typingText,
    closedBox,
    closedText,
    newConvBtn,
    error,
    errorText,
    retryBtn,
    dismissBtn,
    inputLabel,
    input,
    sendBtn,
    sendText,
    humanBtn,
    humanText,
    transcriptBtn,
    transcriptText,
    counter,
    launcher,
    badge,
    attachBtn,
    fileInput,
    attachment,
    attachmentThumb,
    attachmentName,
    attachmentProgress,
    attachmentRemove,
    soundBtn,
    soundText,
    emailBox,
    emailOffer,
    emailLabel,
    emailInput,
    emailBtn,
    emailError,
  };
}

/** The widget's frame (header, safety line, verify form, message list, error line, composer, launcher) and its updates. */
export interface View {
  readonly ui: Ui;
  /** Every label in the language; rendered messages' labels too. */
  applyTexts(texts: Texts, language: Language): void;
  setStatus(text: string, state: string): void;
  updateComposer(state: { sending: boolean; closed: boolean; attached: boolean }, texts: Texts): void;
  autosize(): void;
  setTyping(on: boolean): void;
  showError(message: string, withRetry: boolean): void;
  /** A note that is not an error, in the error line's place (e.g. "Transcript downloaded."). */
  showNotice(message: string): void;
  clearError(): void;
  isNearBottom(): boolean;
  scrollToBottom(force: boolean): void;
  setUnread(count: number, texts: Texts): void;
  setOpen(open: boolean): void;
  /** Shows or hides the verify form; true when it is now shown. */
  toggleVerify(): boolean;
}

export function createView(mode: Mode, settings: WidgetSettings, handlers: ViewHandlers): View {
  const ui = build(mode, settings, handlers);
  const counterFrom = counterThreshold(settings.maxMessageChars);

  const view: View = {
    ui,
    applyTexts(texts, language) {
      ui.root.setAttribute('lang', htmlLang(language));
      ui.root.setAttribute('data-lang', language);
      if (mode === 'page') {
        document.documentElement.setAttribute('lang', htmlLang(language));
        document.title = texts.title;
      }
      ui.title.textContent = texts.title;
      ui.safety.textContent = texts.safety;
      ui.list.setAttribute('aria-label', texts.messages);
      ui.typingText.textContent = texts.typing;
      ui.closedText.textContent = texts.closed;
      ui.newConvBtn.textContent = texts.newConversation;
      ui.retryBtn.textContent = texts.retry;
      ui.dismissBtn.setAttribute('aria-label', texts.dismiss);
      ui.dismissBtn.setAttribute('title', texts.dismiss);
      ui.inputLabel.textContent = texts.inputLabel;
      ui.input.setAttribute('placeholder', texts.placeholder);
      ui.sendText.textContent = texts.send;
      ui.sendBtn.setAttribute('aria-label', texts.send);
      ui.humanText.textContent = texts.human;
      ui.transcriptText.textContent = texts.transcript;
      ui.verifyToolText.textContent = texts.verify;
      ui.verifyLabel.textContent = texts.verifyLabel;
      ui.verifyInput.setAttribute('placeholder', texts.verifyPlaceholder);
      ui.verifyBtn.textContent = texts.verifyCheck;
      ui.langToggle.setAttribute('aria-label', texts.switchLang);
      ui.langToggle.setAttribute('title', texts.switchLang);
      ui.langToggle.setAttribute('data-lang', language);
      for (const option of all(ui.langToggle, '.exh-lang-opt')) {
        option.classList.toggle('exh-active', option.getAttribute('data-lang') === language);
      }
      ui.attachBtn.setAttribute('aria-label', texts.attach);
      ui.attachBtn.setAttribute('title', texts.attach);
      ui.attachmentRemove.setAttribute('aria-label', texts.attachRemove);
      ui.attachmentRemove.setAttribute('title', texts.attachRemove);
      ui.emailLabel.textContent = texts.emailLabel;
      ui.emailInput.setAttribute('placeholder', texts.emailPlaceholder);
      ui.emailBtn.textContent = texts.emailSubmit;
      ui.closeBtn?.setAttribute('aria-label', texts.close);
      ui.closeBtn?.setAttribute('title', texts.close);
      ui.launcher?.setAttribute('title', texts.open);
      relabel(ui.list, texts);
    },
    setStatus(text, state) {
      ui.subtitle.textContent = text;
      ui.root.setAttribute('data-state', state);
    },
    updateComposer({ sending, closed, attached }, texts) {
      const length = ui.input.value.length;
      // A closed conversation still takes messages: the rating the bot asks for, or a new question.
      // An attached image is sent with the text as its caption, or alone.
      ui.sendBtn.disabled = sending || (ui.input.value.trim().length === 0 && !attached) || length > settings.maxMessageChars;
      ui.attachBtn.disabled = sending;
      ui.sendBtn.setAttribute('aria-busy', sending ? 'true' : 'false');
      ui.humanBtn.disabled = sending;
      ui.input.disabled = false;
      ui.closedBox.hidden = !closed;
      if (length >= counterFrom) {
        ui.counter.hidden = false;
        ui.counter.textContent = texts.counter(length);
        ui.counter.classList.toggle('exh-counter-max', length >= settings.maxMessageChars);
      } else {
        ui.counter.hidden = true;
        ui.counter.textContent = '';
      }
      // The turns' action buttons follow the same busy state; a used one stays disabled.
      for (const b of all<HTMLButtonElement>(ui.list, 'button.exh-action')) {
        b.disabled = sending || b.getAttribute('data-used') === 'true';
      }
    },
    autosize() {
      const el = ui.input;
      el.style.height = 'auto';
      el.style.height = `${Math.min(el.scrollHeight, INPUT_MAX_HEIGHT_PX)}px`;
      el.style.overflowY = el.scrollHeight > INPUT_MAX_HEIGHT_PX ? 'auto' : 'hidden';
    },
    setTyping(on) {
      ui.typing.hidden = !on;
      if (on) view.scrollToBottom(true);
    },
    showError(message, withRetry) {
      ui.errorText.textContent = message;
      ui.retryBtn.hidden = !withRetry;
      ui.error.hidden = false;
      ui.error.classList.remove('exh-info');
      ui.error.setAttribute('data-kind', 'error');
    },
    showNotice(message) {
      ui.errorText.textContent = message;
      ui.retryBtn.hidden = true;
      ui.error.hidden = false;
      ui.error.classList.add('exh-info');
      ui.error.setAttribute('data-kind', 'info');
    },
    clearError() {
      ui.error.hidden = true;
      ui.errorText.textContent = '';
    },
    isNearBottom() {
      const s = ui.scroller;
      return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
    },
    scrollToBottom(force) {
      const s = ui.scroller;
      // After layout, so the new message's height counts.
      if (force || view.isNearBottom()) requestAnimationFrame(() => (s.scrollTop = s.scrollHeight));
    },
    setUnread(count, texts) {
      if (!ui.launcher || !ui.badge) return;
      ui.badge.hidden = count === 0;
      ui.badge.textContent = count === 0 ? '' : count > 9 ? '9+' : String(count);
      ui.launcher.setAttribute('aria-label', count === 0 ? texts.open : `${texts.open} (${texts.unread(count)})`);
    },
    setOpen(open) {
      if (!ui.launcher) return;
      ui.root.classList.toggle('exh-open', open);
      ui.panel.hidden = !open;
      ui.launcher.setAttribute('aria-expanded', open ? 'true' : 'false');
    },
    toggleVerify() {
      const show = ui.verifyForm.hidden;
      ui.verifyForm.hidden = !show;
      ui.verifyToolBtn.setAttribute('aria-expanded', show ? 'true' : 'false');
      return show;
    },
  };
  return view;
}
