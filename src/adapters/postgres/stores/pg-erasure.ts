import { and, eq, like, lt, notExists, notLike, or, sql } from 'drizzle-orm';
import { createWakeLoop, type Logger } from '../../../core/index.js';
import { type RotationResult, rotateContentKeys } from './content-key-rotation.js';
import { contentKeysOf, type Db } from '../db/database.js';
import type { ErasureResult, PgTurnLog } from '../turn-log/pg-turn-log.js';
import { channelOutbox, conversation, legalHold } from '../schema/index.js';

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
  return eraseConversations(db, log, await findCustomerConversations(db, target), reason);
}

/** Erases these conversations (each logged), then rotates the master key once. */
export async function eraseConversations(db: Db, log: PgTurnLog, ids: string[], reason: string): Promise<CustomerErasure> {
  const conversations: CustomerErasure['conversations'] = [];
  for (const id of ids) conversations.push({ conversationId: id, result: await log.erase(id, reason) });
  if (!conversations.some((c) => c.result.status === 'erased')) return { conversations, rotation: undefined, rotationPending: undefined };
  const keys = contentKeysOf(db);
  if (keys.source === 'env') {
    return {
      conversations,
      rotation: undefined,
      rotationPending: 'the master key comes from CONTENT_MASTER_KEY: add a new version to it and run npm run keys:rotate',
    };
  }
  try {
    return { conversations, rotation: await rotateContentKeys(db, keys), rotationPending: undefined };
  } catch (error) {
    return {
      conversations,
      rotation: undefined,
      rotationPending: `master key rotation failed (${error instanceof Error ? error.message : String(error)}): run npm run keys:rotate`,
    };
  }
}

/** Replies sent (or given up) keep their payload this long (a resend after a lost answer), then only their ids. */
export const SETTLED_PAYLOAD_MS = 10 * 60_000;
/** Conversations erased by one retention sweep at most (one master key rotation each sweep). */
const RETENTION_BATCH = 500;

/**
 * One retention sweep: empties the payloads of replies settled more than SETTLED_PAYLOAD_MS ago
 * (their dedupe keys stay, so a retried send is still recognised; inbox updates lose theirs when
 * settled), and, with `retentionDays` above 0, erases closed conversations untouched for that many
 * days, except those under a legal hold: each a logged erasure (reason `retention`), then one key
 * rotation.
 */
export async function sweepRetention(
  db: Db,
  log: PgTurnLog,
  retentionDays: number,
  now = new Date(),
): Promise<{ purged: number; erasure: CustomerErasure | undefined }> {
  const purged = await db
    .update(channelOutbox)
    .set({ payload: {} })
    .where(
      and(
        sql`${channelOutbox.status} <> 'pending'`,
        sql`${channelOutbox.payload} <> '{}'::jsonb`,
        lt(sql`coalesce(${channelOutbox.sentAt}, ${channelOutbox.createdAt})`, new Date(now.getTime() - SETTLED_PAYLOAD_MS)),
      ),
    )
    .returning({ id: channelOutbox.id });
  if (retentionDays <= 0) return { purged: purged.length, erasure: undefined };
  const due = await db
    .select({ id: conversation.id })
    .from(conversation)
    .where(
      and(
        eq(conversation.state, 'closed'),
        lt(conversation.updatedAt, new Date(now.getTime() - retentionDays * 86_400_000)),
        notLike(conversation.externalId, 'erased:%'),
        notExists(db.select({ one: sql`1` }).from(legalHold).where(eq(legalHold.conversationId, conversation.id))),
      ),
    )
    .limit(RETENTION_BATCH);
  if (due.length === 0) return { purged: purged.length, erasure: undefined };
  return {
    purged: purged.length,
    erasure: await eraseConversations(
      db,
      log,
      due.map((r) => r.id),
      'retention',
    ),
  };
}

/** Runs `sweepRetention` now and every `intervalMs`; one instance per database should run it. */
export function startRetention(deps: { db: Db; log: PgTurnLog; retentionDays: number; intervalMs: number; logger: Logger }): { stop(): Promise<void> } {
  const sweeps = createWakeLoop({
    name: 'retention sweep',
    intervalMs: deps.intervalMs,
    logger: deps.logger,
    async run() {
      const { purged, erasure } = await sweepRetention(deps.db, deps.log, deps.retentionDays);
      const erased = erasure?.conversations.filter((c) => c.result.status === 'erased').length ?? 0;
      if (erased > 0 || purged > 0) deps.logger.info({ erased, purged, rotatedTo: erasure?.rotation?.version }, 'retention sweep');
      if (erasure?.rotationPending) deps.logger.warn({ reason: erasure.rotationPending }, 'erasure does not hold against older copies yet');
    },
  });
  sweeps.start();
  return { stop: () => sweeps.stop() };
}
