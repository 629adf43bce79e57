import type { Turn } from '../../core/index.js';
import { escapeHtml } from './format-html.js';
import { TELEGRAM_MAX_MESSAGE_CHARS, splitMessage } from './split-message.js';
import { telegramTexts } from './telegram-texts.js';
import { CALLBACK_PREFIX, CHOICE_NONE, CHOICE_PREFIX } from './to-inbound-event.js';

/** Telegram's limit on a button's callback data, in bytes. */
const CALLBACK_DATA_MAX_BYTES = 64;

type InlineKeyboard = Array<Array<{ text: string; callback_data: string }>>;

/**
 * A turn's buttons as an inline keyboard: its actions on one row; a clarifying turn's choices one
 * per row (titles are long), then "None of these". Undefined when the turn has none.
 */
function toKeyboard(turn: Turn): InlineKeyboard | undefined {
  const rows: InlineKeyboard = [];
  const actions = turn.data.actions ?? [];
  if (actions.length > 0) rows.push(actions.map((a) => ({ text: a.label, callback_data: `${CALLBACK_PREFIX}${a.id}` })));
  const choices = (turn.data.choices ?? []).filter((c) => Buffer.byteLength(`${CHOICE_PREFIX}${c.entryId}`) <= CALLBACK_DATA_MAX_BYTES);
  if (choices.length > 0) {
    for (const c of choices) rows.push([{ text: c.title, callback_data: `${CHOICE_PREFIX}${c.entryId}` }]);
    rows.push([{ text: turn.data.noneLabel ?? 'None of these', callback_data: `${CHOICE_PREFIX}${CHOICE_NONE}` }]);
  }
  return rows.length > 0 ? rows : undefined;
}

/** Bot API `sendMessage` parameters. */
export interface SendMessageParams {
  chat_id: string;
  text: string;
  parse_mode: 'HTML';
  link_preview_options: { is_disabled: true };
  reply_markup?: { inline_keyboard: InlineKeyboard };
  reply_parameters?: { message_id: number; allow_sending_without_reply: true };
}

/**
 * Renders one bot, system or agent turn as Telegram messages: escaped HTML, split at paragraph or
 * sentence boundaries into messages of at most 4096 characters, the cited entries named at the end
 * and the turn's buttons ("this solved it / talk to a human") on the last message.
 */
export function toTelegramMessages(turn: Turn, options: { chatId: string; replyToMessageId?: number | null; limit?: number }): SendMessageParams[] {
  const full = options.limit ?? TELEGRAM_MAX_MESSAGE_CHARS;
  // An agent's reply is signed with the name the desk shows (the agent's or the configured generic one).
  const author = turn.role === 'agent' && turn.kind !== 'handoff' && turn.data.author ? turn.data.author : undefined;
  const signature = author ? { plain: `${author}:\n`, html: `<b>${escapeHtml(author)}</b>:\n` } : undefined;
  const limit = Math.max(1, full - (signature?.plain.length ?? 0));
  const pieces = splitMessage(turn.text, limit).map((text) => ({ plain: text, html: escapeHtml(text) }));
  const first = pieces[0];
  if (signature && first) {
    first.plain = `${signature.plain}${first.plain}`;
    first.html = `${signature.html}${first.html}`;
  }
  const titles = (turn.data.citations ?? []).map((c) => c.title).join(' · ');
  if (titles) {
    const label = telegramTexts.source(turn.language);
    const footer = { plain: `${label} ${titles}`, html: `<b>${escapeHtml(label)}</b> ${escapeHtml(titles)}` };
    const last = pieces[pieces.length - 1];
    if (last && last.plain.length + 2 + footer.plain.length <= limit) {
      last.plain += `\n\n${footer.plain}`;
      last.html += `\n\n${footer.html}`;
    } else if (footer.plain.length <= limit) {
      pieces.push(footer);
    }
  }
  const keyboard = toKeyboard(turn);
  return pieces.map((piece, i) => ({
    chat_id: options.chatId,
    text: piece.html,
    parse_mode: 'HTML' as const,
    link_preview_options: { is_disabled: true as const },
    ...(i === pieces.length - 1 && keyboard ? { reply_markup: { inline_keyboard: keyboard } } : {}),
    ...(i === 0 && options.replyToMessageId ? { reply_parameters: { message_id: options.replyToMessageId, allow_sending_without_reply: true as const } } : {}),
  }));
}

/** A fixed text (not a turn) as one or more messages. */
export function toPlainMessages(text: string, chatId: string): SendMessageParams[] {
  return splitMessage(text).map((piece) => ({
    chat_id: chatId,
    text: escapeHtml(piece),
    parse_mode: 'HTML' as const,
    link_preview_options: { is_disabled: true as const },
  }));
}
