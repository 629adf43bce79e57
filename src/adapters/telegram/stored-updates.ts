import { Composer, type Telegram } from 'telegraf';
import type { UserFromGetMe } from 'telegraf/types';
import { backoffMs, type ChannelOutbox, createKeyedRunner, HelpdeskError, type Logger, type OutboundMessage, sleep } from '../../core/index.js';
import { commands } from './commands.js';
import { customerUpdates } from './customer-updates.js';
import type { OutboxSender } from './outbox-sender.js';
import { telegramTexts } from './telegram-texts.js';
import type { TelegramReplies } from './telegram-replies.js';
import { chatIdOf, messageIdOf, reviveStoredInbound, type StoredInbound, type TgUpdate, toStoredInbound } from './to-inbound-event.js';
import { type HandlerDeps, type HandlersHelpdesk, openConversation, toUpdateContext } from './update-context.js';
import type { InboundUpdate, RecordOutcome, UpdateInbox } from './update-inbox.js';
import { toPlainMessages } from './to-telegram-messages.js';

/** Every stored update runs through these: its conversation opened, then the first handler that takes it. */
const handlers = new Composer<Parameters<typeof openConversation>[0]>(openConversation, commands, customerUpdates);

export interface StoredUpdatesOptions {
  source: string;
  botId: number;
  telegram: Telegram;
  helpdesk: HandlersHelpdesk & Parameters<typeof toStoredInbound>[2] & Parameters<typeof reviveStoredInbound>[1];
  inbox: UpdateInbox;
  outbox: ChannelOutbox;
  sender: OutboxSender;
  replies: TelegramReplies;
  privateLinks: HandlerDeps['privateLinks'];
  exchangeName: string;
  logger: Logger;
  tuning: { maxHandleAttempts: number; handleRetryMs: number; retryMaxMs: number; chatTakeoverMs: number; storeProbeMs: number };
  /** The bot as getMe describes it: at once when known, else waiting for it (a while, or however long). */
  identity: { known(): UserFromGetMe | undefined; soon(): Promise<UserFromGetMe>; ready(): Promise<UserFromGetMe> };
  storeReachable?: (() => Promise<boolean>) | undefined;
  stopping(): boolean;
}

/**
 * Updates through the durable inbox: each is stored (screened) before it is handled, then handled
 * from the store, in order per chat, chats in parallel, and settled with its replies in one step.
 * Handling is the handlers' (commands, customer updates); this is storage, order and retries.
 */
