import { asc, desc, gte, inArray, max, sql } from 'drizzle-orm';
import type { GapSource, Turn } from '../../../core/index.js';
import type { Db } from '../db/database.js';
import { openTurns } from './conversation/turn-content.js';
import { turn } from '../schema/index.js';

/**
 * Where the gap report reads: conversations with an escalation, a rating, a clarifying question or
 * a pick among the entries it offered since a date (through the partial index
 * turn_gap_signal_idx, which holds only those turns: their kinds are not sealed), and all their
 * turns with their content opened. An erased conversation's turns open as erased.
 */
export function createPgGapSource(db: Db): GapSource {
  return {
    async conversationsWithSignals(since, limit) {
      const recent = await db
        .select({ conversationId: turn.conversationId })
        .from(turn)
        .where(sql`${gte(turn.createdAt, since)} AND ${inArray(turn.kind, ['escalation', 'rating', 'clarify', 'choice'])}`)
        .groupBy(turn.conversationId)
        .orderBy(desc(max(turn.createdAt)))
        .limit(limit);
      if (recent.length === 0) return [];
      const rows = await db
        .select()
        .from(turn)
        .where(
          inArray(
            turn.conversationId,
            recent.map((r) => r.conversationId),
          ),
        )
        .orderBy(asc(turn.conversationId), asc(turn.seq));
      const byConversation = new Map<string, typeof rows>();
      for (const row of rows) {
        const list = byConversation.get(row.conversationId);
        if (list) list.push(row);
        else byConversation.set(row.conversationId, [row]);
      }
      const opened: Turn[][] = [];
      for (const [conversationId, list] of byConversation) opened.push(await openTurns(db, conversationId, list));
      return opened;
    },
  };
}
