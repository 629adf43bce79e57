import type { CustomerAction, CustomerMessage, Helpdesk, Language, RawAttachment, RawCustomerMessage } from '../../core/index.js';

/** The parts of Telegram's Bot API objects the bot reads (the Update type is much larger). */
export interface TgUser {
  id: number;
  is_bot?: boolean;
  first_name?: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}
export interface TgChat {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  title?: string;
}
export interface TgEntity {
  type: string;
  offset: number;
  length: number;
  user?: TgUser;
}
interface TgFile {
  file_id: string;
  file_unique_id?: string;
  file_size?: number;
  file_name?: string;
  mime_type?: string;
}
export interface TgMessage {
  message_id: number;
  date: number;
  chat: TgChat;
  from?: TgUser;
  text?: string;
  caption?: string;
  entities?: TgEntity[];
  caption_entities?: TgEntity[];
  reply_to_message?: TgMessage;
  photo?: TgFile[];
  document?: TgFile;
  sticker?: TgFile;
  voice?: TgFile;
  audio?: TgFile;
  video?: TgFile;
  video_note?: TgFile;
  animation?: TgFile;
  contact?: { phone_number?: string; first_name?: string; last_name?: string; user_id?: number; vcard?: string };
  venue?: { title?: string; address?: string; location?: unknown };
  location?: unknown;
  poll?: { question?: string; options?: Array<{ text?: string }> };
}
export interface TgUpdate {
  update_id: number;
  message?: TgMessage;
  edited_message?: TgMessage;
  callback_query?: { id: string; from: TgUser; data?: string; message?: TgMessage };
}

export interface BotIdentity {
  id: number;
  username: string;
}

/** Who wrote and where: one conversation per private chat, one per member in a group. */
export interface InboundOrigin {
  chatId: string;
  externalId: string;
  /** The Telegram user who wrote (in a private chat, also the chat's id). */
  userId: number;
  isGroup: boolean;
  messageId: number | null;
  customerHandle: string | null;
  languageCode: Language | undefined;
}

/** What the customer did, as Telegram delivered it (raw: its texts are not screened yet). */
export type InboundEvent =
  | { kind: 'text'; raw: RawCustomerMessage }
  | { kind: 'command'; command: string; raw: RawCustomerMessage }
  | { kind: 'action'; action: CustomerAction }
  /** A pick among a clarifying turn's choices (entryId null: "None of these"), from the message with the keyboard. */
  | { kind: 'choice'; entryId: string | null; keyboardMessageId: number | null }
  | { kind: 'attachment'; raw: RawCustomerMessage }
  | { kind: 'unsupported'; raw: RawCustomerMessage }
  | { kind: 'edit'; raw: RawCustomerMessage; editedMessageId: number };

export type Inbound = { origin: InboundOrigin; event: InboundEvent } | { ignored: string };

/**
 * What the inbox keeps of an update, and all the handling reads: ids, and the customer's content
 * through the firewall (a CustomerMessage; the display name screened too). Never the raw update.
 */
export type StoredInbound = { ignored: string } | { origin: InboundOrigin; event: StoredEvent };

export type StoredEvent =
  | { kind: 'text' | 'attachment' | 'unsupported'; message: CustomerMessage }
  | { kind: 'command'; command: string; message: CustomerMessage }
  | { kind: 'action'; action: CustomerAction }
  | { kind: 'choice'; entryId: string | null; keyboardMessageId: number | null }
  | { kind: 'edit'; message: CustomerMessage; editedMessageId: number };

/** Telegram's `language_code` ("zh-hans", "en-US"...) as a helpdesk language, when it is one. */
export function toLanguage(code: string | undefined): Language | undefined {
  const lower = code?.toLowerCase() ?? '';
  if (lower.startsWith('zh')) return 'zh';
  if (lower.startsWith('en')) return 'en';
  return undefined;
}

