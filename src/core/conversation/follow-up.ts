import type { Turn } from '../model.js';

/** How much of the earlier question joins a follow-up (characters): enough for its topic words. */
const EARLIER_QUESTION_MAX_CHARS = 200;

/**
 * A follow-up leans on the question the bot just answered ("how long does it take?", "可以绑定IP吗"):
 * alone it names no topic. The query that reads it in context is the question that got the bot's
 * latest answer (or the title of the entry the customer picked), then the follow-up; with the
 * topic that answer came from. Undefined when there is no such answer since the customer last said
 * it was solved or the conversation went to humans.
 */
export function toFollowUpQuery(recent: Turn[], question: string): { query: string; answeredTopic: string | undefined } | undefined {
  const newestFirst = [...recent].reverse();
  let answeredTopic: string | undefined;
  let answered = false;
  for (const [i, turn] of newestFirst.entries()) {
    if (turn.kind === 'escalation' || turn.kind === 'handoff' || (turn.role === 'customer' && turn.data.action === 'solved')) return undefined;
    if (!answered && turn.role === 'bot' && turn.kind === 'answer') {
      answered = true;
      answeredTopic = turn.data.retrieval?.candidates[0]?.topic;
      continue;
    }
    if (!answered || turn.role !== 'customer') continue;
    if (turn.kind === 'choice') {
      const clarify = newestFirst.slice(i + 1).find((t) => t.kind === 'clarify');
      const topic = clarify?.data.choices?.find((c) => c.entryId === turn.data.choice?.entryId)?.topic;
      return { query: `${turn.text} ${question}`, answeredTopic: topic };
    }
    if ((turn.kind === 'message' || turn.kind === 'edit') && turn.data.dialogueAct === undefined) {
      return { query: `${turn.text.slice(0, EARLIER_QUESTION_MAX_CHARS)} ${question}`, answeredTopic };
    }
  }
  return undefined;
}
