import type { Language, OfferedChoice, RetrievedEntry, StoredEntry, Turn } from '../model.js';

/** At most this many entries are offered when the bot is not sure. */
export const MAX_CHOICES = 3;

/**
 * The entries a `clarify` turn offers: the closest candidates, one per topic, each in the
 * customer's language when the entry has a translation.
 */
export function toChoices(candidates: RetrievedEntry[], entries: StoredEntry[], language: Language): OfferedChoice[] {
  const choices: OfferedChoice[] = [];
  for (const candidate of candidates) {
    if (choices.length >= MAX_CHOICES) break;
    const ofTopic = entries.filter((e) => e.topic === candidate.topic);
    const entry = ofTopic.find((e) => e.lang === language) ?? ofTopic[0];
    if (entry) choices.push({ entryId: entry.id, title: entry.title, topic: entry.topic });
  }
  return choices;
}

// Turns that leave the question in the air: the customer's own, small talk, the firewall's warnings.
const isAside = (turn: Turn) => turn.role === 'customer' || turn.data.dialogueAct !== undefined || (turn.role === 'bot' && turn.kind === 'notice');

/**
 * The bot's newest step, small talk and warnings aside, was a `clarify` the customer did not pick
 * from: a new miss now is the second in a row.
 */
export function followsUnansweredClarify(recent: Turn[]): boolean {
  for (const turn of [...recent].reverse()) {
    if (turn.kind === 'clarify') return true;
    if (turn.kind === 'choice') return false;
    if (!isAside(turn)) return false;
  }
  return false;
}

/**
 * The offered choice a pick refers to, in the newest `clarify` turn still open (no pick after it),
 * with the customer turn that asked the question. Undefined when no open clarify offers that entry.
 */
export function findOfferedChoice(
  recent: Turn[],
  entryId: string | null,
): { clarify: Turn; choice: OfferedChoice | null; question: Turn | undefined } | undefined {
  const newestFirst = [...recent].reverse();
  const at = newestFirst.findIndex((t) => t.kind === 'clarify' || t.kind === 'choice' || t.kind === 'escalation');
  const clarify = newestFirst[at];
  if (clarify?.kind !== 'clarify') return undefined;
  const question = newestFirst.slice(at + 1).find((t) => t.role === 'customer' && (t.kind === 'message' || t.kind === 'edit'));
  if (entryId === null) return { clarify, choice: null, question };
  const choice = clarify.data.choices?.find((c) => c.entryId === entryId);
  return choice ? { clarify, choice, question } : undefined;
}

export function toClarifyText(language: Language): string {
  return language === 'zh'
    ? '抱歉，我不太确定您指的是哪个问题。是下面其中一个吗？请点选最接近的一项：'
    : "I'm not sure I understood. Is it one of these? Pick the closest:";
}

export function toNoneLabel(language: Language): string {
  return language === 'zh' ? '都不是：转人工客服' : 'None of these: talk to a human';
}

/** A pick that matches no open choice (an old keyboard, a forged button): a polite way on. */
export function toUnknownChoiceReply(language: Language): string {
  return language === 'zh'
    ? '这个选项已经失效了。请直接用文字描述您的问题，或输入「人工」联系人工客服。'
    : 'That option is no longer available. Please describe your question in a few words, or type "human" to reach a person.';
}
