import { createHash } from 'node:crypto';
import { entropyToMnemonic } from '@scure/bip39';

/** A valid BIP-39 phrase derived from a label, so tests are repeatable (a random phrase can contain words like "secret"). */
export function seededMnemonic(label: string, wordlist: string[], strength: 128 | 256 = 128): string {
  const entropy = createHash('sha256').update(label).digest().subarray(0, strength / 8);
  return entropyToMnemonic(new Uint8Array(entropy), wordlist);
}
