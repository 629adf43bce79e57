import { randomUUID } from 'node:crypto';
import type { Conversation, Turn } from '../model.js';
import type { AppendResult, ConversationStore, NewConversation } from '../ports.js';

/**
 * Conversations in memory: the store of a dry run (the console's hit test plays a question through
 * the real helpdesk without recording anything) and of tests. `forget` drops a conversation.
 */
export function createMemoryConversationStore(): ConversationStore & { forget(id: string): void } {
  const conversations = new Map<string, Conversation>();
  const byExternal = new Map<string, string>();
  const turns = new Map<string, Turn[]>();
  const tokens = new Map<string, string | null>();
  const keys = new Map<string, Turn[]>();

  return {
    async open(input: NewConversation) {
      const key = `${input.channel}\u0000${input.externalId}`;
      const existing = byExternal.get(key);
      const found = existing ? conversations.get(existing) : undefined;
      if (found) return { conversation: { ...found }, created: false };
      const now = new Date();
      const conversation: Conversation = {
        id: randomUUID(),
        channel: input.channel,
        externalId: input.externalId,
        language: input.language,
        languageChosen: false,
        state: 'bot',
        priority: 'normal',
        escalationReason: null,
        customerHandle: input.customerHandle ?? null,
        lastSeq: 0,
        createdAt: now,
        updatedAt: now,
      };
      conversations.set(conversation.id, conversation);
      byExternal.set(key, conversation.id);
      turns.set(conversation.id, []);
      tokens.set(conversation.id, input.tokenHash);
      return { conversation: { ...conversation }, created: true };
    },

    async find(id) {
      const found = conversations.get(id);
      return found ? { ...found } : undefined;
    },

    async tokenHash(id) {
      return tokens.get(id);
    },

    async append(conversationId, newTurns, patch): Promise<AppendResult> {
      const conversation = conversations.get(conversationId);
      if (!conversation) throw new Error(`conversation ${conversationId} not found`);
      const repeated = newTurns.find((t) => t.externalKey && keys.has(t.externalKey));
      if (repeated?.externalKey) return { conversation: { ...conversation }, turns: keys.get(repeated.externalKey) ?? [], duplicate: true };
      const now = new Date();
      const stored: Turn[] = newTurns.map((t, i) => ({
        conversationId,
        seq: conversation.lastSeq + i + 1,
        role: t.role,
        kind: t.kind,
        text: t.text,
        language: t.language,
        data: t.data ?? {},
        answerMode: t.answerMode ?? null,
        escalation: t.escalation ?? null,
        createdAt: now,
      }));
      turns.get(conversationId)?.push(...stored);
      for (const t of newTurns) if (t.externalKey) keys.set(t.externalKey, stored);
      Object.assign(conversation, patch ?? {}, { lastSeq: conversation.lastSeq + stored.length, updatedAt: now });
      return { conversation: { ...conversation }, turns: stored, duplicate: false };
    },

    async turns(conversationId, afterSeq, limit) {
      const list = (turns.get(conversationId) ?? []).filter((t) => t.seq > afterSeq);
      return limit === undefined ? list : list.slice(0, limit);
    },

    async listByState(state) {
      return [...conversations.values()].filter((c) => c.state === state).map((c) => ({ ...c }));
    },

    forget(id) {
      const conversation = conversations.get(id);
      if (conversation) byExternal.delete(`${conversation.channel}\u0000${conversation.externalId}`);
      for (const [key, list] of keys) if (list[0]?.conversationId === id) keys.delete(key);
      conversations.delete(id);
      turns.delete(id);
      tokens.delete(id);
    },
  };
}