export function createStoredUpdates(options: StoredUpdatesOptions) {
  const { source, helpdesk, inbox, outbox, sender, replies, logger, tuning, identity, stopping } = options;
  const chats = createKeyedRunner();
  const deps: HandlerDeps = {
    helpdesk,
    replies,
    privateLinks: options.privateLinks,
    findByMessage: (chatId, messageId) => inbox.findByMessage(source, chatId, messageId),
    botId: options.botId,
    exchangeName: options.exchangeName,
  };
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
      while (!stopping() && !(await storeReachable())) await sleep(tuning.storeProbeMs);
      if (!stopping()) logger.info({ outageMs: Date.now() - since }, 'database reachable again: Telegram resumes');
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
    if (stopping() || (await storeReachable())) return false;
    await untilStoreReachable();
    return true;
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
        if (stopping()) throw error;
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
    const me = identity.known() ?? (await identity.soon());
    const inbound = toStoredInbound(update, { id: me.id, username: me.username }, helpdesk);
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
    for (let delay = 25; !stopping(); delay = Math.min(delay * 2, 1_000)) {
      try {
        const earlier = await inbox.earlierPending(source, update.chatId, update.updateId);
        const oldest = earlier[0];
        if (!oldest) return true;
        if (oldest.waitedMs >= tuning.chatTakeoverMs) {
          logger.warn({ updateId: update.updateId, earlier: earlier.map((u) => u.updateId) }, "telegram: taking over a chat's earlier updates left unhandled");
          for (const u of earlier) await handleStored(u);
          return !stopping();
        }
      } catch (error) {
        logger.warn({ err: error, updateId: update.updateId }, "telegram: reading the chat's earlier updates failed; retrying");
      }
      await sleep(delay);
    }
    return false;
  }

  /**
   * What a stored update holds, read back: the screened inbound; an update stored raw by an earlier
   * version is read and screened now. Undefined when there is nothing to handle.
   */
  async function toInbound(payload: unknown): Promise<StoredInbound | undefined> {
    const raw = payload as Partial<TgUpdate> | null;
    if (raw && typeof raw === 'object' && Number.isSafeInteger(raw.update_id)) {
      const me = await identity.ready();
      return toStoredInbound(raw as TgUpdate, { id: me.id, username: me.username }, helpdesk);
    }
    return reviveStoredInbound(payload, helpdesk);
  }

  /** Runs the handlers on one stored update; returns the replies to send. */
  async function toReplies(updateId: number, inbound: StoredInbound): Promise<OutboundMessage[]> {
    if ('ignored' in inbound) {
      logger.debug({ updateId, reason: inbound.ignored }, 'telegram update ignored');
      return [];
    }
    const ctx = toUpdateContext({ updateId, ...inbound }, options.telegram, await identity.ready(), deps);
    await handlers.middleware()(ctx, async () => {
      logger.warn({ updateId, kind: inbound.event.kind }, 'telegram: no handler took a stored update');
    });
    return ctx.replies;
  }

  async function handleStored(stored: InboundUpdate, known?: StoredInbound): Promise<void> {
    const updateId = stored.updateId;
    let inbound = known;
    for (let attempt = stored.attempts; ; ) {
      try {
        inbound ??= await toInbound(stored.payload);
        if (!inbound) logger.warn({ updateId }, 'telegram: a stored update could not be read; skipped');
        const toSend = inbound ? await toReplies(updateId, inbound) : [];
        await settleWith(updateId, toSend);
        return;
      } catch (error) {
        // The database went away: the update stays stored and is handled when it is back.
        if (await waitedForStore()) continue;
        const chatId = inbound && 'origin' in inbound ? inbound.origin.chatId : undefined;
        if (error instanceof HelpdeskError && error.code === 'invalid_input' && chatId) {
          // The customer's input is the problem (too long...): tell them, do not retry.
          await settleWith(updateId, replies.keyed(updateId, toPlainMessages(error.userMessage, chatId)), error.message);
          return;
        }
        attempt += 1;
        const last = attempt >= tuning.maxHandleAttempts || stopping();
        logger.error({ err: error, updateId, attempt, last }, 'telegram update handling failed');
        if (!last) {
          await inbox.settle(source, updateId, 'retry', String(error)).catch(() => undefined);
          await sleep(backoffMs(attempt - 1, { baseMs: tuning.handleRetryMs, maxMs: tuning.retryMaxMs }));
          continue;
        }
        if (stopping()) return; // still pending: handled again after the restart
        if (chatId && inbound && 'origin' in inbound) {
          const text = telegramTexts.failed(inbound.origin.languageCode ?? 'en');
          await outbox.enqueue(replies.keyed(updateId, toPlainMessages(text, chatId))).catch(() => undefined);
          sender.kick();
        }
        await inbox.settle(source, updateId, 'failed', String(error)).catch(() => undefined);
        return;
      }
    }
  }

  /** Stores the replies and marks the update handled (one statement where the inbox offers it). */
  async function settleWith(updateId: number, toSend: OutboundMessage[], error?: string): Promise<void> {
    if (inbox.settleWithReplies) {
      // Each chat's first reply comes back leased to this sender: it goes out without a claim first.
      const leased = await inbox.settleWithReplies(source, updateId, toSend, error, sender.leaseMs);
      if (toSend.length > 0) sender.sendLeased(leased);
      return;
    }
    await outbox.enqueue(toSend);
    sender.kick();
    await inbox.settle(source, updateId, 'done', error);
  }

  return {
    intake,
    /** Handles what a previous run left stored and not handled, in order per chat. */
    async resume(limit: number): Promise<void> {
      for (const update of await inbox.pending(source, limit)) void chats.run(update.chatId, () => handleStored(update));
    },
    /** Waits until every update received so far has been handled (replies enqueued). */
    idle: () => chats.idle(),
    /** Resolves at once while the database answers, else when it answers again (or on stop). */
    waitedForStore,
  };
}

export type StoredUpdates = ReturnType<typeof createStoredUpdates>;
