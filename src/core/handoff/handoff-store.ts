import type { Conversation, Turn, TurnAttachment } from '../model.js';

/**
 * The handoff of one conversation to humans. How it is mirrored into an agents' tool (a Slack
 * thread) is that tool's adapter's business.
 */
export interface HandoffRecord {
  conversationId: string;
  /** With humans now (false after hand back or resolve). */
  open: boolean;
  /** `lastSeq` of the conversation when the (latest) handoff opened. */
  openedSeq: number;
  escalatedAt: Date;
  claimedBy: string | null;
  claimedName: string | null;
  remindedAt: Date | null;
  /** Desk turns up to this seq have been handed to the customer's channel. */
  deliveredSeq: number;
}

export interface HandoffWithConversation {
  record: HandoffRecord;
  conversation: Conversation;
}

/** Durable handoff state; every transition is a conditional update, so two instances agree. */
export interface HandoffStore {
  /** Opens a handoff for each escalated conversation without an open one; returns only those this call opened. */
  openPending(limit: number): Promise<HandoffWithConversation[]>;
  find(conversationId: string): Promise<HandoffRecord | undefined>;
  /** Open handoffs, urgent first, then longest waiting, then by conversation id (handoffs opened together). */
  listOpen(): Promise<HandoffWithConversation[]>;
  /**
   * Where an open, unclaimed handoff stands in the queue agents see (urgent first, then the longest
   * waiting): how many unclaimed handoffs come before it, and whether it is urgent. Undefined when
   * it is not open and unclaimed. Counted by the store: a customer asking while thousands wait
   * must not read them all.
   */
  queuePlace(conversationId: string): Promise<{ ahead: number; urgent: boolean } | undefined>;
  /** Open, unclaimed handoffs opened before `before`. */
  countUnclaimedBefore(before: Date): Promise<number>;
  /** Assigns an open handoff; false when it is not open or someone else holds it. */
  claim(conversationId: string, agent: { id: string; name: string }): Promise<boolean>;
  /** Closes an open handoff; false when it was not open. */
  close(conversationId: string): Promise<boolean>;
  /** Marks the reminder sent for open unclaimed handoffs opened before `before`; returns those marked. */
  markReminders(before: Date, limit: number): Promise<HandoffRecord[]>;
  advanceDelivered(conversationId: string, seq: number): Promise<void>;
}

/** Hands desk turns (agent replies, handoff notices) to the customer on their channel. */
export interface CustomerChannel {
  /** Must be idempotent per (conversation, seq): a turn may be handed over twice after a crash. */
  deliver(conversation: Conversation, turns: Turn[]): Promise<void>;
  /**
   * The bytes of a file the customer sent (a screenshot is evidence), for the agents. Resolves
   * `{ unavailable }` when the channel will never have it (too big, expired); rejects when it may
   * work later (the channel is unreachable).
   */
  fetchFile?(attachment: TurnAttachment): Promise<CustomerFile | { unavailable: string }>;
}

/** A customer's file as fetched from their channel. */
export interface CustomerFile {
  data: Uint8Array;
  fileName: string;
  mimeType?: string;
}
