/**
 * `npm run transcript:verify FILE [-- --key "<name+id+key>" | --key-file PATH] [--origin ORIGIN]`
 *
 * Verifies a downloaded transcript offline with only the log's public key: the signed checkpoint,
 * every entry's inclusion proof, the conversation's chain and every turn's content. Prints the
 * readable transcript; exits 0 only when everything verifies.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { renderTranscript, type TranscriptBundle, verifyTranscript } from '../src/core/index.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { key: { type: 'string' }, 'key-file': { type: 'string' }, origin: { type: 'string' } },
});
const file = positionals[0];
if (!file) {
  console.error('usage: npm run transcript:verify FILE -- --key "<public key from GET /log/public-key>"');
  process.exit(2);
}
let bundle: TranscriptBundle;
try {
  bundle = JSON.parse(readFileSync(file, 'utf8')) as TranscriptBundle;
} catch (error) {
  console.error(`cannot read ${file}: ${(error as Error).message}`);
  process.exit(1);
}
let key = args.key ?? (args['key-file'] ? readFileSync(args['key-file'], 'utf8').trim() : undefined);
if (!key) {
  key = bundle.publicKey;
  console.error('warning: no --key given; checking against the key inside the file. Compare it with the key the exchange publishes:');
  console.error(`         ${key}`);
} else if (bundle.publicKey !== key) {
  console.error('note: the file names another key than the one given; verifying with the given key.');
}
if (args.origin && bundle.origin !== args.origin) {
  console.error(`✘ the transcript is from log "${bundle.origin}", expected "${args.origin}"`);
  process.exit(1);
}
const check = verifyTranscript(bundle, key);
process.stdout.write(renderTranscript(bundle, check));
if (!check.ok) {
  console.error(`✘ NOT VERIFIED: ${check.problems.join('; ')}`);
  process.exit(1);
}
console.error(`✔ VERIFIED: ${check.turns.length} turns in the log of ${check.treeSize} entries`);
