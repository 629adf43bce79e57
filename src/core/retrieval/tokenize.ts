import { toSimplifiedChinese } from '../chinese-script.js';

// Intl.Segmenter with the Chinese dictionary segments Chinese into words and still splits Latin
// text on word boundaries, so one segmenter serves mixed messages ("USDT 提现 pending").
const segmenter = new Intl.Segmenter('zh', { granularity: 'word' });

const HAN_ONLY = /^\p{Script=Han}+$/u;
const HAS_LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

const ENGLISH_STOPWORDS = new Set(
  (
    'a an the and or but if of to in on at by for with from as is are was were be been being am do does did ' +
    'i me my mine we our you your he she it its they them their this that these those there here ' +
    'what which who whom how when where why can could would should will shall may might must ' +
    'have has had having so than too very just also not no yes please hi hello hey thanks thank ' +
    'im ive id dont doesnt didnt cant wont get got any some about into out up down over again'
  ).split(' '),
);

// Particles and pronouns that carry no topic in Chinese questions.
const CHINESE_STOPWORDS = new Set(
  '的 了 吗 呢 吧 啊 呀 哦 嗯 么 我 我的 你 你们 您 他 她 它 是 在 有 和 与 就 都 也 还 又 这 那 这个 那个 怎么 怎样 如何 什么 为什么 请问 请 一下 可以 能 能不能 可不可以 要 想 会 不 没 没有 吧 哈 嘛 哪 哪里 谁'.split(
    ' ',
  ),
);

/** Lowercases, folds full-width forms (NFKC) and maps Traditional Chinese to Simplified. */
export function normalizeText(text: string): string {
  return toSimplifiedChinese(text.normalize('NFKC').toLowerCase());
}

/** A light English stemmer: enough to match "withdrawals"/"withdrawal", "locked"/"lock". */
export function stemEnglish(word: string): string {
  let w = word.replace(/'s$|'$/, '');
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('ing') && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 4) w = w.slice(0, -2);
  if (/([b-df-hj-np-tv-z])\1$/.test(w) && !/(ll|ss|zz)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  return w;
}

/** Word segments of a normalized text, with their script. */
export function segmentWords(normalized: string): Array<{ word: string; han: boolean }> {
  const words: Array<{ word: string; han: boolean }> = [];
  for (const segment of segmenter.segment(normalized)) {
    const word = segment.segment.trim();
    if (!word || !HAS_LETTER_OR_DIGIT.test(word)) continue;
    words.push({ word, han: HAN_ONLY.test(word) });
  }
  return words;
}

const CHINESE_STOP_CHARS = new Set([...'的了吗呢吧啊呀哦嗯么我你您他她它是在有和就都也还又这那请']);

/**
 * Lexical terms of a text, for BM25. Chinese runs give their characters and character bigrams
 * (the classic CJK approach: robust whatever the dictionary segments) plus dictionary words longer
 * than two characters; English words are stemmed; stopwords are dropped.
 */
export function toTerms(text: string): string[] {
  return termsOfWords(segmentWords(normalizeText(text)));
}

/** `toTerms` of a text already segmented (`segmentWords` of its `normalizeText`). */
export function termsOfWords(words: ReadonlyArray<{ word: string; han: boolean }>): string[] {
  const terms: string[] = [];
  let run: string[] = [];
  const flushRun = () => {
    for (let i = 0; i < run.length; i++) {
      const ch = run[i] as string;
      if (!CHINESE_STOP_CHARS.has(ch)) terms.push(ch);
      const next = run[i + 1];
      if (next !== undefined) terms.push(ch + next);
    }
    run = [];
  };
  for (const { word, han } of words) {
    if (han) {
      if (!CHINESE_STOPWORDS.has(word)) run.push(...word);
      else flushRun();
      if (word.length > 2 && !CHINESE_STOPWORDS.has(word)) terms.push(word);
    } else {
      flushRun();
      if (ENGLISH_STOPWORDS.has(word.replace(/'/g, ''))) continue;
      terms.push(stemEnglish(word));
    }
  }
  flushRun();
  return terms;
}
