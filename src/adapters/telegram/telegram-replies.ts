import type { Helpdesk, Language, Logger, OutboundMessage, Turn } from '../../core/index.js';
import { telegramTexts } from './telegram-texts.js';
import { type SendMessageParams, toPlainMessages, toTelegramMessages } from './to-telegram-messages.js';

export const TELEGRAM_CHANNEL = 'telegram';

/**
 * What the bot sends, as outbox messages. Every message has a dedupe key derived from what caused
 * it (a turn, or the update), so handling an update again, or handing a turn over twice, enqueues
 * nothing new.
 */
export function createTelegramReplies(options: { botId: number; helpdesk: Partial<Pick<Helpdesk, 'transcript'>>; logger: Logger }) {
  const { botId, helpdesk, logger } = options;

  /** Replies that are not turns, keyed by the update that caused them. */
  function keyed(updateId: number, messages: SendMessageParams[]): OutboundMessage[] {
    return messages.map((payload, i) => ({
      channel: TELEGRAM_CHANNEL,
      chatId: payload.chat_id,
      dedupeKey: `tg:${botId}:u${updateId}:${i}`,
      method: 'sendMessage',
      payload: payload as unknown as Record<string, unknown>,
    }));
  }

  /** Turns the helpdesk produced, as outbox messages keyed by turn (a customer's own turns are not sent). */
  function fromTurns(turns: Turn[], chatId: string, replyTo: number | null): OutboundMessage[] {
    return turns
      .filter((t) => t.role !== 'customer')
      .flatMap((turn) =>
        toTelegramMessages(turn, { chatId, replyToMessageId: replyTo }).map((payload, part) => ({
          channel: TELEGRAM_CHANNEL,
          chatId,
          dedupeKey: `tg:${botId}:${turn.conversationId}:${turn.seq}:${part}`,
          method: 'sendMessage',
          payload: payload as unknown as Record<string, unknown>,
        })),
      );
  }

  /** Empties a used inline keyboard, so that the same choice cannot be sent twice from it. */
  function closeKeyboard(updateId: number, chatId: string, keyboardMessageId: number): OutboundMessage {
    return {
      channel: TELEGRAM_CHANNEL,
      chatId,
      dedupeKey: `tg:${botId}:u${updateId}:close-keyboard`,
      method: 'editMessageReplyMarkup',
      payload: { chat_id: chatId, message_id: keyboardMessageId, reply_markup: { inline_keyboard: [] } },
    };
  }

  /**
   * A conversation's transcript for a chat: the readable text of what the log proves, then the JSON
   * bundle as a file (what npm run transcript:verify and /verify-transcript check, and render the
   * same text from). Not a turn (it would change what it certifies): keyed by the update that asked.
   */
  async function transcriptMessages(conversationId: string, chatId: string, updateId: number, language: Language): Promise<OutboundMessage[]> {
    let transcript: Awaited<ReturnType<NonNullable<typeof helpdesk.transcript>>> | undefined;
    try {
      transcript = helpdesk.transcript ? await helpdesk.transcript(conversationId, language) : undefined;
    } catch (error) {
      logger.warn({ err: error, conversationId }, 'transcript unavailable');
    }
    const text = transcript?.readable ?? telegramTexts.transcriptUnavailable(language);
    const bundle: OutboundMessage[] = transcript
      ? [
          {
            channel: TELEGRAM_CHANNEL,
            chatId,
            dedupeKey: `tg:${botId}:u${updateId}:bundle`,
            method: 'sendDocument',
            payload: {
              chat_id: chatId,
              caption: telegramTexts.transcriptFileCaption(language),
              // Stored as text in the outbox; turned into an upload when sent.
              document: {
                filename: `transcript-${conversationId}.json`,
                text: `${JSON.stringify(transcript.bundle, null, 2)}\n`,
              },
            },
          },
        ]
      : [];
    return [...keyed(updateId, toPlainMessages(text, chatId)), ...bundle];
  }

  return { keyed, fromTurns, closeKeyboard, transcriptMessages };
}

export type TelegramReplies = ReturnType<typeof createTelegramReplies>;
