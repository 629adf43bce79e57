import { and, desc, eq, inArray, not, or } from 'drizzle-orm';
import type { ChangeMark, InboxStore, Turn } from '../../../core/index.js';
import { contentKeysOf, type Db } from '../db/database.js';
import { toConversation } from './conversation/rows.js';
import { openTurnsOfMany } from './conversation/turn-content.js';
import { selectHandoffsWithConversations, toHandoffRecord } from './pg-handoff-store.js';
import { conversation, handoff, turn } from '../schema/index.js';

/** The customer turns a preview shows: what they wrote or sent, not button presses. */
const PREVIEW_KINDS = ['message', 'attachment', 'edit'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the agents' inbox reads from PostgreSQL (or PGlite) beside the handoff store. */
export function createPgInboxStore(db: Db): InboxStore {
  const keys = contentKeysOf(db);
  return {
    async listClosed(limit) {
      const rows = await selectHandoffsWithConversations(db).where(not(handoff.open)).orderBy(desc(handoff.updatedAt)).limit(limit);
      return rows.map((r) => ({ record: toHandoffRecord(r.handoff), conversation: toConversation(r.conversation, keys) }));
    },
    async latestCustomerTurns(conversationIds) {
      if (conversationIds.length === 0) return new Map();
      const rows = await db
        .selectDistinctOn([turn.conversationId])
        .from(turn)
        .where(and(inArray(turn.conversationId, conversationIds), eq(turn.role, 'customer'), inArray(turn.kind, PREVIEW_KINDS)))
        .orderBy(turn.conversationId, desc(turn.seq));
      const opened = await openTurnsOfMany(db, rows);
      return new Map(opened.map((t): [string, Turn] => [t.conversationId, t]));
    },
    async changeMarks(watched) {
      const ids = watched.filter((id) => UUID.test(id));
      const rows = await db
        .select({ id: handoff.conversationId, open: handoff.open, claimedBy: handoff.claimedBy, lastSeq: conversation.lastSeq, state: conversation.state })
        .from(handoff)
        .innerJoin(conversation, eq(conversation.id, handoff.conversationId))
        .where(ids.length > 0 ? or(eq(handoff.open, true), inArray(handoff.conversationId, ids)) : eq(handoff.open, true));
      return new Map(rows.map((r): [string, ChangeMark] => [r.id, { open: r.open, mark: `${r.open}|${r.claimedBy ?? ''}|${r.lastSeq}|${r.state}` }]));
    },
  };
}
