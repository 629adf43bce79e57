import { timingSafeEqual } from 'node:crypto';
import { type Telegraf, TelegramError } from 'telegraf';
import type { UserFromGetMe } from 'telegraf/types';
import { backoffMs, type Logger, sleep } from '../../core/index.js';
import type { CallFailure } from './outbox-sender.js';
import type { TgUpdate } from './to-inbound-event.js';

/** Update types the bot asks Telegram for. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;
/** How long an update waits for the bot's identity (getMe) before its webhook call is answered 500. */
const IDENTITY_WAIT_MS = 10_000;

/** A failed Bot API call as the retry decisions read it. */
export function toFailure(error: unknown): CallFailure {
  if (error instanceof TelegramError) {
    return {
      code: error.code,
      description: error.description,
      ...(error.parameters?.retry_after !== undefined ? { retryAfterSeconds: error.parameters.retry_after } : {}),
    };
  }
  return { description: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

export interface TransportOptions {
  bot: Telegraf;
  /** Webhook mode when set: Telegram posts updates to `url`, which must reach this process's HTTP port. */
  webhook?: { url: string; secretToken: string } | undefined;
  /**
   * Stores one update (and schedules its handling); rejects when it could not be stored.
   * `holdWhileStoreDown`: polling, where an update not stored must not be confirmed to Telegram.
   */
  intake(update: TgUpdate, holdWhileStoreDown: boolean): Promise<'accepted' | 'duplicate'>;
  /** A webhook call without the right secret (recorded as a security event). */
  onForbidden(): void;
  logger: Logger;
  tuning: { handleRetryMs: number; retryMaxMs: number; pollTimeoutS: number };
}

/**
 * How updates arrive, and nothing else: the bot's identity (getMe), the webhook route or the
 * getUpdates loop. Each update is handed to `intake`, which stores it; handling happens from the store.
 */
export function createTelegramTransport(options: TransportOptions) {
  const { bot, logger, tuning } = options;
  let me: UserFromGetMe | undefined;
  let ready: Promise<UserFromGetMe> | undefined;
  let stopping = false;
  let polling: Promise<void> | undefined;
  let pollAbort = new AbortController();
  const secret = options.webhook ? Buffer.from(options.webhook.secretToken) : undefined;

  /** getMe, retried until Telegram answers: the rest of the product runs meanwhile. */
  function whoAmI(): Promise<UserFromGetMe> {
    ready ??= (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const answered = await bot.telegram.getMe();
          bot.botInfo = answered;
          me = answered;
          return answered;
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
  async function soon(): Promise<UserFromGetMe> {
    if (me) return me;
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

  /** Stores the update; a new callback query is answered at once, before any slow work: Telegram refuses answers after ~15 s. */
  async function receive(update: TgUpdate, holdWhileStoreDown: boolean): Promise<void> {
    const received = await options.intake(update, holdWhileStoreDown);
    if (received === 'accepted' && update.callback_query) {
      bot.telegram.answerCbQuery(update.callback_query.id).catch((error: unknown) => logger.warn({ err: error }, 'answerCallbackQuery failed'));
    }
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
        updates = (await bot.telegram.callApi('getUpdates', { timeout: tuning.pollTimeoutS, offset, allowed_updates: [...ALLOWED_UPDATES] } as never, {
          signal: pollAbort.signal as never,
        })) as unknown as TgUpdate[];
        confirmed = offset;
        failures = 0;
      } catch (error) {
        if (stopping) return;
        // 409: another process polls this bot (or a webhook is set); 401: a revoked token; 429,
        // 5xx, network: Telegram is busy or unreachable. All may pass: wait and ask again.
        const failure = toFailure(error);
        const delayMs =
          failure.retryAfterSeconds !== undefined
            ? failure.retryAfterSeconds * 1000
            : backoffMs(failures, { baseMs: tuning.handleRetryMs, maxMs: tuning.retryMaxMs });
        failures += 1;
        logger.warn({ code: failure.code, description: failure.description, delayMs }, 'telegram getUpdates failed; retrying');
        if (failure.code === 409 || failure.code === 404) offset = undefined;
        await sleep(delayMs);
        continue;
      }
      if (updates.length === 0) continue;
      const stored = await Promise.allSettled(updates.map((update) => receive(update, true)));
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

  return {
    identity: { known: () => me, soon, ready: whoAmI },
    isStopping: () => stopping,
    /** Connects in the background (getMe, then the webhook or polling): the product serves even while Telegram is unreachable. */
    start(): void {
      stopping = false;
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
        options.onForbidden();
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
        await receive(update, false);
      } catch (error) {
        // Not stored: a non-2xx makes Telegram deliver it again later.
        logger.error({ err: error, updateId: update.update_id }, 'telegram webhook intake failed');
        return new Response('Try again', { status: 500 });
      }
      return new Response(null, { status: 200 });
    },
    /** Stops receiving: the getUpdates under way is cut short and the loop ends. */
    async stop(): Promise<void> {
      stopping = true;
      if (polling) {
        pollAbort.abort();
        await polling;
        polling = undefined;
      }
    },
  };
}
