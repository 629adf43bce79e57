import type { ChannelOutbox, ClaimedMessage, Logger, SentMessage } from '../../core/index.js';
import { backoffMs } from '../../core/index.js';

export interface SendTuning {
  /** First retry delay after a 5xx or network error; doubles per attempt. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Longest `retry_after` honoured as given (Telegram sometimes asks for hours); longer waits are capped. */
  maxRetryAfterMs: number;
  /** Time limit of one API call; past it the call counts as a network error. */
  sendTimeoutMs: number;
  /**
   * How long a claimed message stays leased to this sender; renewed every third of it while the
   * message is being sent. After a crash, the messages it had leased wait this long for another
   * sender (or the restarted one): the customer's silence after a crash.
   */
  leaseMs: number;
  /** How often the outbox is checked for due messages (other instances, retries, restarts). */
  pollIntervalMs: number;
  /** Messages claimed at once (one per chat). */
  batchSize: number;
}

export const DEFAULT_SEND_TUNING: SendTuning = {
  retryBaseMs: 500,
  retryMaxMs: 60_000,
  maxRetryAfterMs: 3_600_000,
  sendTimeoutMs: 20_000,
  leaseMs: 10_000,
  pollIntervalMs: 1_000,
  batchSize: 64,
};

/** A failed API call as the sender sees it: an HTTP error code with Telegram's parameters, or a network failure. */
export interface CallFailure {
  code?: number;
  description?: string;
  retryAfterSeconds?: number;
}

export type Decision = { retry: true; delayMs: number } | { retry: false };

/**
 * What to do after a failed send: honour 429's `retry_after`; back off exponentially on 5xx,
 * network errors and timeouts; give up on other 4xx (blocked by the user, chat not found), which
 * no retry can fix.
 */
export function decideRetry(failure: CallFailure, attempts: number, tuning: SendTuning): Decision {
  if (failure.code === 429) {
    const seconds = failure.retryAfterSeconds ?? 1;
    return { retry: true, delayMs: Math.min(seconds * 1000, tuning.maxRetryAfterMs) };
  }
  const backoff = backoffMs(attempts, { baseMs: tuning.retryBaseMs, maxMs: tuning.retryMaxMs });
  if (failure.code === undefined || failure.code >= 500 || failure.code === 401) return { retry: true, delayMs: backoff };
  return { retry: false };
}

/**
 * Sends what the outbox holds: one message at a time per chat, in order, chats in parallel;
 * failures go back to the outbox with their retry time, so a restart resumes where this stopped.
 */
