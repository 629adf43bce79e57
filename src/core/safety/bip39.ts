import { createHash } from 'node:crypto';
// The BIP-39 wordlists are plain data arrays (no I/O, no SDK); the architecture test allows them in core.
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { wordlist as simplifiedChinese } from '@scure/bip39/wordlists/simplified-chinese.js';
import { wordlist as traditionalChinese } from '@scure/bip39/wordlists/traditional-chinese.js';

export const BIP39_WORDLISTS = { english, simplifiedChinese, traditionalChinese } as const;

const ENGLISH = new Map(english.map((w, i) => [w, i]));
const SIMPLIFIED = new Map(simplifiedChinese.map((w, i) => [w, i]));
const TRADITIONAL = new Map(traditionalChinese.map((w, i) => [w, i]));

export const isEnglishWord = (word: string) => ENGLISH.has(word.toLowerCase());
export const isChineseWord = (char: string) => SIMPLIFIED.has(char) || TRADITIONAL.has(char);

/** True when the words carry a valid BIP-39 checksum in one of the lists (12, 15, 18, 21 or 24 words). */
export function hasValidChecksum(words: string[]): boolean {
  if (![12, 15, 18, 21, 24].includes(words.length)) return false;
  return [ENGLISH, SIMPLIFIED, TRADITIONAL].some((list) => {
    const indices = words.map((w) => list.get(w.toLowerCase()));
    if (indices.some((i) => i === undefined)) return false;
    const bits = indices.map((i) => (i as number).toString(2).padStart(11, '0')).join('');
    const checksumBits = words.length / 3;
    const entropyBits = bits.slice(0, bits.length - checksumBits);
    const entropy = Buffer.alloc(entropyBits.length / 8);
    for (let i = 0; i < entropy.length; i++) entropy[i] = Number.parseInt(entropyBits.slice(i * 8, i * 8 + 8), 2);
    const hash = createHash('sha256').update(entropy).digest();
    const expected = Array.from(hash.subarray(0, 1))
      .map((b) => b.toString(2).padStart(8, '0'))
      .join('')
      .slice(0, checksumBits);
    return expected === bits.slice(bits.length - checksumBits);
  });
}
