import { type Api, ApiError, type ConversationState, errorText, isConversationState, isGone, type JsonObject, type RequestOptions } from './api.js';
import { all, h } from './dom.js';
import { createMessageList, readTurns } from './messages.js';
import { shouldPoll } from './poll.js';
import type { TurnView } from './api.js';
import { type ActionId, markFailed, markSending, type TurnContext } from './render.js';
import type { WidgetSettings } from './settings.js';
import { type KeyValueStore, LANGUAGE_KEY, loadConversation, saveConversation } from './storage.js';
import { createTexts, type Language, otherLanguage, type TextKey, type Texts } from './texts.js';
import { createView, type Mode, type Ui } from './view.js';
import { checkImage, fetchImage, uploadImage } from './attachments.js';
import { createReplyNotifier } from './notify.js';

/** Reads (polls, resuming, the transcript) give up sooner than a message, which waits for its answer. */
const READ_TIMEOUT_MS = 20_000;
/** How long the object URL of a downloaded transcript stays valid. */
const DOWNLOAD_URL_LIFETIME_MS = 60_000;

/** What the customer sends: text, a button's action, or an explicit language choice. */
type MessageBody = { text: string } | { action: ActionId } | { choice: { entryId: string | null } } | { language: Language };

/** Per-request options of a send: e.g. a header that every attempt of the same message repeats. */
export type SendOptions = Pick<RequestOptions, 'headers'>;

interface Conversation {
  id: string;
  token: string;
}

interface PostResult {
  data: JsonObject;
  /** The last seq shown when the message was sent. */
  before: number;
}

interface ChatState {
  language: Language;
  conversation: Conversation | null;
  conversationState: ConversationState | null;
  /** Set while a conversation is being created or resumed. */
  starting: Promise<void> | null;
  sending: boolean;
  polling: boolean;
  open: boolean;
  /** Turns from others that came while the embedded panel was closed. */
  unread: number;
  /** What the error line's Retry does. */
  retry: (() => void) | null;
  /** The localised notice in the error line, re-localised on a language switch. */
  notice: TextKey | null;
  /** The error line shows a failed start, cleared once the conversation is there. */
  startupErrorShown: boolean;
  /** The agent handling the conversation (from the latest claim), for the header. */
  agentName: string | null;
  /** The image picked to send, with its preview (an object URL). */
  attachment: { file: File; url: string } | null;
  /** An e-mail address was left for the answer (a turn says so). */
  contactLeft: boolean;
  /** Whether someone is on duty now (GET /api/desk), and when the team is back; null until asked. */
  desk: { open: boolean; nextOpening: Date | null } | null;
}

export interface ChatOptions {
  mode: Mode;
  settings: WidgetSettings;
  api: Api;
  store: KeyValueStore;
  language: Language;
}