export const CALLBACK_PREFIX = 'act:';
/** Callback data of a choice button: `choose:<entry id>`, or `choose:none` for "None of these". */
export const CHOICE_PREFIX = 'choose:';
export const CHOICE_NONE = 'none';
/** What an entry id may look like in callback data (the client sends it: anything else is refused). */
const ENTRY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,56}$/;
const ACTIONS: readonly string[] = ['solved', 'human', 'bot'];
const isAction = (value: unknown): value is CustomerAction => typeof value === 'string' && ACTIONS.includes(value);

/** The chat an update belongs to, for per-chat ordering; undefined for updates the bot ignores. */
export function chatIdOf(update: TgUpdate): string | undefined {
  const chat = update.message?.chat ?? update.edited_message?.chat ?? update.callback_query?.message?.chat;
  return chat ? String(chat.id) : undefined;
}

export function messageIdOf(update: TgUpdate): number | null {
  return update.message?.message_id ?? update.edited_message?.message_id ?? null;
}

function toOrigin(chat: TgChat, from: TgUser, messageId: number | null): InboundOrigin {
  const isGroup = chat.type === 'group' || chat.type === 'supergroup';
  const name = [from.first_name, from.last_name].filter(Boolean).join(' ');
  return {
    chatId: String(chat.id),
    externalId: isGroup ? `${chat.id}:${from.id}` : String(chat.id),
    userId: from.id,
    isGroup,
    messageId,
    customerHandle: from.username ? `@${from.username}` : name || null,
    languageCode: toLanguage(from.language_code),
  };
}

/** In a group the bot speaks only when mentioned by its @username or when a message replies to it. */
function addressesBot(message: TgMessage, bot: BotIdentity): boolean {
  if (message.reply_to_message?.from?.id === bot.id) return true;
  const text = message.text ?? message.caption ?? '';
  const entities = message.entities ?? message.caption_entities ?? [];
  return entities.some(
    (e) =>
      (e.type === 'mention' && text.slice(e.offset, e.offset + e.length).toLowerCase() === `@${bot.username.toLowerCase()}`) ||
      (e.type === 'text_mention' && e.user?.id === bot.id),
  );
}

