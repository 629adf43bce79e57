import type { ConversationStore } from '../ports.js';

/**
 * Wraps a conversation store so that `listener` hears of every new turn (not of duplicates): the
 * handoff's outbox wakes at once instead of at its next poll. The store stays the source of truth.
 */
export function notifyAppends(store: ConversationStore, listener: (conversationId: string) => void): ConversationStore {
  return {
    ...store,
    async append(conversationId, turns, patch, options) {
      const result = await store.append(conversationId, turns, patch, options);
      if (!result.duplicate && result.turns.length > 0) listener(conversationId);
      return result;
    },
  };
}
