import { asc, desc, gte, inArray, max, or, sql } from 'drizzle-orm';
import type { GapSource, Turn } from '../../core/index.js';
import type { Db } from './database.js';
import { toTurn } from './pg-conversation-store.js';
import { turn } from './schema/index.js';

/**
 * Where the gap report reads: conversations with an escalation, a rating or a reply to a
 * clarifying question since a date (through the partial index turn_gap_signal_idx, which holds
 * only those turns), and all their turns.
 */
export function createPgGapSource(db: Db): GapSource {
  return {
    async conversationsWithSignals(since, limit) {
      const signal = or(inArray(turn.kind, ['escalation', 'rating']), sql`jsonb_exists(${turn.data}, 'choice')`);
      const recent = await db
        .select({ conversationId: turn.conversationId })
        .from(turn)
        .where(sql`${gte(turn.createdAt, since)} AND (${signal})`)
        .groupBy(turn.conversationId)
        .orderBy(desc(max(turn.createdAt)))
        .limit(limit);
      if (recent.length === 0) return [];
      const rows = await db
        .select()
        .from(turn)
        .where(inArray(turn.conversationId, recent.map((r) => r.conversationId)))
        .orderBy(asc(turn.conversationId), asc(turn.seq));
      const byConversation = new Map<string, Turn[]>();
      for (const row of rows) {
        const list = byConversation.get(row.conversationId);
        if (list) list.push(toTurn(row));
        else byConversation.set(row.conversationId, [toTurn(row)]);
      }
      return [...byConversation.values()];
    },
  };
}
