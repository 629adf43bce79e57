import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Telegram, TelegramError } from 'telegraf';
import type { ChannelOutbox, Conversation, CustomerChannel, Logger, Turn, TurnAttachment } from '../../core/index.js';
import type { OutboxSender } from './outbox-sender.js';
import { TELEGRAM_CHANNEL, type TelegramReplies } from './telegram-replies.js';

/**
 * Desk turns (agent replies, handoff notices) for a Telegram conversation, through the same
 * outbox as the bot's replies, in a private chat: keyed by conversation and turn seq, so handing a turn over twice
 * (a Slack retry, a crash before the desk recorded the delivery) sends it once; in order per chat.
 */
export function createCustomerChannel(options: {
  telegram: Telegram;
  outbox: ChannelOutbox;
  sender: OutboxSender;
  replies: TelegramReplies;
  logger: Logger;
}): CustomerChannel {
  const { telegram, outbox, sender, replies, logger } = options;
  return {
    async deliver(conversation: Conversation, turns: Turn[]): Promise<void> {
      // A group member's conversation ("<group>:<user>"): desk turns are personal and go to the
      // member's private chat with the bot (its id is the user's), never to the group.
      const [chat, member] = conversation.externalId?.split(':') ?? [];
      const chatId = member ?? chat;
      if (conversation.channel !== TELEGRAM_CHANNEL || !chatId) {
        logger.warn({ conversationId: conversation.id }, 'not a Telegram conversation; desk turns not sent');
        return;
      }
      const visible = [...turns].filter((t) => !t.data.internal).sort((a, b) => a.seq - b.seq);
      const messages = replies.fromTurns(visible, chatId, null);
      if (messages.length === 0) return;
      await outbox.enqueue(messages);
      sender.kick();
    },
    /** A customer's photo or document, for the agents (getFile, then the file URL; Bot API: up to 20 MB). */
    async fetchFile(attachment: TurnAttachment) {
      if (!attachment.fileId) return { unavailable: 'no file id' };
      let link: URL;
      try {
        link = await telegram.getFileLink(attachment.fileId);
      } catch (error) {
        // 400 (file too big, wrong id) will not change; anything else may.
        if (error instanceof TelegramError && error.code === 400) return { unavailable: error.description };
        throw error;
      }
      let data: Uint8Array;
      if (link.protocol === 'file:') {
        // A self-hosted Bot API server in --local mode gives a path on its own disk.
        data = new Uint8Array(await readFile(fileURLToPath(link)));
      } else {
        const res = await fetch(link, { signal: AbortSignal.timeout(60_000) });
        if (res.status === 404) return { unavailable: 'file no longer on Telegram' };
        if (!res.ok) throw new Error(`Telegram file download: HTTP ${res.status}`);
        data = new Uint8Array(await res.arrayBuffer());
      }
      const fromPath = decodeURIComponent(link.pathname.split('/').pop() ?? '');
      return {
        data,
        fileName: attachment.fileName ?? (fromPath || `${attachment.type}`),
        ...(attachment.mimeType ? { mimeType: attachment.mimeType } : {}),
      };
    },
  };
}
