import type { ChangeMark, HandoffWithConversation, InboxStore, Turn } from '../../../src/core/index.js';
import type { createMemoryHandoffStore } from './memory-handoff-store.js';

/** The customer turns a preview shows: what they wrote or sent, not button presses. */
const PREVIEW_KINDS = new Set(['message', 'attachment', 'edit']);

/**
 * What the agents' inbox reads beside the handoff store, from the memory handoff store's records
 * and its conversation store, as the PostgreSQL inbox store reads the same tables.
 */
export function createMemoryInboxStore(handoffs: ReturnType<typeof createMemoryHandoffStore>): InboxStore {
  const { conversations } = handoffs;
  return {
    async listClosed(limit) {
      const closed = handoffs
        .records()
        .filter((r) => !r.record.open)
        .sort((a, b) => b.changed - a.changed)
        .slice(0, limit);
      const rows: HandoffWithConversation[] = [];
      for (const { record } of closed) {
        const conversation = await conversations.find(record.conversationId);
        if (conversation) rows.push({ record, conversation });
      }
      return rows;
    },

    async latestCustomerTurns(conversationIds) {
      const latest = new Map<string, Turn>();
      for (const id of conversationIds) {
        const conversation = await conversations.find(id);
        if (!conversation) continue;
        // Newest first, a page at a time, until the customer's latest message.
        for (let before = conversation.lastSeq; before > 0; before -= 200) {
          const page = await conversations.turns(id, Math.max(0, before - 200), 200);
          const found = page.reverse().find((t) => t.role === 'customer' && PREVIEW_KINDS.has(t.kind));
          if (found) {
            latest.set(id, found);
            break;
          }
        }
      }
      return latest;
    },

    async changeMarks(watched) {
      const marks = new Map<string, ChangeMark>();
      for (const { record } of handoffs.records()) {
        if (!record.open && !watched.includes(record.conversationId)) continue;
        const conversation = await conversations.find(record.conversationId);
        if (!conversation) continue;
        marks.set(record.conversationId, {
          open: record.open,
          mark: `${record.open}|${record.claimedBy ?? ''}|${conversation.lastSeq}|${conversation.state}`,
        });
      }
      return marks;
    },
  };
}
