import type { Conversation, EscalationDecision, Turn } from '../model.js';

/** What agents see first about an escalated conversation. */
export interface HandoffSummary {
  conversationId: string;
  channel: Conversation['channel'];
  customerHandle: string | null;
  language: Conversation['language'];
  priority: Conversation['priority'];
  escalation: EscalationDecision | null;
  /** One line: what the customer wants, from their own words. */
  summary: string;
  lastTurns: Array<{ role: Turn['role']; text: string }>;
  /** Knowledge entries the bot tried, with their scores, from the latest retrieval. */
  triedEntries: Array<{ entryId: string; score: number }>;
  confidence: number | null;
}

const LAST_TURNS = 6;
const SUMMARY_CHARS = 280;
const TURN_CHARS = 400;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Builds the agents' view of an escalation from the conversation's turns (oldest first). */
export function buildHandoffSummary(conversation: Conversation, turns: Turn[]): HandoffSummary {
  const visible = turns.filter((t) => !t.data.internal);
  const escalationTurn = [...visible].reverse().find((t) => t.kind === 'escalation');
  const upTo = escalationTurn ? visible.filter((t) => t.seq <= escalationTurn.seq) : visible;
  const customerTexts = upTo.filter((t) => t.role === 'customer' && t.kind !== 'action' && t.text.trim() !== '');
  const withRetrieval = [...upTo].reverse().find((t) => t.data.retrieval && t.data.retrieval.candidates.length > 0);
  const asked = customerTexts.slice(-3).map((t) => t.text.replace(/\s+/g, ' ').trim());
  return {
    conversationId: conversation.id,
    channel: conversation.channel,
    customerHandle: conversation.customerHandle,
    language: conversation.language,
    priority: conversation.priority,
    escalation: escalationTurn?.escalation ?? null,
    summary: asked.length > 0 ? clip(asked.join(' / '), SUMMARY_CHARS) : '(the customer asked for a human without a question)',
    lastTurns: upTo
      .filter((t) => t.kind !== 'greeting' && t.kind !== 'escalation')
      .slice(-LAST_TURNS)
      .map((t) => ({ role: t.role, text: clip(t.text, TURN_CHARS) })),
    triedEntries: (withRetrieval?.data.retrieval?.candidates ?? []).slice(0, 3).map((c) => ({ entryId: c.entryId, score: c.score })),
    confidence: withRetrieval?.data.retrieval?.confidence ?? null,
  };
}
