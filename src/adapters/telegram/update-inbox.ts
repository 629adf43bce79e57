import type { ClaimedMessage, OutboundMessage } from '../../core/index.js';

/*
 * The Telegram channel's storage port: the durable inbox of updates. Only this adapter uses it, so
 * it is declared here, not in core; the database adapter implements it structurally (adapters never
 * import one another) and the composition root, handing one to the other, checks that it fits.
 */

/** A Telegram update as the inbox keeps it until it has been handled. */
export interface InboundUpdate {
  /** Who sent it, e.g. "telegram:<bot id>": update ids are unique per bot only. */
  source: string;
  updateId: number;
  chatId: string;
  messageId: number | null;
  /**
   * What the channel keeps of the update to handle it: ids and the customer's content through the
   * firewall, never the raw update. Purged (null) once the update is settled.
   */
  payload: unknown;
  /** Failed handling attempts so far. */
  attempts: number;
}

/** What storing an update found: see UpdateInbox.record. */
export type RecordOutcome = 'stored' | 'queued' | 'duplicate';

/** Durable inbox of channel updates: a redelivery is recognised, and unfinished work survives a restart. */
export interface UpdateInbox {
  /**
   * Stores the update: 'stored', or 'queued' when an earlier update of its chat is stored and not
   * handled yet (perhaps by another instance: this one waits its turn), or 'duplicate' when it was
   * stored before (a redelivery, to be ignored).
   */
  record(update: Omit<InboundUpdate, 'attempts'>): Promise<RecordOutcome>;
  /**
   * The chat's updates stored before `updateId` and not handled yet, oldest first, each with how
   * long ago it was stored (by the database's clock, the same for every instance).
   */
  earlierPending(source: string, chatId: string, updateId: number): Promise<Array<InboundUpdate & { waitedMs: number }>>;
  /** Updates stored but not handled yet, oldest first. */
  pending(source: string, limit: number): Promise<InboundUpdate[]>;
  /**
   * Marks an update handled ('done') or given up ('failed'), purging its payload, or counts one
   * failed attempt ('retry').
   */
  settle(source: string, updateId: number, status: 'done' | 'failed' | 'retry', error?: string): Promise<void>;
  /** The update that carried a chat message (to reference the original of an edited message). */
  findByMessage(source: string, chatId: string, messageId: number): Promise<number | undefined>;
  /**
   * Stores the update's replies in the outbox (as ChannelOutbox.enqueue) and marks the update
   * 'done', atomically and in one round trip. With `claimForMs` > 0 the replies that are at once
   * the head of their chat's queue are stored already leased for that long and returned, for the
   * caller to send without claiming them first. Optional (enqueue, then settle, otherwise).
   */
  settleWithReplies?(source: string, updateId: number, replies: OutboundMessage[], error?: string, claimForMs?: number): Promise<ClaimedMessage[]>;
}
