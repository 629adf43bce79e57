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

/** Words that name what a correction points at, not the topic itself. */
const EN_DETERMINER = String.raw`(?:(?:my|the|a|an|about)\s+)?`;
/**
 * "I meant X, not Y" / "not Y but X" / "我是说X，不是Y" / "不是Y，是X": the customer swaps one word of
 * their earlier question. X and Y are short (a few words or Han characters): a sentence that only
 * contains "not" is no correction.
 */
const CORRECTIONS: Array<{ pattern: RegExp; meant: number; not: number }> = [
  {
    pattern: new RegExp(
      String.raw`\bmeant\s+${EN_DETERMINER}([\p{L}\p{N} ]{1,30}?)\s*,?\s*(?:and\s+)?not\s+${EN_DETERMINER}([\p{L}\p{N} ]{1,30}?)\s*[.!?]*$`,
      'iu',
    ),
    meant: 1,
    not: 2,
  },
  {
    pattern: new RegExp(
      String.raw`\bnot\s+${EN_DETERMINER}([\p{L}\p{N} ]{1,30}?)\s*,?\s*(?:but|i meant)\s+${EN_DETERMINER}([\p{L}\p{N} ]{1,30}?)\s*[.!?]*$`,
      'iu',
    ),
    meant: 2,
    not: 1,
  },
  {
    pattern:
      /(?:是说|是說|说的是|說的是|指的是|是指|问的是|問的是)\s*([\p{Script=Han}A-Za-z0-9]{1,8})\s*[，,、]?\s*(?:而)?不是\s*([\p{Script=Han}A-Za-z0-9]{1,8})\s*[。！!]*$/u,
    meant: 1,
    not: 2,
  },
  { pattern: /不是\s*([\p{Script=Han}A-Za-z0-9]{1,8})\s*[，,、]\s*(?:而)?是\s*([\p{Script=Han}A-Za-z0-9]{1,8})\s*[。！!]*$/u, meant: 2, not: 1 },
];

/**
 * A correction of the customer's own previous question ("sorry I meant my withdrawal, not deposit"
 * after "my deposit hasn't arrived") reads as that question with the word swapped: "my withdrawal
 * hasn't arrived", without the entry the bot answered it with. Undefined when the message is no correction or the previous question does not
 * contain the word taken back (then the message is read as it is).
 */
export function toCorrectedQuery(recent: Turn[], question: string): { query: string; takenBackTopic: string | undefined } | undefined {
  const correction = CORRECTIONS.map(({ pattern, meant, not }) => {
    const match = pattern.exec(question.trim());
    return match ? { meant: match[meant]?.trim(), not: match[not]?.trim() } : undefined;
  }).find((c) => c?.meant && c.not);
  if (!correction?.meant || !correction.not) return undefined;
  const newestFirst = [...recent].reverse();
  const at = newestFirst.findIndex(
    (t) => t.role === 'customer' && (t.kind === 'message' || t.kind === 'edit') && t.data.dialogueAct === undefined && t.text.trim() !== question.trim(),
  );
  const previous = newestFirst[at];
  if (!previous) return undefined;
  const taken = new RegExp(correction.not.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'iu');
  if (!taken.test(previous.text)) return undefined;
  // The entry the bot answered that question with is what the customer takes back.
  const answer = newestFirst.slice(0, at).find((t) => t.role === 'bot' && t.kind === 'answer');
  return { query: previous.text.replace(taken, correction.meant), takenBackTopic: answer?.data.retrieval?.candidates[0]?.topic };
}