export function createOutboxSender(options: {
  outbox: ChannelOutbox;
  channel: string;
  call(method: string, payload: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
  toFailure(error: unknown): CallFailure;
  logger: Logger;
  tuning: SendTuning;
  /** The only sender on this outbox (see TelegramChannelOptions.soleSender). */
  soleSender?: boolean;
}) {
  const { outbox, channel, logger, tuning } = options;
  const inFlight = new Set<Promise<void>>();
  /** Messages leased to this sender and not settled in the outbox yet (sending, or sent and not marked). */
  const leased = new Set<number>();
  let renewing: NodeJS.Timeout | undefined;
  /** Messages the channel accepted, not yet marked sent: the next claim marks them (one statement). */
  let accepted: SentMessage[] = [];
  let draining: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;

  async function send(message: ClaimedMessage): Promise<void> {
    try {
      const result = (await options.call(message.method, message.payload, AbortSignal.timeout(tuning.sendTimeoutMs))) as { message_id?: number } | undefined;
      accepted.push({ id: message.id, result: result?.message_id !== undefined ? { message_id: result.message_id } : null, at: new Date() });
      return; // still leased until the mark is written
    } catch (error) {
      leased.delete(message.id);
      const failure = options.toFailure(error);
      const decision = decideRetry(failure, message.attempts, tuning);
      const reason = `${failure.code ?? 'network'}: ${failure.description ?? String(error)}`.slice(0, 500);
      if (decision.retry) {
        logger.warn(
          { outboxId: message.id, chatId: message.chatId, attempts: message.attempts + 1, delayMs: decision.delayMs, reason },
          'telegram send failed; will retry',
        );
        await outbox.retryLater(message.id, decision.delayMs, reason);
        wakeIn(decision.delayMs);
      } else {
        logger.error({ outboxId: message.id, chatId: message.chatId, reason }, 'telegram refused a message; giving up on it');
        await outbox.markFailed(message.id, reason);
      }
    }
  }

  /** Sends leased messages, each on its own; a finished send looks for its chat's next message. */
  function sendAll(messages: ClaimedMessage[]): void {
    for (const message of messages) {
      // Its lease ran out while this sender still had it (the database was away): it is this
      // send's to finish, not a second one's.
      if (leased.has(message.id)) continue;
      leased.add(message.id);
      const sending: Promise<void> = send(message)
        .catch((error: unknown) => logger.error({ err: error, outboxId: message.id }, 'outbox bookkeeping failed'))
        .finally(() => {
          inFlight.delete(sending);
          kick();
        });
      inFlight.add(sending);
    }
  }

  /** Claims up to `limit` messages, marking the accepted ones sent in the same statement; kept for the next claim if it fails. */
  async function claimMarkingSent(limit: number): Promise<ClaimedMessage[]> {
    const marks = accepted;
    accepted = [];
    try {
      const claimed = await outbox.claim(channel, limit, tuning.leaseMs, marks);
      for (const mark of marks) leased.delete(mark.id);
      return claimed;
    } catch (error) {
      // Their leases keep them from being sent again meanwhile.
      accepted = [...marks, ...accepted];
      throw error;
    }
  }

  function wakeIn(ms: number) {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(kick, Math.max(0, Math.min(ms, tuning.pollIntervalMs)));
  }

  async function drain(): Promise<void> {
    let claimedAny = false;
    do {
      // Let the sends and enqueues that are finishing now land first: one claim then takes them all.
      await new Promise<void>((resolve) => setImmediate(resolve));
      again = false;
      const claimed = await claimMarkingSent(stopped ? 0 : tuning.batchSize);
      if (claimed.length > 0) claimedAny = true;
      sendAll(claimed);
      if (claimed.length === tuning.batchSize) again = true;
    } while (again && !stopped);
    if (stopped) return;
    // Sends under way kick again when they finish; only an idle sender asks when to look next
    // (one query less per message under load). The poll timer still covers other instances.
    if (claimedAny) {
      wakeIn(tuning.pollIntervalMs);
      return;
    }
    const due = await outbox.nextDueInMs(channel);
    wakeIn(due ?? tuning.pollIntervalMs);
  }

  /** Looks for due messages now (after an enqueue, a send, or a timer). */
  function kick(): void {
    if (stopped) return;
    if (draining) {
      again = true;
      return;
    }
    draining = drain()
      .catch((error: unknown) => {
        logger.error({ err: error }, 'outbox drain failed');
        wakeIn(tuning.pollIntervalMs);
      })
      .finally(() => {
        draining = undefined;
        if (again) kick();
      });
  }

  /** Keeps the leases of the messages being sent (or sent and not marked yet) from running out. */
  function renewLeases(): void {
    if (leased.size === 0) return;
    outbox.renew([...leased], tuning.leaseMs).catch((error: unknown) => {
      logger.warn({ err: error, count: leased.size }, 'could not renew outbox leases');
    });
  }

  return {
    kick,
    /** How long messages stored for sending now may be leased to this sender: 0 once stopped. */
    get leaseMs() {
      return stopped ? 0 : tuning.leaseMs;
    },
    /**
     * Sends messages the outbox leased to this sender when it stored them (the head of their chat's
     * queue), without claiming them; the sender then takes their chats' next messages as usual.
     */
    sendLeased(messages: ClaimedMessage[]): void {
      if (messages.length > 0 && !stopped) sendAll(messages);
      // Other messages of these chats, and anything else due.
      kick();
    },
    start() {
      stopped = false;
      clearInterval(renewing);
      renewing = setInterval(renewLeases, Math.max(1, Math.floor(tuning.leaseMs / 3)));
      renewing.unref();
      if (!options.soleSender) {
        kick();
        return;
      }
      // Leases left by a process that died: no one else can hold them, so they are due now.
      void outbox
        .releaseLeases(channel)
        .then((count) => {
          if (count > 0) logger.warn({ count }, 'sending again the messages a stopped process was sending (any it had sent arrive twice)');
        })
        .catch((error: unknown) => logger.error({ err: error }, 'could not release the outbox leases of a previous process'))
        .finally(kick);
    },
    /** Stops claiming; waits for the sends under way and marks the accepted ones sent, so none is left leased. */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(renewing);
      await draining;
      await Promise.allSettled([...inFlight]);
      if (accepted.length > 0) {
        await claimMarkingSent(0).catch((error: unknown) => {
          logger.error({ err: error, count: accepted.length }, 'could not mark sent messages at shutdown; they may be sent again');
        });
      }
    },
  };
}

export type OutboxSender = ReturnType<typeof createOutboxSender>;
