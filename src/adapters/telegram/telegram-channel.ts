import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Telegraf, TelegramError } from 'telegraf';
import {
  backoffMs,
  sleep,
  type ChannelOutbox,
  type Conversation,
  type CustomerChannel,
  type CustomerMessage,
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
  type TurnData,
  toGreeting,
  type UpdateInbox,
} from '../../core/index.js';
import { type CallFailure, createOutboxSender, DEFAULT_SEND_TUNING, type SendTuning } from './outbox-sender.js';
import { createPrivateLinks } from './private-links.js';
import { telegramTexts } from './telegram-texts.js';
import {
  type BotIdentity,
  chatIdOf,
  messageIdOf,
  parseCommand,
  reviveStoredInbound,
  type StoredInbound,
  type TgUpdate,
  toStoredInbound,
} from './to-inbound-event.js';
import { type SendMessageParams, toPlainMessages, toTelegramMessages } from './to-telegram-messages.js';

export const TELEGRAM_CHANNEL = 'telegram';
/** Update types the bot asks Telegram for. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;
/** How long an update waits for the bot's identity (getMe) before its webhook call is answered 500. */
const IDENTITY_WAIT_MS = 10_000;

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
  const chats = createKeyedRunner();
  const privateLinks = createPrivateLinks(options.token);
  let identity: BotIdentity | undefined;
  let ready: Promise<BotIdentity> | undefined;
  let stopping = false;
  let polling: Promise<void> | undefined;
  let pollAbort = new AbortController();
  /** Set while the database does not answer: everything that needs it waits on this. */
  let storeBack: Promise<void> | undefined;

  /** True when the database answers (or nothing can tell). */
  async function storeReachable(): Promise<boolean> {
    return options.storeReachable ? options.storeReachable().catch(() => false) : true;
  }

  /** Resolves when the database answers again (or on stop); one prober for all waiting work. */
  function untilStoreReachable(): Promise<void> {
    storeBack ??= (async () => {
      const since = Date.now();
      logger.warn({}, 'database unreachable: Telegram polling and handling wait for it');
      while (!stopping && !(await storeReachable())) await sleep(tuning.storeProbeMs);
      if (!stopping) logger.info({ outageMs: Date.now() - since }, 'database reachable again: Telegram resumes');
    })().finally(() => {
      storeBack = undefined;
    });
    return storeBack;
  }

  /**
   * After a failure: waits for the database when it is what failed (true: the attempt does not
   * count), false when the database answers (the failure is the work's own).
   */
  async function waitedForStore(): Promise<boolean> {
    if (stopping || (await storeReachable())) return false;
    await untilStoreReachable();
    return true;
  }

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
          await sleep(backoffMs(attempt, { baseMs: tuning.handleRetryMs, maxMs: tuning.retryMaxMs }));
        }
      }
    })();
    return ready;
  }

  /** The bot's identity, needed to read an update (mentions, commands for other bots); waits for getMe a while. */
  async function knownIdentity(): Promise<BotIdentity> {
    if (identity) return identity;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the bot identity (getMe) is not known yet')), IDENTITY_WAIT_MS);
    });
    try {
      return await Promise.race([whoAmI(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stores the update, retrying. `holdWhileStoreDown` (polling): while the database does not
   * answer, waits for it however long, as Telegram keeps the update only until the next
   * getUpdates confirms it. Otherwise (webhook) gives up after a few attempts: Telegram redelivers.
   */
  async function record(update: Omit<InboundUpdate, 'attempts'>, holdWhileStoreDown: boolean): Promise<RecordOutcome> {
    for (let failures = 0; ; ) {
      try {
        return await inbox.record(update);
      } catch (error) {
        if (stopping) throw error;
        if (holdWhileStoreDown && (await waitedForStore())) continue;
        failures += 1;
        if (failures >= tuning.maxHandleAttempts) throw error;
        await sleep(tuning.handleRetryMs);
      }
    }
  }

  /**
   * Stores a new update and schedules it; a redelivery stops here. What is stored is the update
   * read and screened (toStoredInbound): ids and the customer's content through the firewall, never
   * the raw update. The chat's queue slot is taken before the insert completes, so updates of one
   * chat are handled in the order they arrived even when their inserts finish out of order. An
   * update stored while an earlier one of its chat is not handled waits for it, as another
   * instance may be handling it.
   */
  async function intake(update: TgUpdate, holdWhileStoreDown: boolean): Promise<'accepted' | 'duplicate'> {
    const chatId = chatIdOf(update) ?? 'none';
    // Known once started: no await then, so the chat's queue slot below is still taken in arrival order.
    const inbound = toStoredInbound(update, identity ?? (await knownIdentity()), helpdesk);
    const stored: InboundUpdate = { source, updateId: update.update_id, chatId, messageId: messageIdOf(update), payload: inbound, attempts: 0 };
    const recorded = record(stored, holdWhileStoreDown);
    void chats.run(chatId, async () => {
      const outcome = await recorded.catch(() => 'duplicate' as const);
      if (outcome === 'duplicate') return;
      if (outcome === 'queued' && !(await afterEarlier(stored))) return;
      await handleStored(stored, inbound);
    });
    if ((await recorded) === 'duplicate') {
      logger.debug({ updateId: update.update_id }, 'telegram update already received');
      return 'duplicate';
    }
    // Answered at once, before any slow work: Telegram refuses answers after ~15 s.
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

  /**
   * What a stored update holds, read back: the screened inbound; an update stored raw by an earlier
   * version is read and screened now. Undefined when there is nothing to handle.
   */
  async function toInbound(payload: unknown): Promise<StoredInbound | undefined> {
    const raw = payload as Partial<TgUpdate> | null;
    if (raw && typeof raw === 'object' && Number.isSafeInteger(raw.update_id)) return toStoredInbound(raw as TgUpdate, await whoAmI(), helpdesk);
    return reviveStoredInbound(payload, helpdesk);
  }

  async function handleStored(stored: InboundUpdate, known?: StoredInbound): Promise<void> {
    const updateId = stored.updateId;
    let inbound = known;
    for (let attempt = stored.attempts; ; ) {
      try {
        inbound ??= await toInbound(stored.payload);
        if (!inbound) logger.warn({ updateId }, 'telegram: a stored update could not be read; skipped');
        const replies = inbound ? await toReplies(updateId, inbound) : [];
        await settleWith(updateId, replies);
        return;
      } catch (error) {
        // The database went away: the update stays stored and is handled when it is back.
        if (await waitedForStore()) continue;
        const chatId = inbound && 'origin' in inbound ? inbound.origin.chatId : undefined;
        if (error instanceof HelpdeskError && error.code === 'invalid_input' && chatId) {
          // The customer's input is the problem (too long...): tell them, do not retry.
          await settleWith(updateId, keyed(updateId, toPlainMessages(error.userMessage, chatId)), error.message);
          return;
        }
        attempt += 1;
        const last = attempt >= tuning.maxHandleAttempts || stopping;
        logger.error({ err: error, updateId, attempt, last }, 'telegram update handling failed');
        if (!last) {
          await inbox.settle(source, updateId, 'retry', String(error)).catch(() => undefined);
          await sleep(backoffMs(attempt - 1, { baseMs: tuning.handleRetryMs, maxMs: tuning.retryMaxMs }));
          continue;
        }
        if (stopping) return; // still pending: handled again after the restart
        if (chatId && inbound && 'origin' in inbound) {
          const text = telegramTexts.failed(inbound.origin.languageCode ?? 'en');
          await outbox.enqueue(keyed(updateId, toPlainMessages(text, chatId))).catch(() => undefined);
          sender.kick();
        }
        await inbox.settle(source, updateId, 'failed', String(error)).catch(() => undefined);
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
      transcript = helpdesk.transcript ? await helpdesk.transcript(conversationId, language) : undefined;
    } catch (error) {
      logger.warn({ err: error, conversationId }, 'transcript unavailable');
    }
    // What the log proves as text, then the JSON bundle as a file (what npm run transcript:verify and
    // /verify-transcript check, and render the same text from).
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
                text: `${JSON.stringify(transcript.bundle, null, 2)}\n`,
              },
            },
          },
        ]
      : [];
    return [...keyed(updateId, toPlainMessages(text, chatId)), ...bundle];
  }

  /** Handles one update through the helpdesk; returns the replies to send. */
  async function toReplies(updateId: number, inbound: StoredInbound): Promise<OutboundMessage[]> {
    if ('ignored' in inbound) {
      logger.debug({ updateId, reason: inbound.ignored }, 'telegram update ignored');
      return [];
    }
    const me = await whoAmI();
    const { origin, event } = inbound;
    const externalKey = `tg:${botId}:${updateId}`;
    const firstText = 'message' in event ? event.message.text : '';
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
    const record = (message: CustomerMessage, reply: string | undefined, kind: 'message' | 'attachment' | 'edit' = 'message', editOf?: TurnData['editOf']) =>
      helpdesk.recordCustomerTurn({ conversationId, kind, message, language, externalKey, ...(editOf ? { editOf } : {}), ...(reply ? { reply } : {}) });
    // In a group everyone reads along: what is personal (the transcript, talking to a human) moves
    // to a private chat with the bot, through a link only this member can use.
    const userId = origin.userId;
    const inPrivate = (what: Parameters<typeof privateLinks.link>[1]) =>
      origin.isGroup ? privateLinks.link(me.username, what, Number(origin.chatId), userId) : undefined;
    const groupEscalation = origin.isGroup
      ? { escalateElsewhere: (decision: EscalationDecision) => telegramTexts.continuePrivately(language, inPrivate({ topic: 'handoff', escalation: decision }) as string) }
      : {};

    let outcome: CustomerOutcome;
    switch (event.kind) {
      case 'text':
        outcome = await helpdesk.handleCustomerInput({ conversationId, message: event.message, externalKey, ...created, ...groupEscalation });
        break;
      case 'action':
        outcome = await helpdesk.handleCustomerInput({ conversationId, action: event.action, externalKey, ...created, ...groupEscalation });
        break;
      case 'choice': {
        outcome = await helpdesk.handleCustomerInput({ conversationId, choice: { entryId: event.entryId }, externalKey, ...created });
        // The keyboard closes once used: the same choice cannot be sent twice from it.
        const close: OutboundMessage[] =
          event.keyboardMessageId === null
            ? []
            : [
                {
                  channel: TELEGRAM_CHANNEL,
                  chatId: origin.chatId,
                  dedupeKey: `tg:${botId}:u${updateId}:close-keyboard`,
                  method: 'editMessageReplyMarkup',
                  payload: { chat_id: origin.chatId, message_id: event.keyboardMessageId, reply_markup: { inline_keyboard: [] } },
                },
              ];
        return [...close, ...fromTurns([...started.turns, ...outcome.turns], origin.chatId, null)];
      }
      case 'attachment':
        outcome = await record(event.message, telegramTexts.attachmentReceived(language), 'attachment');
        break;
      case 'unsupported':
        outcome = await record(event.message, telegramTexts.unsupported(language), 'attachment');
        break;
      case 'edit': {
        const original = await inbox.findByMessage(source, origin.chatId, event.editedMessageId);
        outcome = await record(event.message, undefined, 'edit', {
          externalKey: original === undefined ? null : `tg:${botId}:${original}`,
          messageId: event.editedMessageId,
        });
        break;
      }
      case 'command': {
        // The arguments as screened: a secret after a command is removed like anywhere else.
        const args = parseCommand(event.message.text)?.args ?? '';
        switch (event.command) {
          case 'start': {
            // A link from a group: continue that member's transcript or handoff here.
            if (!origin.isGroup && args && privateLinks.isLink(args)) {
              const continued = privateLinks.read(args, userId);
              if (!continued) {
                void helpdesk.recordSecurityEvent?.({ type: 'access_denied', channel: 'telegram', conversationId, detail: { reason: 'telegram_link_of_another_user' } });
                outcome = await record(event.message, telegramTexts.privateLinkNotYours(language));
                break;
              }
              if (continued.topic === 'transcript') {
                const recorded = await record(event.message, undefined);
                const group = await helpdesk.startConversation({ channel: 'telegram', externalId: `${continued.groupId}:${userId}`, language });
                return [...fromTurns([...started.turns, ...recorded.turns], origin.chatId, null), ...(await transcriptMessages(group.conversation.id, origin.chatId, updateId, language))];
              }
              outcome =
                conversation.state === 'escalated'
                  ? await record(event.message, telegramTexts.alreadyWithHuman(language))
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
            outcome = await record(event.message, reply);
            break;
          }
          case 'help':
            outcome = await record(event.message, telegramTexts.help(language));
            break;
          case 'human':
            outcome =
              conversation.state === 'escalated'
                ? await record(event.message, telegramTexts.alreadyWithHuman(language))
                : await helpdesk.handleCustomerInput({ conversationId, action: 'human', externalKey, ...created, ...groupEscalation });
            break;
          case 'lang': {
            const choice = args.toLowerCase();
            outcome =
              choice === 'zh' || choice === 'en'
                ? await helpdesk.handleCustomerInput({ conversationId, message: helpdesk.screen({ text: `/lang ${choice}` }), externalKey, ...created })
                : await record(event.message, telegramTexts.langUsage(language));
            break;
          }
          case 'verify': {
            // "Is this handle / link / phone number really the exchange's?" against the configured allowlist.
            const checked = args ? helpdesk.checkOfficialChannel?.(args, language) : undefined;
            const reply = !args
              ? telegramTexts.verifyUsage(language)
              : (checked?.reply ?? telegramTexts.verifyUnavailable(language));
            outcome = await record(event.message, reply);
            break;
          }
          case 'transcript': {
            const link = inPrivate({ topic: 'transcript' });
            if (link) {
              outcome = await record(event.message, telegramTexts.transcriptInPrivate(language, link));
              break;
            }
            outcome = await record(event.message, undefined);
            return [...fromTurns([...started.turns, ...outcome.turns], origin.chatId, null), ...(await transcriptMessages(conversationId, origin.chatId, updateId, language))];
          }
          default:
            outcome = await record(event.message, telegramTexts.unknownCommand(language));
        }
        break;
      }
    }
    return fromTurns([...started.turns, ...outcome.turns], origin.chatId, origin.isGroup ? origin.messageId : null);
  }

  /**
   * Long polling. getUpdates confirms to Telegram every update below its `offset`, and Telegram
   * then forgets them; so the offset moves past a batch only once every update in it is stored.
   * While the database does not answer, polling holds, however long: Telegram keeps the updates
   * (up to 24 hours). telegraf's own loop moves the offset whatever its handler did, hence this one.
   */
  async function poll(): Promise<void> {
    let offset: number | undefined;
    /** The offset the last getUpdates carried: Telegram has forgotten every update below it. */
    let confirmed = 0;
    for (let failures = 0; !stopping; ) {
      let updates: TgUpdate[];
      try {
        if (offset === undefined) {
          // A webhook left set makes getUpdates answer 409; its pending updates stay for polling.
          await bot.telegram.deleteWebhook({ drop_pending_updates: false });
          offset = 0;
        }
        updates = (await bot.telegram.callApi(
          'getUpdates',
          { timeout: tuning.pollTimeoutS, offset, allowed_updates: [...ALLOWED_UPDATES] } as never,
          { signal: pollAbort.signal as never },
        )) as unknown as TgUpdate[];
        confirmed = offset;
        failures = 0;
      } catch (error) {
        if (stopping) return;
        // 409: another process polls this bot (or a webhook is set); 401: a revoked token; 429,
        // 5xx, network: Telegram is busy or unreachable. All may pass: wait and ask again.
        const failure = toFailure(error);
        const delayMs = failure.retryAfterSeconds !== undefined
          ? failure.retryAfterSeconds * 1000
          : backoffMs(failures, { baseMs: tuning.handleRetryMs, maxMs: tuning.retryMaxMs });
        failures += 1;
        logger.warn({ code: failure.code, description: failure.description, delayMs }, 'telegram getUpdates failed; retrying');
        if (failure.code === 409 || failure.code === 404) offset = undefined;
        await sleep(delayMs);
        continue;
      }
      if (updates.length === 0) continue;
      const stored = await Promise.allSettled(updates.map((update) => intake(update, true)));
      if (stopping) return; // not all may be stored: leave them unconfirmed, Telegram sends them again
      stored.forEach((result, i) => {
        // The database answers but refused this update, attempt after attempt: it is skipped.
        if (result.status === 'rejected') logger.error({ err: result.reason, updateId: updates[i]?.update_id }, 'telegram update could not be stored; skipped');
      });
      offset = Math.max(...updates.map((u) => u.update_id)) + 1;
    }
    // Stopped after a stored batch: confirm it, so that the next start does not fetch it again
    // (harmless if this fails: a stored update fetched again is recognised as a duplicate).
    if (offset !== undefined && offset > confirmed) {
      await bot.telegram
        .callApi('getUpdates', { offset, limit: 1, timeout: 0 } as never, { signal: AbortSignal.timeout(5_000) as never })
        .catch(() => undefined);
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
        await sleep(backoffMs(attempt, { baseMs: tuning.handleRetryMs, maxMs: tuning.retryMaxMs }));
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
          pollAbort = new AbortController();
          polling = poll();
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
        await intake(update, false);
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
        pollAbort.abort();
        await polling;
        polling = undefined;
      }
      await chats.idle();
      await sender.stop();
    },
  };
}

export type TelegramChannel = ReturnType<typeof createTelegramChannel>;