export interface Chat {
  readonly ui: Ui;
  readonly open: boolean;
  /** Resumes the stored conversation or starts one; an error shows with a Retry. */
  start(): void;
  /** Fetches new turns when worth it (see shouldPoll). */
  poll(): void;
  /** Embedded mode: opens or closes the panel. */
  setOpen(open: boolean): void;
  focusInput(): void;
  /** Fits the composer to its text (once the widget is in the document). */
  autosize(): void;
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** When the team is back, in the customer's own time zone: weekday and time. */
function formatOpening(date: Date, language: Language): string {
  try {
    return date.toLocaleString(language === 'zh' ? 'zh-CN' : 'en', { weekday: 'short', hour: '2-digit', minute: '2-digit' });
  } catch {
    return date.toISOString();
  }
}

function conversationPath(conversation: Conversation, rest: string): string {
  return `/api/conversations/${encodeURIComponent(conversation.id)}${rest}`;
}

/** The chat's behaviour: the conversation's life, sending, polling, language, transcript and channel check. */
export function createChat(options: ChatOptions): Chat {
  const { mode, settings, api, store } = options;
  const allTexts = createTexts(settings);
  const state: ChatState = {
    language: options.language,
    conversation: null,
    conversationState: null,
    starting: null,
    sending: false,
    polling: false,
    open: mode === 'page',
    unread: 0,
    retry: null,
    notice: null,
    startupErrorShown: false,
    agentName: null,
    attachment: null,
    contactLeft: false,
    desk: null,
  };
  const notifier = createReplyNotifier({ store, title: (count) => texts().newReplyTitle(count) });
  /** Pictures of the files sent from this page or fetched back, by file id, shown with their turns. */
  const previews = new Map<string, string>();
  /** Pictures being fetched back, or known gone (null: erased, or not an image), by file id. */
  const fetching = new Map<string, Promise<string | undefined> | null>();
  // Messages, actions and language changes are posted one at a time, in the order the customer made them.
  let postQueue: Promise<unknown> = Promise.resolve();

  const view = createView(mode, settings, {
    toggleLanguage: () => setLanguage(otherLanguage(state.language)),
    toggleOpen: () => setOpen(!state.open),
    close: () => setOpen(false),
    toggleVerify,
    submitVerify: verifyChannel,
    newConversation: () => void startNewConversation(false).catch(() => undefined),
    retry: () => {
      const retry = state.retry;
      clearError();
      retry?.();
    },
    dismissError: clearError,
    send: sendText,
    human: () => sendAction('human', texts().human),
    transcript: () => void downloadTranscript(),
    edited: () => {
      view.autosize();
      updateComposer();
    },
    filePicked: (file) => void pickFile(file),
    removeAttachment: () => setAttachment(null),
    toggleSound: () => {
      notifier.setSound(!notifier.soundOn);
      updateSound();
    },
    submitEmail: leaveEmail,
  });
  const { ui } = view;
  const messages = createMessageList(ui.list);

  const texts = (): Texts => allTexts[state.language];
  const turnContext = (): TurnContext => ({
    texts: texts(),
    language: state.language,
    textsOf: (language) => (language === 'zh' || language === 'en' ? allTexts[language] : texts()),
    onAction: sendAction,
    onChoice: sendChoice,
    onRate: sendRating,
    previewOf: (fileId) => previews.get(fileId),
    loadPreview,
  });

  /** The picture of a file sent before this page (after a reload), fetched once with the conversation's token. */
  function loadPreview(fileId: string): Promise<string | undefined> {
    const known = previews.get(fileId);
    if (known) return Promise.resolve(known);
    const pending = fetching.get(fileId);
    if (pending !== undefined) return pending ?? Promise.resolve(undefined);
    const conversation = state.conversation;
    if (!conversation) return Promise.resolve(undefined);
    const loading = fetchImage(api, conversationPath(conversation, `/files/${encodeURIComponent(fileId)}`), conversation.token, READ_TIMEOUT_MS).then(
      (blob) => {
        if (blob === null) fetching.set(fileId, null);
        // Not fetched now (offline, a timeout): the next time the turn is drawn tries again.
        if (!blob) {
          if (blob === undefined) fetching.delete(fileId);
          return undefined;
        }
        fetching.delete(fileId);
        const url = URL.createObjectURL(blob);
        previews.set(fileId, url);
        return url;
      },
    );
    fetching.set(fileId, loading);
    return loading;
  }

  // --- The frame -----------------------------------------------------------------------------

  function applyTexts(): void {
    view.applyTexts(texts(), state.language);
    view.setUnread(state.unread, texts());
    updateStatus();
    if (!ui.verifyForm.hidden) loadOfficialChannels();
    if (state.notice) ui.errorText.textContent = texts()[state.notice];
    updateSound();
    updateEmailOffer();
    updateComposer();
  }

  function updateSound(): void {
    ui.soundText.textContent = notifier.soundOn ? texts().soundOn : texts().soundOff;
    ui.soundBtn.setAttribute('aria-pressed', notifier.soundOn ? 'true' : 'false');
  }

  function updateStatus(): void {
    const s = state.conversationState;
    const key: TextKey =
      s === 'escalated' ? 'subtitleEscalated' : s === 'closed' ? 'subtitleClosed' : state.starting && !state.conversation ? 'connecting' : 'subtitle';
    // Waiting for a human, then the agent who claimed it, then resolved.
    const text = s === 'escalated' && state.agentName ? texts().subtitleWithAgent(state.agentName) : texts()[key];
    view.setStatus(text, s === 'escalated' && state.agentName ? 'claimed' : (s ?? 'none'));
  }

  function updateComposer(): void {
    view.updateComposer({ sending: state.sending, closed: state.conversationState === 'closed', attached: state.attachment !== null }, texts());
  }

  function setConversationState(value: unknown): void {
    const before = state.conversationState;
    if (isConversationState(value)) state.conversationState = value;
    updateStatus();
    updateComposer();
    // Waiting for a human: is anyone on duty? If not, the widget offers to take an e-mail address.
    if (state.conversationState === 'escalated' && (before !== 'escalated' || state.desk === null)) checkDesk();
    updateEmailOffer();
  }

  function showError(message: string, retry?: () => void): void {
    state.notice = null;
    state.retry = retry ?? null;
    view.showError(message, retry !== undefined);
  }

  function showNotice(key: TextKey): void {
    state.retry = null;
    state.notice = key;
    view.showNotice(texts()[key]);
  }

  function clearError(): void {
    state.retry = null;
    state.notice = null;
    view.clearError();
  }

  function clearStartupError(): void {
    if (!state.startupErrorShown) return;
    state.startupErrorShown = false;
    clearError();
  }

  // --- Turns ---------------------------------------------------------------------------------

  function persist(): void {
    saveConversation(store, state.conversation ? { ...state.conversation, lastSeq: messages.lastSeq } : null);
  }

  /** Shows new turns; replies that arrive while the embedded panel is closed raise the unread badge (unless silent). */
  function applyTurns(value: unknown, pending: HTMLElement | null = null, silent = false): void {
    const stick = view.isNearBottom();
    const turns = readTurns(value);
    // An agent's words, not the desk's notices (claimed, resolved): what the tab's title counts.
    const agentReplies = turns.filter((t) => t.role === 'agent' && t.kind !== 'handoff' && t.seq > messages.lastSeq).length;
    followConversation(turns);
    const fromOthers = messages.apply(turns, pending, turnContext());
    persist();
    view.scrollToBottom(stick);
    if (fromOthers && !silent && mode === 'embed' && !state.open) {
      state.unread += fromOthers;
      view.setUnread(state.unread, texts());
    }
    if (!silent) notifier.agentReplied(agentReplies);
  }

  /**
   * Follows what the turns say: the agent who claimed (for the header), and the language the bot
   * now answers in (the widget's own labels follow it, without telling the server: it chose it).
   */
  function followConversation(turns: readonly TurnView[]): void {
    for (const turn of turns) {
      if (turn.kind === 'handoff' && turn.handoff === 'claimed') state.agentName = typeof turn.author === 'string' && turn.author ? turn.author : texts().agent;
      if (turn.kind === 'handoff' && (turn.handoff === 'handed_back' || turn.handoff === 'resolved')) state.agentName = null;
      if (turn.kind === 'escalation') state.agentName = null;
      if (turn.role === 'customer' && turn.contact === 'email') state.contactLeft = true;
    }
    updateEmailOffer();
    const spoken = [...turns].reverse().find((t) => t.role === 'bot' && (t.language === 'zh' || t.language === 'en'));
    if (spoken && spoken.language !== state.language && (spoken.language === 'zh' || spoken.language === 'en')) {
      state.language = spoken.language;
      store.set(LANGUAGE_KEY, spoken.language);
      applyTexts();
    }
  }

  function addPending(text: string): HTMLLIElement {
    const li = messages.addPending(text, turnContext());
    view.scrollToBottom(true);
    return li;
  }

  // --- The conversation's life ---------------------------------------------------------------

  async function createConversation(): Promise<void> {
    const data = await api.json('POST', '/api/conversations', { body: { language: state.language } });
    if (typeof data.id !== 'string' || typeof data.token !== 'string') throw new ApiError(0, 'bad_response', '');
    state.conversation = { id: data.id, token: data.token };
    persist();
    setConversationState(data.state);
    applyTurns(data.turns, null, true);
  }

  /** Shows the stored conversation from its first turn; one that is gone is replaced by a new one. */
  async function resumeConversation(stored: Conversation): Promise<void> {
    let data: JsonObject;
    try {
      data = await api.json('GET', conversationPath(stored, '/messages?after=0'), { token: stored.token, timeoutMs: READ_TIMEOUT_MS });
    } catch (error) {
      if (!isGone(error)) throw error;
      saveConversation(store, null);
      messages.reset();
      messages.addLocalNotice('expired', texts());
      return createConversation();
    }
    state.conversation = { id: stored.id, token: stored.token };
    messages.reset();
    setConversationState(data.state);
    applyTurns(data.turns, null, true);
  }

  /** Resolves once there is a live conversation; concurrent callers share one start. */
  function ensureConversation(): Promise<void> {
    if (state.conversation) return Promise.resolve();
    if (state.starting) return state.starting;
    const stored = loadConversation(store);
    state.starting = (stored ? resumeConversation(stored) : createConversation()).then(
      () => {
        state.starting = null;
        updateStatus();
        clearStartupError();
      },
      (error: unknown) => {
        state.starting = null;
        updateStatus();
        throw error;
      },
    );
    updateStatus();
    return state.starting;
  }

  function start(): void {
    ensureConversation().catch((error: unknown) => {
      state.startupErrorShown = true;
      showError(errorText(error, texts()), start);
    });
  }

  /** Drops the current conversation and starts a fresh one. */
  function startNewConversation(expired: boolean): Promise<void> {
    state.conversation = null;
    state.conversationState = null;
    state.contactLeft = false;
    saveConversation(store, null);
    messages.reset();
    if (expired) messages.addLocalNotice('expired', texts());
    clearError();
    updateComposer();
    return ensureConversation().catch((error: unknown) => {
      state.startupErrorShown = true;
      showError(errorText(error, texts()), start);
      throw error;
    });
  }

  function enqueue<T>(post: () => Promise<T>): Promise<T> {
    const run = postQueue.then(post, post);
    postQueue = run.catch(() => undefined);
    return run;
  }

  /** Posts to the conversation; if it is gone, starts a new one and posts there once. */
  async function postMessage(body: MessageBody, sendOptions: SendOptions = {}, attempt = 0): Promise<PostResult> {
    await ensureConversation();
    const conversation = state.conversation;
    if (!conversation) throw new ApiError(0, 'bad_response', '');
    const before = messages.lastSeq;
    try {
      const data = await api.json('POST', conversationPath(conversation, '/messages'), { ...sendOptions, body, token: conversation.token });
      return { data, before };
    } catch (error) {
      if (isGone(error) && attempt === 0 && state.conversation === conversation) {
        await startNewConversation(true);
        return postMessage(body, sendOptions, 1);
      }
      throw error;
    }
  }

  function afterPost(result: PostResult, pending: HTMLElement | null): void {
    const turns = readTurns(result.data.turns);
    applyTurns(turns, pending);
    pending?.remove();
    setConversationState(result.data.state);
    // Turns between the last one shown and this answer's (an agent's reply): fetch them now.
    const first = Math.min(...turns.map((t) => t.seq));
    if (first !== Infinity && first > result.before + 1) poll(result.before);
  }

  // --- Sending -------------------------------------------------------------------------------

  function newIdempotencyKey(): string {
    if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function sendText(): void {
    if (state.sending) return;
    const text = ui.input.value;
    if (state.attachment) {
      if (text.length > settings.maxMessageChars) {
        showError(texts().counter(text.length));
        return;
      }
      sendImage(state.attachment, text.trim());
      return;
    }
    if (!text.trim()) return;
    if (text.length > settings.maxMessageChars) {
      showError(texts().counter(text.length));
      return;
    }
    ui.input.value = '';
    view.autosize();
    send({ text }, addPending(text));
    ui.input.focus();
  }

  /** Marks a turn's action buttons used (or free again), and the pressed one chosen. */
  function markActions(button: HTMLButtonElement, used: boolean): void {
    for (const b of button.parentNode ? all(button.parentNode, 'button') : []) {
      if (used) b.setAttribute('data-used', 'true');
      else b.removeAttribute('data-used');
    }
    button.classList.toggle('exh-chosen', used);
  }

  /** A quick reply to a clarifying turn: the entry picked, or none of them. */
  function sendChoice(entryId: string | null, label: string, button: HTMLButtonElement): void {
    if (state.sending) return;
    markActions(button, true);
    send({ choice: { entryId } }, addPending(label), button);
    ui.input.focus();
  }

  /** The rating after an agent resolved the conversation: sent as the number the bot asked for. */
  function sendRating(rating: number, button: HTMLButtonElement): void {
    if (state.sending) return;
    markActions(button, true);
    send({ text: String(rating) }, addPending(String(rating)), button);
  }

  function sendAction(action: ActionId, label: string, button?: HTMLButtonElement): void {
    if (state.sending) return;
    if (button) markActions(button, true);
    send({ action }, addPending(label), button);
    // The pressed button is disabled now; keep the keyboard in the widget.
    if (state.conversationState !== 'closed') ui.input.focus();
  }

  /**
   * Sends a message shown as pending; on failure it is marked "not sent" and Retry sends it again
   * with the same options (so a per-message header, e.g. an idempotency key, repeats on Retry).
   */
  function send(body: MessageBody, pending: HTMLLIElement, button?: HTMLButtonElement, given: SendOptions = {}): void {
    // One key per message, kept by its retries: the server stores a message sent twice once.
    const sendOptions: SendOptions = given.headers?.['Idempotency-Key']
      ? given
      : { ...given, headers: { ...given.headers, 'Idempotency-Key': newIdempotencyKey() } };
    clearError();
    state.sending = true;
    updateComposer();
    view.setTyping(true);
    // No language with a message: the server follows the language the customer writes in; only the
    // toggle (notifyLanguage) sends an explicit choice, which then sticks.
    enqueue(() => postMessage(body, sendOptions)).then(
      (result) => {
        state.sending = false;
        view.setTyping(false);
        afterPost(result, pending);
        updateComposer();
      },
      (error: unknown) => {
        state.sending = false;
        view.setTyping(false);
        markFailed(pending, texts());
        if (button) markActions(button, false);
        updateComposer();
        if (error instanceof ApiError && error.status === 409) setConversationState('closed');
        showError(errorText(error, texts()), () => {
          if (state.sending) return;
          if (button?.parentNode) markActions(button, true);
          markSending(pending, texts());
          send(body, pending, button, sendOptions);
        });
      },
    );
  }

  function setLanguage(language: Language): void {
    if (language === state.language) return;
    state.language = language;
    store.set(LANGUAGE_KEY, language);
    applyTexts();
    if (state.conversation) notifyLanguage();
  }

  /** Tells the server the customer chose a language; shows whatever turns it adds (usually none). */
  function notifyLanguage(): void {
    const language = state.language;
    enqueue(() => postMessage({ language })).then(
      (result) => afterPost(result, null),
      (error: unknown) => showError(errorText(error, texts()), notifyLanguage),
    );
  }

  // --- Screenshots ---------------------------------------------------------------------------

  function setAttachment(attachment: ChatState['attachment']): void {
    if (state.attachment && state.attachment !== attachment && ![...previews.values()].includes(state.attachment.url)) {
      URL.revokeObjectURL(state.attachment.url);
    }
    state.attachment = attachment;
    ui.attachment.hidden = attachment === null;
    ui.attachmentProgress.hidden = true;
    ui.attachment.removeAttribute('data-state');
    if (attachment) {
      ui.attachmentThumb.src = attachment.url;
      ui.attachmentName.textContent = `${attachment.file.name || texts().screenshot} · ${formatSize(attachment.file.size)}`;
    } else {
      ui.attachmentThumb.removeAttribute('src');
      ui.attachmentName.textContent = '';
    }
    updateComposer();
  }

  /** Checks a picked file where the customer is (size, and type by its bytes) before anything is sent. */
  async function pickFile(file: File): Promise<void> {
    clearError();
    const problem = await checkImage(file, settings.maxUploadBytes);
    if (problem === 'too_big') return showError(texts().attachTooBig);
    if (problem) return showError(texts().attachWrongType);
    setAttachment({ file, url: URL.createObjectURL(file) });
    ui.input.focus();
  }

  /** Uploads the image (the composer's text as its caption), showing its progress; Retry sends the same again. */
  function sendImage(attachment: NonNullable<ChatState['attachment']>, caption: string, key = newIdempotencyKey()): void {
    clearError();
    state.sending = true;
    updateComposer();
    ui.attachment.setAttribute('data-state', 'uploading');
    ui.attachmentProgress.hidden = false;
    ui.attachmentProgress.value = 0;
    ui.attachmentName.textContent = texts().uploading;
    const fail = (message: string, retry: boolean) => {
      state.sending = false;
      ui.attachment.setAttribute('data-state', 'failed');
      ui.attachmentProgress.hidden = true;
      ui.attachmentName.textContent = `${attachment.file.name || texts().screenshot} · ${formatSize(attachment.file.size)}`;
      updateComposer();
      showError(message, retry ? () => sendImage(attachment, caption, key) : undefined);
    };
    enqueue(async () => {
      await ensureConversation();
      const conversation = state.conversation;
      if (!conversation) throw new ApiError(0, 'bad_response', '');
      const before = messages.lastSeq;
      const answer = await uploadImage({
        url: `${api.base}${conversationPath(conversation, '/files')}`,
        token: conversation.token,
        file: attachment.file,
        caption,
        idempotencyKey: key,
        onProgress: (fraction) => (ui.attachmentProgress.value = fraction),
      });
      return { answer, before };
    }).then(
      ({ answer, before }) => {
        const error = answer.data?.error as { code?: unknown; message?: unknown } | undefined;
        if (answer.status === 413) return fail(texts().attachTooBig, false);
        if (answer.status === 415 && error?.code === 'unsupported_file_type') return fail(texts().attachWrongType, false);
        if (answer.status < 200 || answer.status >= 300 || !answer.data) {
          return fail(
            typeof error?.message === 'string' && error.message ? error.message : texts().attachFailed,
            answer.status === 0 || answer.status >= 500 || answer.status === 429,
          );
        }
        const file = answer.data.file as { id?: unknown } | undefined;
        if (typeof file?.id === 'string') previews.set(file.id, attachment.url);
        state.sending = false;
        if (ui.input.value.trim() === caption) {
          ui.input.value = '';
          view.autosize();
        }
        setAttachment(null);
        afterPost({ data: answer.data, before }, null);
        updateComposer();
      },
      (error: unknown) => fail(errorText(error instanceof ApiError ? error : new ApiError(0, 'network', ''), texts()), true),
    );
  }

  // --- While no agent is on duty: an e-mail address for the answer --------------------------

  function checkDesk(): void {
    api.json('GET', '/api/desk', { timeoutMs: READ_TIMEOUT_MS }).then(
      (data) => {
        const next = typeof data.nextOpening === 'string' ? new Date(data.nextOpening) : null;
        state.desk = { open: data.open !== false, nextOpening: next && !Number.isNaN(next.getTime()) ? next : null };
        updateEmailOffer();
      },
      () => undefined,
    );
  }

  function updateEmailOffer(): void {
    const show = state.conversationState === 'escalated' && state.desk !== null && !state.desk.open && !state.contactLeft;
    ui.emailBox.hidden = !show;
    if (!show || !state.desk) return;
    ui.emailOffer.textContent = texts().emailOffer(state.desk.nextOpening ? formatOpening(state.desk.nextOpening, state.language) : '');
  }

  function leaveEmail(): void {
    const email = ui.emailInput.value.trim();
    ui.emailError.hidden = true;
    if (!/^[^\s@<>]+@[^\s@<>]+\.[A-Za-z]{2,}$/.test(email)) {
      ui.emailError.textContent = texts().emailInvalid;
      ui.emailError.hidden = false;
      ui.emailInput.focus();
      return;
    }
    ui.emailBtn.disabled = true;
    enqueue(async () => {
      await ensureConversation();
      const conversation = state.conversation;
      if (!conversation) throw new ApiError(0, 'bad_response', '');
      const before = messages.lastSeq;
      const data = await api.json('POST', conversationPath(conversation, '/contact'), { body: { email }, token: conversation.token });
      return { data, before };
    })
      .then(
        (result) => {
          ui.emailInput.value = '';
          afterPost(result, null);
        },
        (error: unknown) => {
          ui.emailError.textContent = error instanceof ApiError && error.code === 'invalid_email' ? texts().emailInvalid : errorText(error, texts());
          ui.emailError.hidden = false;
        },
      )
      .finally(() => {
        ui.emailBtn.disabled = false;
      });
  }

  // --- Polling for agents' replies -----------------------------------------------------------

  /** Fetches the turns after the last one shown (or after `after`: then whether or not polling is due). */
  function poll(after?: number): void {
    const forced = after !== undefined;
    const due = shouldPoll({
      hasConversation: state.conversation !== null,
      starting: state.starting !== null,
      hidden: document.visibilityState === 'hidden',
      conversationState: state.conversationState,
      embedded: mode === 'embed',
      open: state.open,
    });
    if (!forced && (state.polling || state.sending || !due)) return;
    const conversation = state.conversation;
    if (!conversation) return;
    state.polling = true;
    api
      .json('GET', conversationPath(conversation, `/messages?after=${after ?? messages.lastSeq}`), { token: conversation.token, timeoutMs: READ_TIMEOUT_MS })
      .then(
        (data) => {
          state.polling = false;
          if (state.conversation !== conversation) return;
          applyTurns(data.turns);
          setConversationState(data.state);
          clearStartupError();
        },
        (error: unknown) => {
          state.polling = false;
          if (state.conversation !== conversation) return;
          if (isGone(error) && !state.sending) startNewConversation(true).catch(() => undefined);
          // Other errors: quiet; the next tick tries again.
        },
      );
  }

  // --- Transcript ----------------------------------------------------------------------------

  async function downloadTranscript(): Promise<void> {
    try {
      await ensureConversation();
      const conversation = state.conversation;
      if (!conversation) return;
      const res = await api.fetch('GET', conversationPath(conversation, '/transcript'), { token: conversation.token, timeoutMs: READ_TIMEOUT_MS });
      if (res.status === 404 || res.status === 405 || res.status === 501) {
        showNotice('transcriptSoon');
        return;
      }
      if (!res.ok) {
        let message = '';
        try {
          const error: unknown = (JSON.parse(await res.text()) as { error?: unknown }).error;
          const text = error && typeof error === 'object' ? (error as { message?: unknown }).message : undefined;
          if (typeof text === 'string') message = text;
        } catch {
          // not JSON
        }
        showError(message || texts().errorGeneric, () => void downloadTranscript());
        return;
      }
      const type = (res.headers.get('Content-Type') ?? 'text/plain').split(';')[0]?.trim().toLowerCase() ?? '';
      const extension = /html/.test(type) ? 'html' : /json/.test(type) ? 'json' : /pdf/.test(type) ? 'pdf' : /markdown/.test(type) ? 'md' : 'txt';
      const given = /filename="?([^";]+)"?/i.exec(res.headers.get('Content-Disposition') ?? '')?.[1];
      const name = given ? given.replace(/[\\/]/g, '_') : `transcript-${conversation.id.replace(/[^A-Za-z0-9_-]/g, '')}.${extension}`;
      const url = URL.createObjectURL(await res.blob());
      const link = h('a', { href: url, download: name, style: 'display:none' });
      ui.root.appendChild(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_LIFETIME_MS);
      showNotice('transcriptReady');
    } catch (error) {
      showError(errorText(error, texts()), () => void downloadTranscript());
    }
  }

