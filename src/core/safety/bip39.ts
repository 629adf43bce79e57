import { hash } from 'node:crypto';
// The BIP-39 wordlists are plain data arrays (no I/O, no SDK); the architecture test allows them in core.
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { wordlist as simplifiedChinese } from '@scure/bip39/wordlists/simplified-chinese.js';
import { wordlist as traditionalChinese } from '@scure/bip39/wordlists/traditional-chinese.js';

export const BIP39_WORDLISTS = { english, simplifiedChinese, traditionalChinese } as const;

const ENGLISH = new Map(english.map((w, i) => [w, i]));
const SIMPLIFIED = new Map(simplifiedChinese.map((w, i) => [w, i]));
const TRADITIONAL = new Map(traditionalChinese.map((w, i) => [w, i]));
const LISTS = [ENGLISH, SIMPLIFIED, TRADITIONAL];

export const PHRASE_LENGTHS: readonly number[] = [12, 15, 18, 21, 24];

export const isEnglishWord = (word: string) => ENGLISH.has(word.toLowerCase());
export const isChineseWord = (char: string) => SIMPLIFIED.has(char) || TRADITIONAL.has(char);
const CHINESE_CODES = new Set([...simplifiedChinese, ...traditionalChinese].map((c) => c.charCodeAt(0)));
/** isChineseWord by UTF-16 code (every Chinese word is one character of the BMP). */
export const isChineseWordCode = (code: number) => CHINESE_CODES.has(code);

/**
 * True when the word indices (11 bits each) end with the right checksum: the first words/3 bits of
 * SHA-256 over the entropy the other bits make up. Bit arithmetic, one hash: the detector calls it
 * for many candidate windows.
 */
function checksumMatches(indices: number[]): boolean {
  const checksumBits = indices.length / 3;
  const entropyBytes = (indices.length * 11 - checksumBits) / 8;
  const bits = new Uint8Array(entropyBytes + 1);
  let position = 0;
  for (const index of indices) {
    for (let b = 10; b >= 0; b--, position++) {
      if ((index >> b) & 1) bits[position >> 3] = (bits[position >> 3] as number) | (0x80 >> (position & 7));
    }
  }
  const digest = hash('sha256', bits.subarray(0, entropyBytes), 'buffer');
  const expected = (digest[0] as number) >> (8 - checksumBits);
  const given = (bits[entropyBytes] as number) >> (8 - checksumBits);
  return expected === given;
}

/** True when the words carry a valid BIP-39 checksum in one of the lists (12, 15, 18, 21 or 24 words). */
export function hasValidChecksum(words: string[]): boolean {
  if (!PHRASE_LENGTHS.includes(words.length)) return false;
  return LISTS.some((list) => {
    const indices: number[] = [];
    for (const w of words) {
      const i = list.get(w.toLowerCase());
      if (i === undefined) return false;
      indices.push(i);
    }
    return checksumMatches(indices);
  });
}
