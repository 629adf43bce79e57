import type { Locale } from '../language.js';
import type { EscalationDecision, Turn } from '../model.js';
import { toDialogueActReply } from './dialogue-act-messages.js';
import { classifyDialogueAct, isSmallTalk, type SmallTalkAct } from './dialogue-acts.js';

/** What the bot does with a small-talk message: a short reply of its own, or (repeated abuse) a human. */
export type SmallTalkStep = { kind: 'reply'; act: SmallTalkAct; text: string } | { kind: 'escalate'; act: 'abuse'; decision: EscalationDecision };

/**
 * Decides a customer message that is small talk (greeting, thanks, "在吗", an emoji, an insult,
 * chit-chat, an off-topic request); undefined when it is a question for the usual path. Small talk
 * never goes to a human, except an insult after the calm reply to an earlier one in the recent
 * turns: that conversation needs a person. Pure.
 */
export function decideSmallTalk(question: string, recent: Turn[], locale: Locale, exchangeName: string): SmallTalkStep | undefined {
  if (question.trim() === '') return undefined;
  const act = classifyDialogueAct(question);
  if (!isSmallTalk(act)) return undefined;
  if (act === 'abuse' && abusedBefore(recent)) {
    return {
      kind: 'escalate',
      act,
      decision: { reason: 'repeated_abuse', priority: 'normal', detail: 'abusive again after a calm reply' },
    };
  }
  return { kind: 'reply', act, text: toDialogueActReply(act, locale, exchangeName) };
}

/** An earlier insult since the conversation was last with humans. */
function abusedBefore(recent: Turn[]): boolean {
  for (const turn of [...recent].reverse()) {
    if (turn.kind === 'escalation' || turn.kind === 'handoff') return false;
    if (turn.role === 'customer' && turn.data.dialogueAct === 'abuse') return true;
  }
  return false;
}
