import type { Conversation, ConversationStore, HandoffRecord, HandoffStore, HandoffWithConversation } from '../../../src/core/index.js';

/**
 * Handoffs in memory, over the conversations of a ConversationStore (the PostgreSQL store joins
 * the conversation table). Each transition is checked and applied without an await in between, so
 * that two desks sharing it agree as two instances sharing PostgreSQL do: one claim wins, a closed
 * handoff stays closed, a reminder is marked once. `now` is the database's clock.
 */
export function createMemoryHandoffStore(
  conversations: ConversationStore,
  options: { now?: () => Date } = {},
): HandoffStore & { conversations: ConversationStore; records(): Array<{ record: HandoffRecord; changed: number }> } {
  const now = options.now ?? (() => new Date());
  const records = new Map<string, HandoffRecord>();
  /** When each handoff last changed (its row's updated_at): a counter, so that order is exact. */
  const changed = new Map<string, number>();
  let changes = 0;
  const touch = (conversationId: string) => changed.set(conversationId, ++changes);
  const copy = (record: HandoffRecord): HandoffRecord => structuredClone(record);

  /** The agents' queue: urgent first, then the longest waiting, then by conversation id (as the database orders them). */
  const queueOrder = (a: HandoffWithConversation, b: HandoffWithConversation): number =>
    Number(b.conversation.priority === 'urgent') - Number(a.conversation.priority === 'urgent') ||
    a.record.escalatedAt.getTime() - b.record.escalatedAt.getTime() ||
    (a.conversation.id < b.conversation.id ? -1 : a.conversation.id > b.conversation.id ? 1 : 0);

  /** Records with their conversations as they are now, oldest escalation first. */
  async function withConversations(list: HandoffRecord[]): Promise<HandoffWithConversation[]> {
    const rows: HandoffWithConversation[] = [];
    for (const record of list) {
      const conversation = await conversations.find(record.conversationId);
      if (conversation) rows.push({ record: copy(record), conversation });
    }
    return rows.sort((a, b) => a.record.escalatedAt.getTime() - b.record.escalatedAt.getTime());
  }

  return {
    async openPending(limit) {
      const escalated = (await conversations.listByState('escalated')).sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
      const opened: HandoffRecord[] = [];
      const open = (conversation: Conversation, record: HandoffRecord | undefined) => {
        const at = now();
        const fresh: HandoffRecord = {
          conversationId: conversation.id,
          open: true,
          openedSeq: conversation.lastSeq,
          escalatedAt: at,
          claimedBy: null,
          claimedName: null,
          remindedAt: null,
          deliveredSeq: record ? record.deliveredSeq : conversation.lastSeq,
        };
        records.set(conversation.id, fresh);
        touch(conversation.id);
        opened.push(fresh);
      };
      // New escalations get a record (up to `limit`); a re-escalation reopens the closed one.
      for (const conversation of escalated.filter((c) => !records.has(c.id)).slice(0, limit)) open(conversation, undefined);
      for (const conversation of escalated) {
        const record = records.get(conversation.id);
        if (record && !record.open) open(conversation, record);
      }
      return withConversations(opened);
    },

    async find(conversationId) {
      const record = records.get(conversationId);
      return record ? copy(record) : undefined;
    },

    async listOpen() {
      return (await withConversations([...records.values()].filter((r) => r.open))).sort(queueOrder);
    },

    async queuePlace(conversationId) {
      const queue = (await withConversations([...records.values()].filter((r) => r.open && !r.claimedBy))).sort(queueOrder);
      const ahead = queue.findIndex((h) => h.conversation.id === conversationId);
      return ahead < 0 ? undefined : { ahead, urgent: queue[ahead]?.conversation.priority === 'urgent' };
    },

    async countUnclaimedBefore(before) {
      return [...records.values()].filter((r) => r.open && !r.claimedBy && r.escalatedAt < before).length;
    },

    async claim(conversationId, agent) {
      const record = records.get(conversationId);
      if (!record?.open || record.claimedBy) return false;
      Object.assign(record, { claimedBy: agent.id, claimedName: agent.name });
      touch(conversationId);
      return true;
    },

    async close(conversationId) {
      const record = records.get(conversationId);
      if (!record?.open) return false;
      record.open = false;
      touch(conversationId);
      return true;
    },

    async markReminders(before, limit) {
      const due = [...records.values()]
        .filter((r) => r.open && !r.claimedBy && !r.remindedAt && r.escalatedAt < before)
        .sort((a, b) => a.escalatedAt.getTime() - b.escalatedAt.getTime())
        .slice(0, limit);
      const at = now();
      for (const record of due) {
        record.remindedAt = at;
        touch(record.conversationId);
      }
      return due.map(copy);
    },

    async advanceDelivered(conversationId, seq) {
      const record = records.get(conversationId);
      if (record && record.deliveredSeq < seq) record.deliveredSeq = seq;
    },

    /** For the inbox fake, which reads the same rows: the conversations these handoffs are of. */
    conversations,
    /** Every handoff, open or closed, with when it last changed. */
    records() {
      return [...records.values()].map((record) => ({ record: copy(record), changed: changed.get(record.conversationId) ?? 0 }));
    },
  };
}
