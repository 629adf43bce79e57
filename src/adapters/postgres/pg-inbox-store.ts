import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { ChangeMark, InboxStore, Turn } from '../../core/index.js';
import { contentKeysOf, type Db, queryRows } from './database.js';
import { openTurnsOfMany } from './pg-conversation-store.js';
import { CONVERSATION_COLUMNS, toHandoffWithConversation } from './pg-handoff-store.js';
import { turn } from './schema/index.js';

/** The customer turns a preview shows: what they wrote or sent, not button presses. */
const PREVIEW_KINDS = ['message', 'attachment', 'edit'];

/** What the agents' inbox reads from PostgreSQL (or PGlite) beside the handoff store. */
export function createPgInboxStore(db: Db): InboxStore {
  const keys = contentKeysOf(db);
  return {
    async listClosed(limit) {
      const rows = await queryRows<Record<string, unknown>>(
        db,
        sql`
        SELECT h.*, ${CONVERSATION_COLUMNS} FROM handoff h JOIN conversation c ON c.id = h.conversation_id
        WHERE NOT h.open ORDER BY h.updated_at DESC LIMIT ${limit}`,
      );
      return rows.map((r) => toHandoffWithConversation(r, keys));
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
      const ids = watched.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
      const rows = await queryRows<{ conversation_id: string; open: boolean; claimed_by: string | null; last_seq: number; state: string }>(
        db,
        sql`
        SELECT h.conversation_id, h.open, h.claimed_by, c.last_seq, c.state FROM handoff h JOIN conversation c ON c.id = h.conversation_id
        WHERE h.open${
          ids.length > 0
            ? sql` OR h.conversation_id IN (${sql.join(
                ids.map((id) => sql`${id}::uuid`),
                sql`, `,
              )})`
            : sql``
        }`,
      );
      return new Map(
        rows.map((r): [string, ChangeMark] => [
          String(r.conversation_id),
          { open: Boolean(r.open), mark: `${Boolean(r.open)}|${r.claimed_by ?? ''}|${Number(r.last_seq)}|${r.state}` },
        ]),
      );
    },
  };
}
