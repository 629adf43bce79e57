import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { HandoffRecord, HandoffStore, HandoffWithConversation } from '../../../core/index.js';
import { contentKeysOf, type Db, queryRows } from '../db/database.js';
import { toConversation } from './conversation/rows.js';
import { conversation, handoff } from '../schema/index.js';

type HandoffRow = typeof handoff.$inferSelect;

/** The one mapping of a handoff row as core sees it (the desk mirror's columns are the mirror store's). */
export function toHandoffRecord(row: HandoffRow): HandoffRecord {
  return {
    conversationId: row.conversationId,
    open: row.open,
    openedSeq: row.openedSeq,
    escalatedAt: row.escalatedAt,
    claimedBy: row.claimedBy,
    claimedName: row.claimedName,
    remindedAt: row.remindedAt,
    deliveredSeq: row.deliveredSeq,
  };
}

/** Handoffs with their conversations, by the given condition, oldest escalation first unless ordered otherwise. */
export function selectHandoffsWithConversations(db: Db) {
  return db.select({ handoff, conversation }).from(handoff).innerJoin(conversation, eq(conversation.id, handoff.conversationId));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Handoff state in PostgreSQL (or PGlite). Every transition is one conditional statement, so two
 * instances agree. A transition the desk's thread must show (claimed, reminded, closed, reopened)
 * marks the thread root for re-rendering in the same statement.
 */
export function createPgHandoffStore(db: Db): HandoffStore {
  const keys = contentKeysOf(db);
  const withConversations = async (ids: string[]): Promise<HandoffWithConversation[]> => {
    if (ids.length === 0) return [];
    const rows = await selectHandoffsWithConversations(db).where(inArray(handoff.conversationId, ids)).orderBy(asc(handoff.escalatedAt));
    return rows.map((r) => ({ record: toHandoffRecord(r.handoff), conversation: toConversation(r.conversation, keys) }));
  };

  return {
    async openPending(limit) {
      // New escalations get a row (two instances may both find one: the insert keeps the first and
      // returns only what this call inserted); a re-escalation reopens the existing row (and keeps its thread).
      const pending = await db
        .select({ id: conversation.id, lastSeq: conversation.lastSeq })
        .from(conversation)
        .leftJoin(handoff, eq(handoff.conversationId, conversation.id))
        .where(and(eq(conversation.state, 'escalated'), isNull(handoff.conversationId)))
        .orderBy(asc(conversation.updatedAt))
        .limit(limit);
      const created =
        pending.length === 0
          ? []
          : await db
              .insert(handoff)
              .values(pending.map((c) => ({ conversationId: c.id, openedSeq: c.lastSeq, deliveredSeq: c.lastSeq, relayedSeq: c.lastSeq })))
              .onConflictDoNothing()
              .returning({ id: handoff.conversationId });
      const reopened = await db
        .update(handoff)
        .set({
          open: true,
          openedSeq: sql`${conversation.lastSeq}`,
          escalatedAt: sql`now()`,
          claimedBy: null,
          claimedName: null,
          claimedAt: null,
          remindedAt: null,
          rootDirty: true,
          updatedAt: sql`now()`,
        })
        .from(conversation)
        .where(and(eq(conversation.id, handoff.conversationId), eq(conversation.state, 'escalated'), eq(handoff.open, false)))
        .returning({ id: handoff.conversationId });
      return withConversations([...created, ...reopened].map((r) => r.id));
    },
    async find(conversationId) {
      if (!UUID.test(conversationId)) return undefined;
      const [row] = await db.select().from(handoff).where(eq(handoff.conversationId, conversationId));
      return row ? toHandoffRecord(row) : undefined;
    },
    async listOpen() {
      const rows = await selectHandoffsWithConversations(db)
        .where(eq(handoff.open, true))
        .orderBy(desc(sql`${conversation.priority} = 'urgent'`), asc(handoff.escalatedAt), asc(handoff.conversationId));
      return rows.map((r) => ({ record: toHandoffRecord(r.handoff), conversation: toConversation(r.conversation, keys) }));
    },
    async queuePlace(conversationId) {
      if (!UUID.test(conversationId)) return undefined;
      // One statement: the escalation time stays in the database, at its full precision (a Date
      // would drop the microseconds that order handoffs opened within one millisecond). The order
      // is listOpen's: urgent first, then (escalated_at, conversation_id).
      const [place] = await queryRows<{ ahead: number; urgent: boolean }>(
        db,
        sql`WITH mine AS (
          SELECT h.escalated_at, c.priority = 'urgent' AS urgent FROM handoff h JOIN conversation c ON c.id = h.conversation_id
          WHERE h.conversation_id = ${conversationId}::uuid AND h.open AND h.claimed_by IS NULL)
        SELECT mine.urgent, (SELECT count(*) FROM handoff h JOIN conversation c ON c.id = h.conversation_id
          WHERE h.open AND h.claimed_by IS NULL AND ((c.priority = 'urgent') > mine.urgent
            OR ((c.priority = 'urgent') = mine.urgent AND (h.escalated_at, h.conversation_id) < (mine.escalated_at, ${conversationId}::uuid))))::int AS ahead
        FROM mine`,
      );
      return place ? { ahead: Number(place.ahead), urgent: place.urgent === true } : undefined;
    },
    async countUnclaimedBefore(before) {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(handoff)
        .where(and(eq(handoff.open, true), isNull(handoff.claimedBy), lt(handoff.escalatedAt, before)));
      return Number(row?.n ?? 0);
    },
    async claim(conversationId, agent) {
      const done = await db
        .update(handoff)
        .set({ claimedBy: agent.id, claimedName: agent.name, claimedAt: sql`now()`, rootDirty: true, updatedAt: sql`now()` })
        .where(and(eq(handoff.conversationId, conversationId), eq(handoff.open, true), isNull(handoff.claimedBy)))
        .returning({ id: handoff.conversationId });
      return done.length > 0;
    },
    async close(conversationId) {
      const done = await db
        .update(handoff)
        .set({ open: false, rootDirty: true, updatedAt: sql`now()` })
        .where(and(eq(handoff.conversationId, conversationId), eq(handoff.open, true)))
        .returning({ id: handoff.conversationId });
      return done.length > 0;
    },
    async markReminders(before, limit) {
      const due = db
        .select({ id: handoff.conversationId })
        .from(handoff)
        .where(and(eq(handoff.open, true), isNull(handoff.claimedBy), isNull(handoff.remindedAt), lt(handoff.escalatedAt, before)))
        .orderBy(asc(handoff.escalatedAt))
        .limit(limit)
        .for('update', { skipLocked: true });
      const marked = await db
        .update(handoff)
        .set({ remindedAt: sql`now()`, rootDirty: true, updatedAt: sql`now()` })
        .where(and(inArray(handoff.conversationId, due), isNull(handoff.remindedAt)))
        .returning();
      return marked.map(toHandoffRecord);
    },
    async advanceDelivered(conversationId, seq) {
      await db
        .update(handoff)
        .set({ deliveredSeq: seq })
        .where(and(eq(handoff.conversationId, conversationId), lt(handoff.deliveredSeq, seq)));
    },
  };
}

/**
 * The desk thread's mirror of a handoff, kept on the handoff's row: the thread (channel and ts),
 * how far turns are relayed, whether the root must be re-rendered, the post in flight, and a lease
 * so that one instance at a time works on a thread. Typed as the Slack adapter's ThreadMirrorStore
 * (structurally: adapters do not import each other; main.ts wires them).
 */
export function createPgThreadMirrorStore(db: Db) {
  const keys = contentKeysOf(db);
  const behind = or(isNull(handoff.deskThread), eq(handoff.rootDirty, true), gt(conversation.lastSeq, handoff.relayedSeq));
  const toMirror = (row: HandoffRow) => ({
    deskChannel: row.deskChannel,
    deskThread: row.deskThread,
    relayedSeq: row.relayedSeq,
    rootDirty: row.rootDirty,
    mirrorInflight: row.mirrorInflight,
    attempts: row.attempts,
    lastError: row.lastError,
  });
  const byOwner = (conversationId: string, owner: string) => and(eq(handoff.conversationId, conversationId), eq(handoff.leaseOwner, owner));

  return {
    async findByThread(deskChannel: string, deskThread: string): Promise<{ conversationId: string } | undefined> {
      const [row] = await db
        .select({ conversationId: handoff.conversationId })
        .from(handoff)
        .where(and(eq(handoff.deskChannel, deskChannel), eq(handoff.deskThread, deskThread)));
      return row;
    },
    async threadsOf(conversationIds: string[]): Promise<Map<string, { deskChannel: string; deskThread: string }>> {
      if (conversationIds.length === 0) return new Map();
      const rows = await db
        .select({ id: handoff.conversationId, deskChannel: handoff.deskChannel, deskThread: handoff.deskThread })
        .from(handoff)
        .where(
          inArray(
            handoff.conversationId,
            conversationIds.filter((id) => UUID.test(id)),
          ),
        );
      return new Map(rows.flatMap((r) => (r.deskChannel && r.deskThread ? [[r.id, { deskChannel: r.deskChannel, deskThread: r.deskThread }] as const] : [])));
    },
    /** Leases, for `leaseMs`, handoffs whose thread is behind (none yet, turns not relayed, root to re-render) and due. */
    async lease(owner: string, leaseMs: number, limit: number) {
      const due = db
        .select({ id: handoff.conversationId })
        .from(handoff)
        .innerJoin(conversation, eq(conversation.id, handoff.conversationId))
        .where(and(or(isNull(handoff.leaseUntil), lt(handoff.leaseUntil, sql`now()`)), lte(handoff.nextAttemptAt, sql`now()`), behind))
        .orderBy(asc(handoff.nextAttemptAt), asc(handoff.escalatedAt))
        .limit(limit)
        .for('update', { of: handoff, skipLocked: true });
      const leased = await db
        .update(handoff)
        .set({ leaseOwner: owner, leaseUntil: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
        .where(inArray(handoff.conversationId, due))
        .returning({ id: handoff.conversationId });
      if (leased.length === 0) return [];
      const rows = await selectHandoffsWithConversations(db)
        .where(
          and(
            inArray(
              handoff.conversationId,
              leased.map((r) => r.id),
            ),
            eq(handoff.leaseOwner, owner),
          ),
        )
        .orderBy(asc(handoff.escalatedAt));
      return rows.map((r) => ({ record: toHandoffRecord(r.handoff), mirror: toMirror(r.handoff), conversation: toConversation(r.conversation, keys) }));
    },
    /** Records progress while holding the lease; `mirrorInflight: null` clears the post in flight, undefined keeps it. */
    async save(
      conversationId: string,
      owner: string,
      progress: { deskChannel?: string; deskThread?: string; relayedSeq?: number; rootDirty?: boolean; mirrorInflight?: string | null },
    ): Promise<void> {
      await db
        .update(handoff)
        .set({
          ...(progress.deskChannel !== undefined ? { deskChannel: progress.deskChannel } : {}),
          ...(progress.deskThread !== undefined ? { deskThread: progress.deskThread } : {}),
          ...(progress.relayedSeq !== undefined ? { relayedSeq: sql`GREATEST(${handoff.relayedSeq}, ${progress.relayedSeq}::int)` } : {}),
          ...(progress.rootDirty !== undefined ? { rootDirty: progress.rootDirty } : {}),
          ...(progress.mirrorInflight !== undefined ? { mirrorInflight: progress.mirrorInflight } : {}),
          attempts: 0,
          lastError: null,
          updatedAt: sql`now()`,
        })
        .where(byOwner(conversationId, owner));
    },
    /** Ends the lease; after a failure the handoff is due again in `retryInMs`. */
    async release(conversationId: string, owner: string, failure?: { retryInMs: number; error: string }): Promise<void> {
      await db
        .update(handoff)
        .set({
          leaseOwner: null,
          leaseUntil: null,
          ...(failure
            ? {
                attempts: sql`${handoff.attempts} + 1`,
                lastError: failure.error,
                nextAttemptAt: sql`now() + ${`${Math.max(0, Math.round(failure.retryInMs))} milliseconds`}::interval`,
              }
            : {}),
        })
        .where(byOwner(conversationId, owner));
    },
  };
}
