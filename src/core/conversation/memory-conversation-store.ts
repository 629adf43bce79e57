import { randomUUID } from 'node:crypto';
import type { Conversation, Turn } from '../model.js';
import type { AppendResult, ConversationContext, ConversationStore, NewConversation } from '../ports.js';

/** The longest page of turns one read returns, as the PostgreSQL store's. */
const DEFAULT_PAGE = 200;
/** How many turns after a repeated input count as what answered it (up to the customer's next turn). */
const REPEAT_REPLIES = 20;

/**
 * Conversations in memory: the store of a dry run (the console's hit test plays a question through
 * the real helpdesk without recording anything) and of core's unit tests. It keeps the port's
 * contract as the PostgreSQL store does (test/integration/store-contracts.test.ts runs both):
 * consecutive seqs, an external key stored once across all conversations, a repeat answered with
 * the input that carried the key and what followed it up to the customer's next turn, urgent first
 * by state. What it hands out are copies. `forget` drops a conversation.
 */
export function createMemoryConversationStore(): ConversationStore & { forget(id: string): void } {
  const conversations = new Map<string, Conversation>();
  const byExternal = new Map<string, string>();
  const turns = new Map<string, Turn[]>();
  const tokens = new Map<string, string | null>();
  /** External key -> the turn that carried it. */
  const keys = new Map<string, { conversationId: string; seq: number }>();

  const copy = <T>(value: T): T => structuredClone(value);

  function repeatOf(externalKey: string): AppendResult | undefined {
    const at = keys.get(externalKey);
    const conversation = at && conversations.get(at.conversationId);
    if (!at || !conversation) return undefined;
    const list = turns.get(at.conversationId) ?? [];
    const first = list[at.seq - 1] as Turn;
    const following = list.slice(at.seq, at.seq + REPEAT_REPLIES);
    const end = following.findIndex((t) => t.role === 'customer');
    return { conversation: copy(conversation), turns: copy([first, ...(end === -1 ? following : following.slice(0, end))]), duplicate: true };
  }

  return {
    async open(input: NewConversation) {
      const key = `${input.channel}\u0000${input.externalId}`;
      const existing = byExternal.get(key);
      const found = existing ? conversations.get(existing) : undefined;
      if (found) return { conversation: copy(found), created: false };
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
      return { conversation: copy(conversation), created: true };
    },

    async find(id) {
      const found = conversations.get(id);
      return found ? copy(found) : undefined;
    },

    async tokenHash(id) {
      return tokens.get(id);
    },

    async append(conversationId, newTurns, patch): Promise<AppendResult> {
      if (newTurns.length === 0) throw new Error('append needs at least one turn: every change to a conversation is logged');
      const conversation = conversations.get(conversationId);
      if (!conversation) throw new Error(`conversation ${conversationId} not found`);
      const repeated = newTurns.find((t) => t.externalKey && keys.has(t.externalKey));
      if (repeated?.externalKey) return repeatOf(repeated.externalKey) as AppendResult;
      const now = new Date();
      const stored: Turn[] = newTurns.map((t, i) => ({
        conversationId,
        seq: conversation.lastSeq + i + 1,
        role: t.role,
        kind: t.kind,
        text: t.text,
        language: t.language,
        // As JSON storage keeps it: no undefined members, nothing shared with the caller.
        data: JSON.parse(JSON.stringify(t.data ?? {})),
        answerMode: t.answerMode ?? null,
        escalation: t.escalation ? { ...t.escalation } : null,
        createdAt: now,
      }));
      turns.get(conversationId)?.push(...stored);
      stored.forEach((turn, i) => {
        const key = newTurns[i]?.externalKey;
        if (key) keys.set(key, { conversationId, seq: turn.seq });
      });
      const defined = Object.fromEntries(Object.entries(patch ?? {}).filter(([, value]) => value !== undefined));
      Object.assign(conversation, defined, { lastSeq: conversation.lastSeq + stored.length, updatedAt: now });
      return { conversation: copy(conversation), turns: copy(stored), duplicate: false };
    },

    async turns(conversationId, afterSeq, limit = DEFAULT_PAGE) {
      return copy((turns.get(conversationId) ?? []).filter((t) => t.seq > afterSeq).slice(0, limit));
    },

    async context(id, recent, externalKeys): Promise<ConversationContext | undefined> {
      const conversation = conversations.get(id);
      if (!conversation) return undefined;
      const from = Math.max(0, conversation.lastSeq - recent);
      return {
        conversation: copy(conversation),
        recentTurns: copy((turns.get(id) ?? []).filter((t) => t.seq > from).slice(0, DEFAULT_PAGE)),
        keysSeen: externalKeys.some((key) => keys.has(key)),
      };
    },

    async repeatOf(externalKey) {
      return repeatOf(externalKey);
    },

    async listByState(state) {
      return [...conversations.values()]
        .filter((c) => c.state === state)
        .sort((a, b) => Number(b.priority === 'urgent') - Number(a.priority === 'urgent') || a.updatedAt.getTime() - b.updatedAt.getTime())
        .map(copy);
    },

    forget(id) {
      const conversation = conversations.get(id);
      if (conversation) byExternal.delete(`${conversation.channel}\u0000${conversation.externalId}`);
      for (const [key, at] of keys) if (at.conversationId === id) keys.delete(key);
      conversations.delete(id);
      turns.delete(id);
      tokens.delete(id);
    },
  };
}
