/**
 * `npm run transcript:verify FILE [-- --key "<name+id+key>" | --key-file PATH] [--origin ORIGIN] [--lang zh|en]`
 *
 * Verifies a downloaded transcript offline with only the log's public key (the same core verifier
 * the /verify-transcript page runs): the bundle's shape, the signed checkpoint, every entry's
 * inclusion proof and receipt, the conversation's chain, every turn's content and erasure. Prints
 * what the verified entries say (never text the file merely carries), the checkpoint and the key to
 * compare, in Chinese or English (--lang, else LANG); exits 0 only when everything verifies.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeTranscript, renderTranscriptText, toTranscriptLanguage, verifyTranscript } from '../src/core/index.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { key: { type: 'string' }, 'key-file': { type: 'string' }, origin: { type: 'string' }, lang: { type: 'string' } },
});
if (args.lang !== undefined && args.lang !== 'zh' && args.lang !== 'en') {
  console.error('--lang must be zh or en');
  process.exit(2);
}
// POSIX locale precedence; an empty variable counts as unset.
const lang = toTranscriptLanguage(args.lang || process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG);
const file = positionals[0];
if (!file) {
  console.error('usage: npm run transcript:verify FILE -- --key "<public key from GET /log/public-key>" [--lang zh|en]');
  process.exit(2);
}
let bundle: unknown;
let key: string | undefined;
try {
  bundle = JSON.parse(readFileSync(file, 'utf8'));
  key = args.key ?? (args['key-file'] ? readFileSync(args['key-file'], 'utf8').trim() : undefined);
} catch (error) {
  console.error(`${lang === 'zh' ? '无法读取' : 'cannot read'}: ${(error as Error).message}`);
  process.exit(1);
}
const report = await verifyTranscript(bundle, { key, ...(args.origin !== undefined ? { origin: args.origin } : {}) });
const view = describeTranscript(report, lang);
process.stdout.write(renderTranscriptText(view));
console.error(view.verdict);
process.exit(report.ok ? 0 : 1);
