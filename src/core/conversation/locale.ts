import { detectChineseScript, toTraditionalChinese } from '../chinese-script.js';
import type { Locale } from '../language.js';
import type { Language, Turn, TurnData } from '../model.js';
import type { NewTurn } from '../ports.js';

/**
 * The locale the bot replies in: English, or Chinese in the script the customer writes. A message
 * whose characters both scripts share (你好, 提币) keeps the script the conversation had: the
 * customer's newest message that showed one, or the bot's newest reply that recorded one.
 */
export function decideLocale(language: Language, question: string, recent: Turn[]): Locale {
  if (language === 'en') return 'en';
  const script = detectChineseScript(question);
  if (script) return script === 'hant' ? 'zh-Hant' : 'zh-Hans';
  for (const turn of [...recent].reverse()) {
    if (turn.role === 'customer' && turn.language === 'zh') {
      const seen = detectChineseScript(turn.text);
      if (seen) return seen === 'hant' ? 'zh-Hant' : 'zh-Hans';
    }
    if (turn.role === 'bot' && turn.language === 'zh' && turn.data.locale === 'zh-Hant') return 'zh-Hant';
  }
  return 'zh-Hans';
}

/**
 * A bot or system turn as the customer reads it: Chinese texts and labels converted to Traditional
 * Chinese by OpenCC for a zh-Hant conversation (the knowledge base and the bot's own texts are
 * written in Simplified), the locale recorded so that the conversation remembers it.
 */
export function toLocaleTurn(turn: NewTurn, locale: Locale): NewTurn {
  if (locale !== 'zh-Hant' || turn.role === 'customer' || turn.language !== 'zh') return turn;
  const data: TurnData = { ...turn.data, locale: 'zh-Hant' };
  if (data.citations) data.citations = data.citations.map((c) => ({ ...c, title: toTraditionalChinese(c.title) }));
  if (data.actions) data.actions = data.actions.map((a) => ({ ...a, label: toTraditionalChinese(a.label) }));
  if (data.choices) data.choices = data.choices.map((c) => ({ ...c, title: toTraditionalChinese(c.title) }));
  if (data.noneLabel) data.noneLabel = toTraditionalChinese(data.noneLabel);
  return { ...turn, text: toTraditionalChinese(turn.text), data };
}
