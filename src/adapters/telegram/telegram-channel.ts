import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Telegraf, TelegramError } from 'telegraf';
import {
  type ChannelOutbox,
  type Conversation,
  type CustomerChannel,
  type CustomerOutcome,
  createKeyedRunner,
  type EscalationDecision,
  detectLanguage,
  type Helpdesk,
  HelpdeskError,
  type InboundUpdate,
  type Language,
  type Logger,
  type OutboundMessage,
  type RecordOutcome,
  type Turn,
  type TurnAttachment,
  toGreeting,
  type UpdateInbox,
} from '../../core/index.js';
import { type CallFailure, createOutboxSender, DEFAULT_SEND_TUNING, type SendTuning } from './outbox-sender.js';
import { createPrivateLinks } from './private-links.js';
import { telegramTexts } from './telegram-texts.js';
import { type BotIdentity, chatIdOf, messageIdOf, type TgUpdate, toInboundEvent } from './to-inbound-event.js';
import { type SendMessageParams, toPlainMessages, toTelegramMessages } from './to-telegram-messages.js';

export const TELEGRAM_CHANNEL = 'telegram';
/** Update types the bot asks Telegram for. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;

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
}

export const DEFAULT_TELEGRAM_TUNING: TelegramTuning = { ...DEFAULT_SEND_TUNING, maxHandleAttempts: 3, handleRetryMs: 1_000, chatTakeoverMs: 60_000 };

export type TelegramHelpdesk = Pick<Helpdesk, 'startConversation' | 'handleCustomerInput' | 'recordCustomerTurn'> &
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
  logger: Logger;
  exchangeName: string;
  tuning?: Partial<TelegramTuning>;
}

/** A webhook secret derived from the bot token: stable across restarts, 64 characters of [0-9a-f]. */
export function deriveWebhookSecret(token: string): string {
  return createHash('sha256').update(`telegram-webhook:${token}`).digest('hex');
}

