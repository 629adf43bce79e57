import { detectChineseScript } from './chinese-script.js';
import type { Language } from './model.js';

const HAN = /\p{Script=Han}/gu;
const LATIN_LETTER = /[A-Za-z]/g;

/**
 * Detects the language of one message: Chinese when its Han characters weigh at least a twelfth of
 * its Latin letters (mixed messages such as "USDT 提现 pending" are Chinese), English otherwise, and
 * undefined when it has no letters at all (emoji, digits, an address).
 */
export function detectLanguage(text: string): Language | undefined {
  const han = text.match(HAN)?.length ?? 0;
  const latin = text.match(LATIN_LETTER)?.length ?? 0;
  if (han === 0 && latin === 0) return undefined;
  // A Han character carries about a word; mixed messages with a few Han words are Chinese.
  return han * 12 >= latin ? 'zh' : 'en';
}

const SWITCH_TO_EN = /^\s*(?:english(?:\s+please)?|in english(?:\s+please)?|speak english|请?(?:用|说)英文|英文|英语)\s*[.!。！]?\s*$/i;
const SWITCH_TO_ZH =
  /^\s*(?:chinese(?:\s+please)?|in chinese(?:\s+please)?|speak chinese|中文|请?(?:用|说)中文|简体中文|繁體中文|说中文|講中文)\s*[.!。！]?\s*$/i;

/**
 * Recognizes a message whose whole point is to switch language ("English please", "说中文"). A
 * channel's command for it (Telegram's /lang) is the channel's to read: it arrives as a language.
 */
export function detectLanguageSwitch(text: string): Language | undefined {
  if (SWITCH_TO_EN.test(text)) return 'en';
  if (SWITCH_TO_ZH.test(text)) return 'zh';
  return undefined;
}

/**
 * The language a reply is written in, with Chinese's script: what the customer reads. `Language`
 * stays the unit of retrieval and of stored conversations (Traditional is read as `zh`); a locale
 * says how a `zh` reply is written.
 */
export type Locale = 'zh-Hans' | 'zh-Hant' | 'en';

/** The locale of one message: its language, and for Chinese its script (Simplified when undecided). */
export function detectLocale(text: string): Locale | undefined {
  const language = detectLanguage(text);
  if (language !== 'zh') return language;
  return detectChineseScript(text) === 'hant' ? 'zh-Hant' : 'zh-Hans';
}

/** The language of a locale. */
export function toLanguageOf(locale: Locale): Language {
  return locale === 'en' ? 'en' : 'zh';
}