function withoutMention(text: string, bot: BotIdentity): string {
  return text
    .replace(new RegExp(`@${bot.username}\\b`, 'gi'), '')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

function toAttachment(message: TgMessage): RawAttachment | undefined {
  const of = (type: RawAttachment['type'], file: TgFile): RawAttachment => ({
    type,
    fileId: file.file_id,
    ...(file.file_unique_id ? { fileUniqueId: file.file_unique_id } : {}),
    ...(file.file_name ? { fileName: file.file_name } : {}),
    ...(file.mime_type ? { mimeType: file.mime_type } : {}),
    ...(file.file_size !== undefined ? { fileSize: file.file_size } : {}),
  });
  if (message.photo && message.photo.length > 0) {
    // Telegram sends several sizes; the last is the largest, the one an agent wants to see.
    return of('photo', message.photo[message.photo.length - 1] as TgFile);
  }
  if (message.document) return of('document', message.document);
  for (const type of ['sticker', 'voice', 'audio', 'video', 'video_note', 'animation'] as const) {
    const file = message[type];
    if (file) return of(type, file);
  }
  return undefined;
}

const strings = (...values: unknown[]) => values.filter((v): v is string => typeof v === 'string' && v.trim() !== '');

/**
 * Shared contacts, places and polls: their texts, in one line for the agents (screened like any
 * message). A location's coordinates are not kept.
 */
function toSharedText(message: TgMessage): string | undefined {
  if (message.contact) {
    const c = message.contact;
    return `[contact] ${strings(c.first_name, c.last_name, c.phone_number).join(' ')}`.trim();
  }
  if (message.venue) return `[venue] ${strings(message.venue.title, message.venue.address).join(', ')}`.trim();
  if (message.poll) {
    const options = (message.poll.options ?? []).map((o) => o.text);
    return `[poll] ${strings(message.poll.question).join('')}${options.length ? `: ${strings(...options).join(' / ')}` : ''}`.trim();
  }
  if (message.location) return '[location]';
  return undefined;
}

const COMMAND = /^\/([a-z0-9_]+)(?:@([a-z0-9_]+))?(?:\s+([\s\S]*))?$/i;

/**
 * Maps a Telegram update to what the customer did, or says why the bot ignores it (a group
 * message not addressed to the bot, another bot, a command for another bot, an unknown update).
 */
export function toInboundEvent(update: TgUpdate, bot: BotIdentity): Inbound {
  const query = update.callback_query;
  if (query) {
    const chat = query.message?.chat;
    const action = query.data?.startsWith(CALLBACK_PREFIX) ? query.data.slice(CALLBACK_PREFIX.length) : undefined;
    if (!chat) return { ignored: 'callback query without message' };
    const keyboardMessageId = typeof query.message?.message_id === 'number' ? query.message.message_id : null;
    // The data is the client's to send: it is not echoed into logs, and an entry id is checked for
    // its form here and against the choices offered by the helpdesk.
    if (query.data?.startsWith(CHOICE_PREFIX)) {
      const picked = query.data.slice(CHOICE_PREFIX.length);
      if (picked !== CHOICE_NONE && !ENTRY_ID.test(picked)) return { ignored: 'unknown callback data' };
      return { origin: toOrigin(chat, query.from, null), event: { kind: 'choice', entryId: picked === CHOICE_NONE ? null : picked, keyboardMessageId } };
    }
    if (!isAction(action)) return { ignored: 'unknown callback data' };
    return { origin: toOrigin(chat, query.from, null), event: { kind: 'action', action } };
  }
  const edited = update.edited_message;
  const message = update.message ?? edited;
  if (!message) return { ignored: 'update type not handled' };
  const from = message.from;
  if (!from || from.is_bot) return { ignored: 'not from a person' };
  if (message.chat.type === 'channel') return { ignored: 'channel post' };
  const origin = toOrigin(message.chat, from, message.message_id);
  const text = message.text ?? '';
  const command = text.startsWith('/') ? COMMAND.exec(text.trim()) : null;
  if (command?.[2] && command[2].toLowerCase() !== bot.username.toLowerCase()) {
    return { ignored: 'command for another bot' };
  }
  if (origin.isGroup && !command && !addressesBot(message, bot)) return { ignored: 'group message not addressed to the bot' };

  if (edited) {
    const newText = withoutMention(edited.text ?? edited.caption ?? '', bot);
    if (!newText) return { ignored: 'edit without text' };
    return { origin, event: { kind: 'edit', raw: { text: newText }, editedMessageId: edited.message_id } };
  }
  if (command) {
    return { origin, event: { kind: 'command', command: (command[1] as string).toLowerCase(), raw: { text: text.trim() } } };
  }
  const attachment = toAttachment(message);
  if (attachment) {
    const kind = attachment.type === 'photo' || attachment.type === 'document' ? 'attachment' : 'unsupported';
    // A caption is the message's text; the label says what came with it.
    const caption = message.caption ? withoutMention(message.caption, bot) : '';
    return { origin, event: { kind, raw: { text: caption ? `[${attachment.type}] ${caption}` : `[${attachment.type}]`, attachments: [attachment] } } };
  }
  const cleaned = withoutMention(text, bot);
  if (!cleaned) {
    if (text) return { ignored: 'only a mention' };
    const shared = toSharedText(message) ?? '[other]';
    return { origin, event: { kind: 'unsupported', raw: { text: shared, attachments: [{ type: 'other', fileId: null }] } } };
  }
  return { origin, event: { kind: 'text', raw: { text: cleaned } } };
}

/** Parses a command's text: the command, and what follows it. */
export function parseCommand(text: string): { command: string; args: string } | undefined {
  const command = COMMAND.exec(text.trim());
  return command ? { command: (command[1] as string).toLowerCase(), args: (command[3] ?? '').trim() } : undefined;
}

type Screening = Pick<Helpdesk, 'screen' | 'screenName'>;

/**
 * The update as the inbox keeps it: mapped (toInboundEvent), then every text through the firewall.
 * Ignored updates keep only why (a group's other messages are not the bot's to keep).
 */
export function toStoredInbound(update: TgUpdate, bot: BotIdentity, firewall: Screening): StoredInbound {
  const inbound = toInboundEvent(update, bot);
  if ('ignored' in inbound) return inbound;
  const origin = { ...inbound.origin, customerHandle: firewall.screenName(inbound.origin.customerHandle) };
  const event = inbound.event;
  switch (event.kind) {
    case 'action':
    case 'choice':
      return { origin, event };
    case 'command':
      return { origin, event: { kind: 'command', command: event.command, message: firewall.screen(event.raw) } };
    case 'edit':
      return { origin, event: { kind: 'edit', message: firewall.screen(event.raw), editedMessageId: event.editedMessageId } };
    default:
      return { origin, event: { kind: event.kind, message: firewall.screen(event.raw) } };
  }
}

/**
 * A stored inbound read back from the inbox: its message screened again (see Helpdesk.reviveMessage).
 * Undefined when the payload is not one (purged, or malformed).
 */
export function reviveStoredInbound(payload: unknown, firewall: Pick<Helpdesk, 'reviveMessage' | 'screenName'>): StoredInbound | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const p = payload as { ignored?: unknown; origin?: InboundOrigin; event?: Record<string, unknown> };
  if (typeof p.ignored === 'string') return { ignored: p.ignored };
  const origin = p.origin;
  const event = p.event;
  if (!origin || typeof origin.chatId !== 'string' || typeof origin.externalId !== 'string' || !event) return undefined;
  // Stored before the user id was kept: the external id ends with it ("<chat>" or "<group>:<user>").
  const userId = Number.isSafeInteger(origin.userId) ? origin.userId : Number(origin.externalId.split(':').at(-1));
  if (!Number.isSafeInteger(userId)) return undefined;
  const revivedOrigin: InboundOrigin = {
    chatId: origin.chatId,
    externalId: origin.externalId,
    userId,
    isGroup: origin.isGroup === true,
    messageId: typeof origin.messageId === 'number' ? origin.messageId : null,
    customerHandle: firewall.screenName(typeof origin.customerHandle === 'string' ? origin.customerHandle : null),
    languageCode: origin.languageCode === 'zh' || origin.languageCode === 'en' ? origin.languageCode : undefined,
  };
  if (event.kind === 'action') {
    return isAction(event.action) ? { origin: revivedOrigin, event: { kind: 'action', action: event.action } } : undefined;
  }
  if (event.kind === 'choice') {
    const entryId = event.entryId === null ? null : typeof event.entryId === 'string' && ENTRY_ID.test(event.entryId) ? event.entryId : undefined;
    if (entryId === undefined) return undefined;
    const keyboardMessageId = typeof event.keyboardMessageId === 'number' ? event.keyboardMessageId : null;
    return { origin: revivedOrigin, event: { kind: 'choice', entryId, keyboardMessageId } };
  }
  const message = firewall.reviveMessage(event.message);
  if (!message) return undefined;
  switch (event.kind) {
    case 'text':
    case 'attachment':
    case 'unsupported':
      return { origin: revivedOrigin, event: { kind: event.kind, message } };
    case 'command':
      return typeof event.command === 'string' ? { origin: revivedOrigin, event: { kind: 'command', command: event.command, message } } : undefined;
    case 'edit':
      return typeof event.editedMessageId === 'number'
        ? { origin: revivedOrigin, event: { kind: 'edit', message, editedMessageId: event.editedMessageId } }
        : undefined;
    default:
      return undefined;
  }
}
