import { detectLanguage } from '../language.js';
import type { Language } from '../model.js';
import { toTerms } from '../retrieval/tokenize.js';

/**
 * The distinct terms of an answer that do not occur in its sources: the retrieved entries only, not
 * the customer's message, so that words an injection asks for do not count as grounded.
 */
export function toUngroundedTerms(answer: string, sources: string[]): { terms: number; ungrounded: string[] } {
  const known = new Set(sources.flatMap((s) => toTerms(s)));
  const terms = [...new Set(toTerms(answer))];
  return { terms: terms.length, ungrounded: terms.filter((t) => !known.has(t)) };
}

export const MIN_GROUNDED_SHARE = 0.5;
const SHORT_ANSWER_TERMS = 8;
const SHORT_ANSWER_FREE_SHARE = 0.25;

/**
 * Why a model answer must not be sent, if it must not: it is in another language than the
 * conversation's, or too much of what it says is not in the entries it was given (a changed persona,
 * an obeyed instruction, a leaked prompt, an invention). A short answer has little room: at most a
 * quarter of its terms may be its own words.
 */
export function checkModelAnswer(answer: string, language: Language, sources: string[]): 'wrong_language' | 'ungrounded' | undefined {
  const letters = answer.replace(/[^\p{L}]/gu, '');
  if (letters.length >= 8 && detectLanguage(answer) !== language) return 'wrong_language';
  const { terms, ungrounded } = toUngroundedTerms(answer, sources);
  if (terms === 0) return undefined;
  const allowed = terms < SHORT_ANSWER_TERMS ? Math.floor(terms * SHORT_ANSWER_FREE_SHARE) : Math.floor(terms * (1 - MIN_GROUNDED_SHARE));
  return ungrounded.length > allowed ? 'ungrounded' : undefined;
}
