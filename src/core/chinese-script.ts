// OpenCC's dictionaries are plain data with a pure converter (no I/O, no SDK); the architecture
// test allows opencc-js and its dictionaries in core for that reason.
import { Converter } from 'opencc-js';
import simplifiedToTraditionalCharacters from 'opencc-js/dict/STCharacters';
import traditionalToSimplifiedCharacters from 'opencc-js/dict/TSCharacters';

/** The two ways of writing Chinese: Simplified (mainland, Singapore) and Traditional (Taiwan, Hong Kong, Macau). */
export type ChineseScript = 'hans' | 'hant';

// Character for character, both ways, in Taiwan's standard forms (Hong Kong's variants such as 裏
// and 綫 are folded too); OpenCC's phrases serve only to pick among several characters (头发 頭髮,
// 发现 發現), never to change words. OpenCC's phrase tables ('twp') were measured and not kept: they rewrite words of
// Simplified text that happen to be Taiwanese phrases (文件 becomes 文档), which a message in either
// script may contain, and turn product terms into another region's vocabulary (审核 becomes 稽核);
// with them the starter test set's answered-correctly share was 82.0% against 82.5% without.
// Built on first use: the Simplified-to-Traditional converter loads OpenCC's phrase table (about
// 1.6 s of CPU on a loaded 2-core machine, 0.2 s the other way), which a process that never writes
// Traditional Chinese should not pay at start.
let traditionalToSimplified: ((text: string) => string) | undefined;
let simplifiedToTraditional: ((text: string) => string) | undefined;

/** Traditional Chinese to Simplified, character by character; Simplified text and everything else as it is. */
export function toSimplifiedChinese(text: string): string {
  const convert = (traditionalToSimplified ??= Converter({ from: 'tw', to: 'cn' }));
  return convert(text);
}

/** Simplified Chinese to Traditional (Taiwan's standard characters); everything else as it is. */
export function toTraditionalChinese(text: string): string {
  const convert = (simplifiedToTraditional ??= Converter({ from: 'cn', to: 'tw' }));
  return convert(text);
}

/** The characters of one script that the other writes differently: sources that are not among their own targets. */
function toScriptOnly(dictionary: string): Set<string> {
  const only = new Set<string>();
  for (const pair of dictionary.split('|')) {
    const [source, ...targets] = pair.split(' ');
    if (source && !targets.includes(source)) only.add(source);
  }
  return only;
}
let traditionalOnlyCharacters: Set<string> | undefined;
let simplifiedOnlyCharacters: Set<string> | undefined;

const HAN = /\p{Script=Han}/u;
const SCRIPT_SAMPLE_CHARS = 200;

/**
 * Which script a Chinese text is written in: Traditional when it holds more characters that exist
 * only in Traditional (們, 這, 帳) than characters that exist only in Simplified (们, 这, 账);
 * undefined when it holds neither (no Chinese, or only characters both scripts share: 你好, 提币).
 * A tie goes to Simplified, the knowledge base's own script.
 */
export function detectChineseScript(text: string): ChineseScript | undefined {
  traditionalOnlyCharacters ??= toScriptOnly(traditionalToSimplifiedCharacters);
  simplifiedOnlyCharacters ??= toScriptOnly(simplifiedToTraditionalCharacters);
  let traditionalOnly = 0;
  let simplifiedOnly = 0;
  let seen = 0;
  for (const ch of text) {
    if (!HAN.test(ch)) continue;
    // A message's opening shows its script; a long one costs no more than that.
    if (++seen > SCRIPT_SAMPLE_CHARS) break;
    if (traditionalOnlyCharacters.has(ch)) traditionalOnly++;
    else if (simplifiedOnlyCharacters.has(ch)) simplifiedOnly++;
  }
  if (traditionalOnly === 0 && simplifiedOnly === 0) return undefined;
  return traditionalOnly > simplifiedOnly ? 'hant' : 'hans';
}
