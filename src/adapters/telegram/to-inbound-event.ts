import type { CustomerAction, Language, TurnAttachment } from '../../core/index.js';

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
  isGroup: boolean;
  messageId: number | null;
  customerHandle: string | null;
  languageCode: Language | undefined;
}

export type InboundEvent =
  | { kind: 'text'; text: string }
  | { kind: 'command'; command: string; args: string; text: string }
  | { kind: 'action'; action: CustomerAction }
  | { kind: 'attachment'; attachment: TurnAttachment; text: string }
  | { kind: 'unsupported'; attachment: TurnAttachment; text: string }
  | { kind: 'edit'; text: string; editedMessageId: number };

export type Inbound = { origin: InboundOrigin; event: InboundEvent } | { ignored: string };

/** Telegram's `language_code` ("zh-hans", "en-US"...) as a helpdesk language, when it is one. */
export function toLanguage(code: string | undefined): Language | undefined {
  const lower = code?.toLowerCase() ?? '';
  if (lower.startsWith('zh')) return 'zh';
  if (lower.startsWith('en')) return 'en';
  return undefined;
}

export const CALLBACK_PREFIX = 'act:';

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
  return text.replace(new RegExp(`@${bot.username}\\b`, 'gi'), '').replace(/\s{2,}/g, ' ').trim();
}

function toAttachment(message: TgMessage): TurnAttachment | undefined {
  const caption = message.caption ? { caption: message.caption } : {};
  const of = (type: TurnAttachment['type'], file: TgFile): TurnAttachment => ({
    type,
    fileId: file.file_id,
    ...(file.file_unique_id ? { fileUniqueId: file.file_unique_id } : {}),
    ...(file.file_name ? { fileName: file.file_name } : {}),
    ...(file.mime_type ? { mimeType: file.mime_type } : {}),
    ...(file.file_size !== undefined ? { fileSize: file.file_size } : {}),
    ...caption,
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
    if (action !== 'solved' && action !== 'human') return { ignored: `unknown callback data ${query.data ?? ''}` };
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
  if (command && command[2] && command[2].toLowerCase() !== bot.username.toLowerCase()) {
    return { ignored: 'command for another bot' };
  }
  if (origin.isGroup && !command && !addressesBot(message, bot)) return { ignored: 'group message not addressed to the bot' };

  if (edited) {
    const newText = withoutMention(edited.text ?? edited.caption ?? '', bot);
    if (!newText) return { ignored: 'edit without text' };
    return { origin, event: { kind: 'edit', text: newText, editedMessageId: edited.message_id } };
  }
  if (command) {
    return {
      origin,
      event: { kind: 'command', command: (command[1] as string).toLowerCase(), args: (command[3] ?? '').trim(), text: text.trim() },
    };
  }
  const attachment = toAttachment(message);
  if (attachment) {
    const kind = attachment.type === 'photo' || attachment.type === 'document' ? 'attachment' : 'unsupported';
    const caption = message.caption ? withoutMention(message.caption, bot) : '';
    return { origin, event: { kind, attachment, text: caption ? `[${attachment.type}] ${caption}` : `[${attachment.type}]` } };
  }
  const cleaned = withoutMention(text, bot);
  if (!cleaned) {
    if (text) return { ignored: 'only a mention' };
    return { origin, event: { kind: 'unsupported', attachment: { type: 'other', fileId: null }, text: '[other]' } };
  }
  return { origin, event: { kind: 'text', text: cleaned } };
}