function toFailure(error: unknown): CallFailure {
  if (error instanceof TelegramError) {
    return {
      code: error.code,
      description: error.description,
      ...(error.parameters?.retry_after !== undefined ? { retryAfterSeconds: error.parameters.retry_after } : {}),
    };
  }
  return { description: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A document stored in the outbox as `{ filename, text }` becomes a multipart upload (telegraf's InputFile). */
function toUpload(payload: Record<string, unknown>): Record<string, unknown> {
  const document = payload.document as { filename?: unknown; text?: unknown } | undefined;
  if (!document || typeof document.text !== 'string') return payload;
  return { ...payload, document: { source: Buffer.from(document.text, 'utf8'), filename: String(document.filename ?? 'file.txt') } };
}

/**
 * The Telegram channel through telegraf. Updates (long polling, or the webhook mounted on the
 * product's HTTP server) are first stored in the durable inbox, so a redelivered update_id is a
 * no-op and the webhook answers at once; they are then handled in order per chat, chats in
 * parallel. Replies go through the durable outbox and are sent with retries.
 */
export function createTelegramChannel(options: TelegramChannelOptions) {
  const { helpdesk, inbox, outbox, logger, exchangeName } = options;
  const tuning: TelegramTuning = { ...DEFAULT_TELEGRAM_TUNING, ...options.tuning };
  const botId = Number(options.token.split(':')[0]);
  const source = `${TELEGRAM_CHANNEL}:${botId}`;
  const bot = new Telegraf(options.token, {
    // The webhook is answered by our own route; nothing may ride on its HTTP response (pitfall 5).
    telegram: { ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}), webhookReply: false },
    // Polling only stores updates, which is fast; a stuck database must not hold polling for 90 s.
    handlerTimeout: 30_000,
  });
  const sender = createOutboxSender({
    outbox,
    channel: TELEGRAM_CHANNEL,
    call: (method, payload, signal) => bot.telegram.callApi(method as 'sendMessage', toUpload(payload) as never, { signal: signal as never }),
    toFailure,
    logger,
    tuning,
  });
  const chats = createKeyedRunner();
  const privateLinks = createPrivateLinks(options.token);
  let identity: BotIdentity | undefined;
  let ready: Promise<BotIdentity> | undefined;
  let stopping = false;
  let polling: Promise<void> | undefined;

  bot.use(async (ctx) => {
    await intake(ctx.update as unknown as TgUpdate);
  });
  // The default handler rethrows, which stops polling (pitfall 2): log instead.
  bot.catch((error, ctx) => logger.error({ err: error, updateId: ctx.update.update_id }, 'telegram update intake failed'));

  /** getMe, retried until Telegram answers: the rest of the product runs meanwhile. */
  function whoAmI(): Promise<BotIdentity> {
    ready ??= (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const me = await bot.telegram.getMe();
          bot.botInfo = me;
          identity = { id: me.id, username: me.username };
          return identity;
        } catch (error) {
          if (stopping) throw error;
          logger.warn({ err: error, attempt }, 'telegram getMe failed; retrying');
          await sleep(Math.min(tuning.handleRetryMs * 2 ** attempt, tuning.retryMaxMs));
        }
      }
    })();
    return ready;
  }

  async function record(update: TgUpdate, chatId: string): Promise<RecordOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await inbox.record({ source, updateId: update.update_id, chatId, messageId: messageIdOf(update), payload: update });
      } catch (error) {
        if (attempt >= 2) throw error;
        await sleep(tuning.handleRetryMs);
      }
    }
  }

  /**
   * Stores a new update and schedules it; a redelivery stops here. The chat's queue slot is taken
   * before the insert completes, so updates of one chat are handled in the order they arrived even
   * when their inserts finish out of order. An update stored while an earlier one of its chat is
   * not handled waits for it, as another instance may be handling it.
   */
  async function intake(update: TgUpdate): Promise<'accepted' | 'duplicate'> {
    const chatId = chatIdOf(update) ?? 'none';
    const recorded = record(update, chatId);
    const stored: InboundUpdate = { source, updateId: update.update_id, chatId, messageId: messageIdOf(update), payload: update, attempts: 0 };
    void chats.run(chatId, async () => {
      const outcome = await recorded.catch(() => 'duplicate' as const);
      if (outcome === 'duplicate') return;
      if (outcome === 'queued' && !(await afterEarlier(stored))) return;
      await handleStored(stored);
    });
    if ((await recorded) === 'duplicate') {
      logger.debug({ updateId: update.update_id }, 'telegram update already received');
      return 'duplicate';
    }
    // Answered at once, before any slow work: Telegram refuses answers after ~15 s (pitfall 11).
    if (update.callback_query) {
      bot.telegram
        .answerCbQuery(update.callback_query.id)
        .catch((error: unknown) => logger.warn({ err: error }, 'answerCallbackQuery failed'));
    }
    return 'accepted';
  }

  /**
   * Waits until the chat's updates stored before this one are handled. This process handled its
   * own already (one chat's updates run one after another here), so any left are another
   * instance's; after `chatTakeoverMs` they are handled here, in order (handling is idempotent: a
   * turn and a reply are stored once per update). False when stopping: the update stays stored and
   * is handled after the restart.
   */
  async function afterEarlier(update: InboundUpdate): Promise<boolean> {
    for (let delay = 25; !stopping; delay = Math.min(delay * 2, 1_000)) {
      try {
        const earlier = await inbox.earlierPending(source, update.chatId, update.updateId);
        const oldest = earlier[0];
        if (!oldest) return true;
        if (oldest.waitedMs >= tuning.chatTakeoverMs) {
          logger.warn({ updateId: update.updateId, earlier: earlier.map((u) => u.updateId) }, 'telegram: taking over a chat\'s earlier updates left unhandled');
          for (const u of earlier) await handleStored(u);
          return !stopping;
        }
      } catch (error) {
        logger.warn({ err: error, updateId: update.updateId }, 'telegram: reading the chat\'s earlier updates failed; retrying');
      }
      await sleep(delay);
    }
    return false;
  }

  function schedule(update: InboundUpdate): void {
    void chats.run(update.chatId, () => handleStored(update));
  }

  async function handleStored(stored: InboundUpdate): Promise<void> {
    const update = stored.payload as TgUpdate;
    for (let attempt = stored.attempts; ; attempt++) {
      try {
        const replies = await toReplies(update);
        await settleWith(update.update_id, replies);
        return;
      } catch (error) {
        const chatId = chatIdOf(update);
        if (error instanceof HelpdeskError && error.code === 'invalid_input' && chatId) {
          // The customer's input is the problem (too long...): tell them, do not retry.
          await settleWith(update.update_id, keyed(update.update_id, toPlainMessages(error.userMessage, chatId)), error.message);
          return;
        }
        const last = attempt + 1 >= tuning.maxHandleAttempts || stopping;
        logger.error({ err: error, updateId: update.update_id, attempt: attempt + 1, last }, 'telegram update handling failed');
        if (!last) {
          await inbox.settle(source, update.update_id, 'retry', String(error)).catch(() => undefined);
          await sleep(tuning.handleRetryMs * 2 ** attempt);
          continue;
        }
        if (stopping) return; // still pending: handled again after the restart
        if (chatId) {
          const language = update.message?.from?.language_code ?? update.callback_query?.from.language_code;
          const text = telegramTexts.failed(language?.startsWith('zh') ? 'zh' : 'en');
          await outbox.enqueue(keyed(update.update_id, toPlainMessages(text, chatId))).catch(() => undefined);
          sender.kick();
        }
        await inbox.settle(source, update.update_id, 'failed', String(error)).catch(() => undefined);
        return;
      }
    }
  }

  /** Stores the replies and marks the update handled (one statement where the inbox offers it). */
  async function settleWith(updateId: number, replies: OutboundMessage[], error?: string): Promise<void> {
    if (inbox.settleWithReplies) {
      // Each chat's first reply comes back leased to this sender: it goes out without a claim first.
      const leased = await inbox.settleWithReplies(source, updateId, replies, error, sender.leaseMs);
      if (replies.length > 0) sender.sendLeased(leased);
      return;
    }
    await outbox.enqueue(replies);
    sender.kick();
    await inbox.settle(source, updateId, 'done', error);
  }

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

  /** Turns the helpdesk produced, as outbox messages keyed by turn: handling an update again enqueues nothing new. */
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

  /**
   * A conversation's transcript for a chat: the readable text, then the JSON bundle as a file (what
   * npm run transcript:verify and /verify-transcript check). Not a turn (it would change what it
   * certifies): keyed by the update that asked for it.
   */
  async function transcriptMessages(conversationId: string, chatId: string, updateId: number, language: Language): Promise<OutboundMessage[]> {
    let transcript: Awaited<ReturnType<NonNullable<typeof helpdesk.transcript>>> | undefined;
    try {
      transcript = helpdesk.transcript ? await helpdesk.transcript(conversationId) : undefined;
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
              // Stored as text in the outbox; turned into an upload when sent (see `call`).
              document: {
                filename: `transcript-${conversationId}.json`,
                text: `${JSON.stringify({ ...transcript.bundle, readable: transcript.readable }, null, 2)}\n`,
              },
            },
          },
        ]
      : [];
    return [...keyed(updateId, toPlainMessages(text, chatId)), ...bundle];
  }

  /** Handles one update through the helpdesk; returns the replies to send. */
  async function toReplies(update: TgUpdate): Promise<OutboundMessage[]> {
    const me = await whoAmI();
    const inbound = toInboundEvent(update, me);
    if ('ignored' in inbound) {
      logger.debug({ updateId: update.update_id, reason: inbound.ignored }, 'telegram update ignored');
      return [];
    }
    const { origin, event } = inbound;
    const externalKey = `tg:${botId}:${update.update_id}`;
    const firstText = 'text' in event ? event.text : '';
    const started = await helpdesk.startConversation({
      channel: 'telegram',
      externalId: origin.externalId,
      language: origin.languageCode ?? detectLanguage(firstText) ?? 'en',
      customerHandle: origin.customerHandle,
      // Greeted in the same append as the customer's first message and its reply.
      greetWithFirstTurn: true,
    });
    const conversation = started.conversation;
    const conversationId = conversation.id;
    // Bot texts follow an explicit /lang choice, then Telegram's language, then the conversation.
    const language: Language = conversation.languageChosen ? conversation.language : origin.languageCode ?? conversation.language;
    // A conversation created just now is handed over as it is: the helpdesk need not read it again.
    const created = started.isNew ? { created: { conversation, turns: started.turns } } : {};
    const record = (text: string, reply: string | undefined, kind: 'message' | 'attachment' | 'edit' = 'message', data = {}) =>
      helpdesk.recordCustomerTurn({ conversationId, kind, text, data, language, externalKey, ...(reply ? { reply } : {}) });
    // In a group everyone reads along: what is personal (the transcript, talking to a human) moves
    // to a private chat with the bot, through a link only this member can use.
    const userId = (update.message ?? update.edited_message)?.from?.id ?? update.callback_query?.from.id;
    const inPrivate = (what: Parameters<typeof privateLinks.link>[1]) =>
      origin.isGroup && userId !== undefined ? privateLinks.link(me.username, what, Number(origin.chatId), userId) : undefined;
    const groupEscalation = origin.isGroup
      ? { escalateElsewhere: (decision: EscalationDecision) => telegramTexts.continuePrivately(language, inPrivate({ topic: 'handoff', escalation: decision }) as string) }
      : {};

    let outcome: CustomerOutcome;
    switch (event.kind) {
      case 'text':
        outcome = await helpdesk.handleCustomerInput({ conversationId, text: event.text, externalKey, ...created, ...groupEscalation });
        break;
      case 'action':
        outcome = await helpdesk.handleCustomerInput({ conversationId, action: event.action, externalKey, ...created, ...groupEscalation });
        break;
      case 'attachment':
        outcome = await record(event.text, telegramTexts.attachmentReceived(language), 'attachment', { attachments: [event.attachment] });
        break;
      case 'unsupported':
        outcome = await record(event.text, telegramTexts.unsupported(language), 'attachment', { attachments: [event.attachment] });
        break;
      case 'edit': {
        const original = await inbox.findByMessage(source, origin.chatId, event.editedMessageId);
        outcome = await record(event.text, undefined, 'edit', {
          editOf: { externalKey: original === undefined ? null : `tg:${botId}:${original}`, messageId: event.editedMessageId },
        });
        break;
      }
      case 'command':
        switch (event.command) {
          case 'start': {
            // A link from a group: continue that member's transcript or handoff here.
            if (!origin.isGroup && event.args && privateLinks.isLink(event.args)) {
              const continued = userId === undefined ? undefined : privateLinks.read(event.args, userId);
              if (!continued) {
                void helpdesk.recordSecurityEvent?.({ type: 'access_denied', channel: 'telegram', conversationId, detail: { reason: 'telegram_link_of_another_user' } });
                outcome = await record('/start', telegramTexts.privateLinkNotYours(language));
                break;
              }
              if (continued.topic === 'transcript') {
                const recorded = await record('/start', undefined);
                const group = await helpdesk.startConversation({ channel: 'telegram', externalId: `${continued.groupId}:${userId}`, language });
                return [...fromTurns([...started.turns, ...recorded.turns], origin.chatId, null), ...(await transcriptMessages(group.conversation.id, origin.chatId, update.update_id, language))];
              }
              outcome =
                conversation.state === 'escalated'
                  ? await record('/start', telegramTexts.alreadyWithHuman(language))
                  : await helpdesk.handleCustomerInput({
                      conversationId,
                      action: 'human',
                      escalation: { ...continued.escalation, detail: `raised in Telegram group ${continued.groupId}; continued in a private chat` },
                      externalKey,
                      ...created,
                    });
              break;
            }
            const channels = telegramTexts.officialChannels(language, me.username);
            // A new conversation is greeted with this turn; an existing one gets the greeting again.
            const reply = started.isNew ? channels : `${toGreeting(language, exchangeName)}\n\n${channels}`;
            outcome = await record(event.text, reply);
            break;
          }
          case 'help':
            outcome = await record(event.text, telegramTexts.help(language));
            break;
          case 'human':
            outcome =
              conversation.state === 'escalated'
                ? await record(event.text, telegramTexts.alreadyWithHuman(language))
                : await helpdesk.handleCustomerInput({ conversationId, action: 'human', externalKey, ...created, ...groupEscalation });
            break;
          case 'lang': {
            const choice = event.args.toLowerCase();
            outcome =
              choice === 'zh' || choice === 'en'
                ? await helpdesk.handleCustomerInput({ conversationId, text: `/lang ${choice}`, externalKey, ...created })
                : await record(event.text, telegramTexts.langUsage(language));
            break;
          }
          case 'verify': {
            // "Is this handle / link / phone number really the exchange's?" against the configured allowlist.
            const checked = event.args ? helpdesk.checkOfficialChannel?.(event.args, language) : undefined;
            const reply = !event.args
              ? telegramTexts.verifyUsage(language)
              : (checked?.reply ?? telegramTexts.verifyUnavailable(language));
            outcome = await record(event.text, reply);
            break;
          }
          case 'transcript': {
            const link = inPrivate({ topic: 'transcript' });
            if (link) {
              outcome = await record(event.text, telegramTexts.transcriptInPrivate(language, link));
              break;
            }
            outcome = await record(event.text, undefined);
            return [...fromTurns([...started.turns, ...outcome.turns], origin.chatId, null), ...(await transcriptMessages(conversationId, origin.chatId, update.update_id, language))];
          }
          default:
            outcome = await record(event.text, telegramTexts.unknownCommand(language));
        }
        break;
    }
    return fromTurns([...started.turns, ...outcome.turns], origin.chatId, origin.isGroup ? origin.messageId : null);
  }

  async function launchPolling(): Promise<void> {
    while (!stopping) {
      try {
        await bot.launch({ allowedUpdates: [...ALLOWED_UPDATES], dropPendingUpdates: false });
        return; // bot.stop() ended it
      } catch (error) {
        if (stopping) return;
        logger.error({ err: error }, 'telegram polling stopped; restarting');
        await sleep(tuning.handleRetryMs);
      }
    }
  }

  async function setWebhook(webhook: { url: string; secretToken: string }): Promise<void> {
    for (let attempt = 0; !stopping; attempt++) {
      try {
        await bot.telegram.setWebhook(webhook.url, {
          secret_token: webhook.secretToken,
          allowed_updates: [...ALLOWED_UPDATES],
          drop_pending_updates: false,
        });
        logger.info({ url: webhook.url }, 'telegram webhook set');
        return;
      } catch (error) {
        logger.warn({ err: error, attempt }, 'telegram setWebhook failed; retrying');
        await sleep(Math.min(tuning.handleRetryMs * 2 ** attempt, tuning.retryMaxMs));
      }
    }
  }

  const secret = options.webhook ? Buffer.from(options.webhook.secretToken) : undefined;

  /**
   * Desk turns (agent replies, handoff notices) for a Telegram conversation, through the same
   * outbox as the bot's replies, in a private chat: keyed by conversation and turn seq, so handing a turn over twice
   * (a Slack retry, a crash before the desk recorded the delivery) sends it once; in order per chat.
   */
  const customerChannel: CustomerChannel = {
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
      const messages = fromTurns(visible, chatId, null);
      if (messages.length === 0) return;
      await outbox.enqueue(messages);
      sender.kick();
    },
    /** A customer's photo or document, for the agents (getFile, then the file URL; Bot API: up to 20 MB). */
    async fetchFile(attachment: TurnAttachment) {
      if (!attachment.fileId) return { unavailable: 'no file id' };
      let link: URL;
      try {
        link = await bot.telegram.getFileLink(attachment.fileId);
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

  return {
    mode: options.webhook ? ('webhook' as const) : ('polling' as const),
    /** The handoff desk's port to this channel: agent replies and handoff notices reach the customer here. */
    customerChannel,
    /** Path to mount the webhook on (from TELEGRAM_WEBHOOK_URL); undefined in polling mode. */
    webhookPath: options.webhook ? new URL(options.webhook.url).pathname : undefined,
    /**
     * Resumes what a previous run left (stored updates not handled, replies not sent), then
     * connects to Telegram in the background: the product serves even while Telegram is unreachable.
     */
    async start(): Promise<void> {
      stopping = false;
      sender.start();
      for (const update of await inbox.pending(source, 10_000)) schedule(update);
      void whoAmI()
        .then(() => {
          if (stopping) return;
          if (options.webhook) return setWebhook(options.webhook);
          polling = launchPolling();
          return polling;
        })
        .catch((error: unknown) => {
          if (!stopping) logger.error({ err: error }, 'telegram start failed');
        });
    },
    /**
     * Telegram's webhook call: checks the secret header (403 when wrong or missing), stores the
     * update and answers 200 at once; handling continues from the inbox. The HTTP layer limits the
     * body's size before this reads it.
     */
    async handleWebhook(request: Request): Promise<Response> {
      const given = Buffer.from(request.headers.get('x-telegram-bot-api-secret-token') ?? '');
      if (!secret || given.length !== secret.length || !timingSafeEqual(given, secret)) {
        void helpdesk.recordSecurityEvent?.({ type: 'access_denied', channel: 'telegram', detail: { reason: 'webhook_secret' } });
        return new Response('Forbidden', { status: 403 });
      }
      let update: TgUpdate;
      try {
        update = (await request.json()) as TgUpdate;
      } catch {
        return new Response('Bad JSON', { status: 400 });
      }
      if (typeof update !== 'object' || update === null || !Number.isSafeInteger(update.update_id)) {
        return new Response('Not an update', { status: 400 });
      }
      try {
        await intake(update);
      } catch (error) {
        // Not stored: a non-2xx makes Telegram deliver it again later.
        logger.error({ err: error, updateId: update.update_id }, 'telegram webhook intake failed');
        return new Response('Try again', { status: 500 });
      }
      return new Response(null, { status: 200 });
    },
    /** Waits until every update received so far has been handled (replies enqueued). */
    idle: () => chats.idle(),
    identity: () => identity,
    /** Stops receiving, lets handling in progress finish, and waits for the sends under way. */
    async stop(): Promise<void> {
      stopping = true;
      if (polling) {
        try {
          bot.stop('shutdown');
        } catch {
          // not running
        }
        await polling;
      }
      await chats.idle();
      await sender.stop();
    },
  };
}

export type TelegramChannel = ReturnType<typeof createTelegramChannel>;
