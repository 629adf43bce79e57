import { createHash } from 'node:crypto';
import { entropyToMnemonic } from '@scure/bip39';

const digest = (label: string) => createHash('sha256').update(label).digest();

/** A valid BIP-39 phrase derived from a label, so tests are repeatable (a random phrase can contain words like "secret"). */
export function seededMnemonic(label: string, wordlist: string[], strength: 128 | 256 = 128): string {
  const entropy = digest(label).subarray(0, strength / 8);
  return entropyToMnemonic(new Uint8Array(entropy), wordlist);
}

/**
 * A valid 12-word phrase (its checksum is right) that repeats words: its first 11 words are
 * `distinct` different words (6 to 10). Real phrases repeat words now and then; the detector must not need
 * them all different.
 */
export function repeatedWordsMnemonic(label: string, wordlist: string[], distinct = 8): string {
  const bytes = digest(`repeated:${label}`);
  const pool = Array.from({ length: distinct }, (_, i) => ((bytes[i * 2] as number) * 256 + (bytes[i * 2 + 1] as number)) % 2048);
  // Every word of the pool once, then repeats: `distinct` different words among the first 11.
  const indices = Array.from({ length: 11 }, (_, i) => pool[i < distinct ? i : (bytes[16 + i] as number) % distinct] as number);
  // 11 words carry 121 bits; 7 more make the 128-bit entropy, whose checksum picks the last word.
  const bits = indices.map((i) => i.toString(2).padStart(11, '0')).join('') + ((bytes[31] as number) & 0x7f).toString(2).padStart(7, '0');
  const entropy = Uint8Array.from({ length: 16 }, (_, i) => Number.parseInt(bits.slice(i * 8, i * 8 + 8), 2));
  return entropyToMnemonic(entropy, wordlist);
}

/** Latin letters and the Cyrillic letters that look the same. */
export const CYRILLIC_LOOKALIKES: Record<string, string> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х', y: 'у', i: 'і' };

/** The phrase with one letter of one word (picked by the label) replaced by its Cyrillic look-alike. */
export function withLookalike(phrase: string, label: string): string {
  const words = phrase.split(' ');
  const bytes = digest(`lookalike:${label}`);
  const candidates = words.map((w, i) => ({ w, i })).filter(({ w }) => [...w].some((c) => c in CYRILLIC_LOOKALIKES));
  const { w, i } = candidates[(bytes[0] as number) % candidates.length] as { w: string; i: number };
  const positions = [...w].map((c, k) => (c in CYRILLIC_LOOKALIKES ? k : -1)).filter((k) => k >= 0);
  const k = positions[(bytes[1] as number) % positions.length] as number;
  words[i] = w.slice(0, k) + CYRILLIC_LOOKALIKES[w[k] as string] + w.slice(k + 1);
  return words.join(' ');
}
