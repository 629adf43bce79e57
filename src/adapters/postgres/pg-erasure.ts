import { and, eq, like, or } from 'drizzle-orm';
import { type RotationResult, rotateContentKeys } from './content-key-rotation.js';
import { contentKeysOf, type Db } from './database.js';
import type { ErasureResult, PgTurnLog } from './pg-turn-log.js';
import { conversation } from './schema/index.js';

/** Whose content to erase: one conversation, every conversation of a Telegram user (private chat and each group), or a web customer. */
export type ErasureTarget =
  | { conversationId: string }
  | { channel: 'telegram'; userId: string }
  | { channel: 'web'; externalId: string }
  | { channel: string; externalId: string };

export interface CustomerErasure {
  conversations: Array<{ conversationId: string; result: ErasureResult }>;
  /** The master key rotation that made the erasure hold against earlier copies; undefined when nothing was erased. */
  rotation: RotationResult | undefined;
  /** Why the rotation did not run (keys from CONTENT_MASTER_KEY, or it failed): the operator must run npm run keys:rotate. */
  rotationPending: string | undefined;
}

/** The conversations of a target. A Telegram user has one conversation per private chat and one per group they wrote in (`<group>:<user>`). */
export async function findCustomerConversations(db: Db, target: ErasureTarget): Promise<string[]> {
  if ('conversationId' in target) {
    const [row] = await db.select({ id: conversation.id }).from(conversation).where(eq(conversation.id, target.conversationId));
    return row ? [row.id] : [];
  }
  if (target.channel === 'telegram' && 'userId' in target) {
    if (!/^-?\d{1,20}$/.test(target.userId)) return [];
    const rows = await db
      .select({ id: conversation.id })
      .from(conversation)
      .where(and(eq(conversation.channel, 'telegram'), or(eq(conversation.externalId, target.userId), like(conversation.externalId, `%:${target.userId}`))));
    return rows.map((r) => r.id);
  }
  const rows = await db
    .select({ id: conversation.id })
    .from(conversation)
    .where(and(eq(conversation.channel, target.channel), eq(conversation.externalId, (target as { externalId: string }).externalId)));
  return rows.map((r) => r.id);
}

/**
 * Erases every conversation of a target (each a logged erasure, or a logged deferral under a legal
 * hold), then rotates the content master key once, so that the erased keys, which copies made
 * before still hold wrapped, can no longer be unwrapped.
 */
export async function eraseCustomer(db: Db, log: PgTurnLog, target: ErasureTarget, reason = 'customer_request'): Promise<CustomerErasure> {
  const ids = await findCustomerConversations(db, target);
  const conversations: CustomerErasure['conversations'] = [];
  for (const id of ids) conversations.push({ conversationId: id, result: await log.erase(id, reason) });
  if (!conversations.some((c) => c.result.status === 'erased')) return { conversations, rotation: undefined, rotationPending: undefined };
  const keys = contentKeysOf(db);
  if (keys.source === 'env') {
    return { conversations, rotation: undefined, rotationPending: 'the master key comes from CONTENT_MASTER_KEY: add a new version to it and run npm run keys:rotate' };
  }
  try {
    return { conversations, rotation: await rotateContentKeys(db, keys), rotationPending: undefined };
  } catch (error) {
    return { conversations, rotation: undefined, rotationPending: `master key rotation failed (${error instanceof Error ? error.message : String(error)}): run npm run keys:rotate` };
  }
}
