import { createHash } from 'node:crypto';
import { Telegraf } from 'telegraf';
import type { ChannelOutbox, Helpdesk, Logger } from '../../core/index.js';
import { createCustomerChannel } from './customer-channel.js';
import { createOutboxSender, DEFAULT_SEND_TUNING, type SendTuning } from './outbox-sender.js';
import { createPrivateLinks } from './private-links.js';
import { createStoredUpdates } from './stored-updates.js';
import { createTelegramReplies, TELEGRAM_CHANNEL } from './telegram-replies.js';
import { createTelegramTransport, toFailure } from './telegram-transport.js';
import type { UpdateInbox } from './update-inbox.js';

export type { InboundUpdate, RecordOutcome, UpdateInbox } from './update-inbox.js';

export { TELEGRAM_CHANNEL } from './telegram-replies.js';
export { ALLOWED_UPDATES } from './telegram-transport.js';

export interface TelegramTuning extends SendTuning {
  /** Attempts at handling one update (an unexpected failure is retried, then the customer is told). */
  maxHandleAttempts: number;
  /** First delay between attempts at handling one update or at reaching Telegram on start-up. */
  handleRetryMs: number;
  /**
   * How long an update waits for its chat's earlier updates stored by another instance (webhook
   * mode behind a load balancer) before handling them itself, as that instance may have died.
   */
  chatTakeoverMs: number;
  /** How long getUpdates is held open by Telegram (long polling), in seconds. */
  pollTimeoutS: number;
  /** How often an unreachable database is asked again while intake and handling wait for it. */
  storeProbeMs: number;
}

export const DEFAULT_TELEGRAM_TUNING: TelegramTuning = {
  ...DEFAULT_SEND_TUNING,
  maxHandleAttempts: 3,
  handleRetryMs: 1_000,
  chatTakeoverMs: 60_000,
  pollTimeoutS: 50,
  storeProbeMs: 1_000,
};

export type TelegramHelpdesk = Pick<Helpdesk, 'startConversation' | 'handleCustomerInput' | 'recordCustomerTurn' | 'screen' | 'screenName' | 'reviveMessage'> &
  Partial<Pick<Helpdesk, 'transcript' | 'checkOfficialChannel' | 'recordSecurityEvent'>>;

export interface TelegramChannelOptions {
  token: string;
  /** Bot API server root; the official one when undefined. */
  apiRoot?: string | undefined;
  /** Webhook mode when set: Telegram posts updates to `url`, which must reach this process's HTTP port. */
  webhook?: { url: string; secretToken: string } | undefined;
  helpdesk: TelegramHelpdesk;
  inbox: UpdateInbox;
  outbox: ChannelOutbox;
  /**
   * Whether the database answers. While it does not, polling holds (no offset is confirmed to
   * Telegram), and stored updates wait for it instead of spending their handling attempts.
   * Absent: failures are never put down to the database.
   */
  storeReachable?: () => Promise<boolean>;
  /**
   * This process is the only sender on its database (the embedded one, locked to one process):
   * messages left leased in the outbox are a dead process's and are sent at once at start.
   */
  soleSender?: boolean;
  logger: Logger;
  exchangeName: string;
  tuning?: Partial<TelegramTuning>;
}

/** A webhook secret derived from the bot token: stable across restarts, 64 characters of [0-9a-f]. */
export function deriveWebhookSecret(token: string): string {
  return createHash('sha256').update(`telegram-webhook:${token}`).digest('hex');
}

/** A document stored in the outbox as `{ filename, text }` becomes a multipart upload (telegraf's InputFile). */
function toUpload(payload: Record<string, unknown>): Record<string, unknown> {
  const document = payload.document as { filename?: unknown; text?: unknown } | undefined;
  if (!document || typeof document.text !== 'string') return payload;
  return { ...payload, document: { source: Buffer.from(document.text, 'utf8'), filename: String(document.filename ?? 'file.txt') } };
}

/**
 * The Telegram channel through telegraf, in three parts: the transport (webhook or long polling)
 * stores each update in the durable inbox, so a redelivered update_id is a no-op and the webhook
 * answers at once; the stored updates are then handled from the inbox by telegraf Composer
 * handlers (commands, customer updates), in order per chat, chats in parallel; replies go through
 * the durable outbox and are sent with retries.
 */
export function createTelegramChannel(options: TelegramChannelOptions) {
  const { helpdesk, inbox, outbox, logger } = options;
  const tuning: TelegramTuning = { ...DEFAULT_TELEGRAM_TUNING, ...options.tuning };
  const botId = Number(options.token.split(':')[0]);
  const bot = new Telegraf(options.token, {
    // The webhook is answered by our own route: no method call may ride on its HTTP response body
    // (telegraf's webhookReply), whose result nobody would see.
    telegram: { ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}), webhookReply: false },
  });
  const sender = createOutboxSender({
    outbox,
    channel: TELEGRAM_CHANNEL,
    call: (method, payload, signal) => bot.telegram.callApi(method as 'sendMessage', toUpload(payload) as never, { signal: signal as never }),
    toFailure,
    logger,
    tuning,
    soleSender: options.soleSender ?? false,
  });
  const replies = createTelegramReplies({ botId, helpdesk, logger });
  const transport = createTelegramTransport({
    bot,
    webhook: options.webhook,
    intake: (update, holdWhileStoreDown) => updates.intake(update, holdWhileStoreDown),
    onForbidden: () => void helpdesk.recordSecurityEvent?.({ type: 'access_denied', channel: 'telegram', detail: { reason: 'webhook_secret' } }),
    logger,
    tuning,
  });
  const updates = createStoredUpdates({
    source: `${TELEGRAM_CHANNEL}:${botId}`,
    botId,
    telegram: bot.telegram,
    helpdesk,
    inbox,
    outbox,
    sender,
    replies,
    privateLinks: createPrivateLinks(options.token),
    exchangeName: options.exchangeName,
    logger,
    tuning,
    identity: transport.identity,
    storeReachable: options.storeReachable,
    stopping: transport.isStopping,
  });

  return {
    mode: options.webhook ? ('webhook' as const) : ('polling' as const),
    /** The handoff desk's port to this channel: agent replies and handoff notices reach the customer here. */
    customerChannel: createCustomerChannel({ telegram: bot.telegram, outbox, sender, replies, logger }),
    /** Path to mount the webhook on (from TELEGRAM_WEBHOOK_URL); undefined in polling mode. */
    webhookPath: options.webhook ? new URL(options.webhook.url).pathname : undefined,
    /**
     * Resumes what a previous run left (stored updates not handled, replies not sent), then
     * connects to Telegram in the background: the product serves even while Telegram is unreachable.
     */
    async start(): Promise<void> {
      transport.start();
      sender.start();
      await updates.resume(10_000);
    },
    handleWebhook: transport.handleWebhook,
    /** Waits until every update received so far has been handled (replies enqueued). */
    idle: () => updates.idle(),
    identity: () => {
      const me = transport.identity.known();
      return me ? { id: me.id, username: me.username } : undefined;
    },
    /** Stops receiving, lets handling in progress finish, and waits for the sends under way. */
    async stop(): Promise<void> {
      await transport.stop();
      await updates.idle();
      await sender.stop();
    },
  };
}

export type TelegramChannel = ReturnType<typeof createTelegramChannel>;