  // --- Official channels ---------------------------------------------------------------------

  function toggleVerify(): void {
    if (!view.toggleVerify()) return;
    loadOfficialChannels();
    ui.verifyInput.focus();
  }

  function loadOfficialChannels(): void {
    api.json('GET', `/api/official-channels?language=${state.language}`).then(
      (data) => (ui.official.textContent = typeof data.message === 'string' ? data.message : ''),
      () => (ui.official.textContent = ''),
    );
  }

  function verifyChannel(): void {
    const input = ui.verifyInput.value.trim();
    if (!input) return;
    ui.verifyBtn.disabled = true;
    api
      .json('POST', '/api/verify-channel', { body: { input, language: state.language } })
      .then(
        (data) => {
          ui.verifyResult.textContent = typeof data.message === 'string' ? data.message : '';
          ui.verifyResult.setAttribute('data-official', data.official ? 'true' : 'false');
        },
        (error: unknown) => {
          ui.verifyResult.textContent = errorText(error, texts());
          ui.verifyResult.removeAttribute('data-official');
        },
      )
      .finally(() => {
        ui.verifyResult.hidden = false;
        ui.verifyBtn.disabled = false;
      });
  }

  // --- Embedded: open and close --------------------------------------------------------------

  function setOpen(open: boolean): void {
    state.open = open;
    if (mode !== 'embed') return;
    view.setOpen(open);
    if (!open) return;
    state.unread = 0;
    view.setUnread(0, texts());
    start();
    poll();
    view.scrollToBottom(true);
    window.setTimeout(() => ui.input.focus({ preventScroll: true }), 30);
  }

  applyTexts();
  return {
    ui,
    get open() {
      return state.open;
    },
    start,
    poll: () => poll(),
    setOpen,
    focusInput: () => ui.input.focus(),
    autosize: () => view.autosize(),
  };
}
