import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { entropyToMnemonic } from '@scure/bip39';
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { wordlist as simplifiedChinese } from '@scure/bip39/wordlists/simplified-chinese.js';
import { wordlist as traditionalChinese } from '@scure/bip39/wordlists/traditional-chinese.js';
import { detectSecrets, maskSecrets, type SecretType } from '../src/core/index.js';

// Measures the secret firewall: recall on generated secrets in varied wrappings, and false positives
// on real customer messages (every text of ../shared/eval, plus the starter knowledge base's questions).
// Usage: npm run safety:measure [-- --count 12000 --seed 7 --eval ../shared/eval --json]

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? (args[i + 1] as string) : fallback;
};
const COUNT = Number(option('count', '12000'));
const SEED = Number(option('seed', '7'));
const EVAL_DIR = resolve(option('eval', '../shared/eval'));
const JSON_OUT = args.includes('--json');

// Deterministic PRNG (mulberry32) so that a run can be repeated.
let state = SEED >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => pick(alphabet.split(''))).join('');

function base58(data: Buffer): string {
  let n = BigInt(`0x${data.toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = BASE58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of data) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();
const base58check = (payload: Buffer) => base58(Buffer.concat([payload, sha256(sha256(payload)).subarray(0, 4)]));

interface Sample {
  type: SecretType;
  wrapping: string;
  text: string;
  /** The secret as it appears in the text; recall counts it only if no piece of it survives. */
  pieces: string[];
  /** The customer's previous message as stored (screened): the text is the second message. */
  before?: string;
}

// ---------- generators ----------
function phrase(list: string[], words: number): string[] {
  return entropyToMnemonic(bytes((words / 3) * 4), list).split(/[\s\u3000]+/);
}

/** A valid 12-word phrase whose first 11 words are 6 to 9 different words (its checksum decides). */
function repeatedPhrase(list: string[]): string[] {
  const distinct = 6 + Math.floor(random() * 4);
  const pool = Array.from({ length: distinct }, () => Math.floor(random() * 2048));
  const indices = Array.from({ length: 11 }, (_, i) => pool[i < distinct ? i : Math.floor(random() * distinct)] as number);
  const bits =
    indices.map((i) => i.toString(2).padStart(11, '0')).join('') +
    Math.floor(random() * 128)
      .toString(2)
      .padStart(7, '0');
  const entropy = Uint8Array.from({ length: 16 }, (_, i) => Number.parseInt(bits.slice(i * 8, i * 8 + 8), 2));
  return entropyToMnemonic(entropy, list).split(' ');
}

const LOOKALIKES: Record<string, string> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х', y: 'у', i: 'і' };
/** The words with one Latin letter of one word replaced by its Cyrillic look-alike. */
function withLookalike(words: string[]): string[] {
  const candidates = words.map((_w, i) => i).filter((i) => [...(words[i] as string)].some((c) => c in LOOKALIKES));
  const i = pick(candidates);
  const w = words[i] as string;
  const k = pick([...w].map((c, k) => (c in LOOKALIKES ? k : -1)).filter((k) => k >= 0));
  return words.map((x, j) => (j === i ? w.slice(0, k) + LOOKALIKES[w[k] as string] + w.slice(k + 1) : x));
}

const EN_PHRASE_WRAPS: Array<[string, (w: string[]) => string]> = [
  ['spaces', (w) => w.join(' ')],
  ['sentence', (w) => `Hi, support asked me to confirm my wallet. My seed phrase is: ${w.join(' ')}. Can you check my withdrawal?`],
  ['lines', (w) => w.join('\n')],
  ['numbered lines', (w) => w.map((x, i) => `${i + 1}. ${x}`).join('\n')],
  ['numbered inline', (w) => w.map((x, i) => `${i + 1}) ${x}`).join(' ')],
  ['numbered dash', (w) => w.map((x, i) => `${i + 1}-${x}`).join(' ')],
  ['commas', (w) => w.join(', ')],
  ['json array', (w) => JSON.stringify(w)],
  ['upper case', (w) => w.join(' ').toUpperCase()],
  ['title case', (w) => w.map((x) => x[0]?.toUpperCase() + x.slice(1)).join(' ')],
  ['tabs and pipes', (w) => w.join(pick(['\t', ' | ', ' / ', ' - ']))],
  ['two columns', (w) => w.map((x, i) => `${i + 1}.${x}${i % 2 ? '\n' : '\t'}`).join('')],
  ['quoted in Chinese sentence', (w) => `客服让我提供助记词：“${w.join(' ')}”，请尽快处理`],
  ['one Cyrillic look-alike letter', (w) => `my seed phrase: ${withLookalike(w).join(' ')}`],
  ['one Cyrillic look-alike letter, bare', (w) => withLookalike(w).join(' ')],
];
const ZH_PHRASE_WRAPS: Array<[string, (w: string[]) => string]> = [
  ['spaces', (w) => w.join(' ')],
  ['sentence with 助记词', (w) => `我的助记词是${w.join('')}，请帮我找回资产`],
  ['after colon', (w) => `助记词：${w.join('')}`],
  ['ideographic spaces', (w) => w.join('\u3000')],
  ['numbered', (w) => w.map((x, i) => `${i + 1}.${x}`).join(' ')],
  ['lines', (w) => w.join('\n')],
  ['commas', (w) => w.join('，')],
  [
    'groups of three',
    (w) =>
      w
        .map((x, i) => x + ((i + 1) % 3 === 0 ? ' ' : ''))
        .join('')
        .trim(),
  ],
  ['wallet context', (w) => `钱包恢复不了，这是我的: ${w.join('')}`],
  ['bare, no context', (w) => w.join('')],
  ['glued into a sentence', (w) => `我的助记词是${w.join('')}${pick(['请帮我找回钱包', '谢谢', '怎么办啊', '帮我看看是不是被盗了'])}`],
];

function recoveryPhrase(): Sample {
  const words = pick([12, 12, 12, 15, 18, 21, 24, 24]);
  const lang = pick(['en', 'en', 'zh-Hans', 'zh-Hant']);
  const list = lang === 'en' ? english : lang === 'zh-Hans' ? simplifiedChinese : traditionalChinese;
  const shape = random();
  if (shape < 0.1) return repeatedWords(lang, list);
  if (shape < 0.2) return splitOverTwoMessages(lang, list, words);
  const w = phrase(list, words);
  const [name, wrap] = pick(lang === 'en' ? EN_PHRASE_WRAPS : ZH_PHRASE_WRAPS);
  const text = wrap(w);
  // A piece: any run of 3 consecutive words written as in the text would leak part of the phrase.
  const pieces = lang === 'en' ? w.map((x) => x.toLowerCase()) : w;
  return { type: 'recovery_phrase', wrapping: `${lang} ${words} words, ${name}`, text, pieces };
}

function repeatedWords(lang: string, list: string[]): Sample {
  const w = repeatedPhrase(list);
  const join = lang === 'en' ? ' ' : pick([' ', '']);
  const text = pick([w.join(join), `${lang === 'en' ? 'my recovery phrase is' : '我的助记词是'} ${w.join(join)}`]);
  return { type: 'recovery_phrase', wrapping: `${lang} 12 words, repeated words (valid checksum)`, text, pieces: w };
}

/**
 * A phrase split over two consecutive messages: the first is screened alone (as stored), the second
 * with it. Recall counts the second message: the part in the first (under 12 words, where the split
 * leaves fewer) is stored with it, as the README says.
 */
function splitOverTwoMessages(lang: string, list: string[], words: number): Sample {
  const w = phrase(list, words);
  const cut = 3 + Math.floor(random() * (w.length - 6));
  const en = lang === 'en';
  const separator = en ? ' ' : pick(['', ' ']);
  const join = (part: string[]) => part.join(separator);
  const first = maskSecrets(`${en ? pick(['my seed phrase is ', 'words: ', '']) : pick(['我的助记词是', '助记词：', ''])}${join(w.slice(0, cut))}`).text;
  const rest = w.slice(cut);
  return { type: 'recovery_phrase', wrapping: `${lang} ${words} words, split over two messages`, text: join(rest), pieces: rest, before: first };
}

const KEY_SENTENCES = [
  (k: string) => k,
  (k: string) => `my private key is ${k}`,
  (k: string) => `Here is the key of my wallet:\n${k}\nplease recover my funds`,
  (k: string) => `私钥：${k}`,
  (k: string) => `"${k}"`,
  (k: string) => `I imported ${k} into the app and my balance is gone`,
  (k: string) => `my deposit failed, my key is ${k}`,
  (k: string) => `提现一直没到账，我的私钥是 ${k}`,
];
function privateKey(): Sample {
  const kind = pick(['hex', 'hex0x', 'wif', 'wifc', 'xprv', 'sol', 'bytes']);
  let key: string;
  if (kind === 'hex') key = bytes(32).toString('hex');
  else if (kind === 'hex0x') key = `0x${bytes(32).toString('hex')}`;
  else if (kind === 'wif') key = base58check(Buffer.concat([Buffer.from([0x80]), bytes(32)]));
  else if (kind === 'wifc') key = base58check(Buffer.concat([Buffer.from([0x80]), bytes(32), Buffer.from([1])]));
  else if (kind === 'xprv') key = base58check(Buffer.concat([Buffer.from('0488ade4', 'hex'), bytes(74)]));
  else if (kind === 'sol') key = base58(Buffer.concat([Buffer.from([1 + Math.floor(random() * 255)]), bytes(63)]));
  else key = JSON.stringify([...bytes(64)]);
  const wrap = pick(KEY_SENTENCES);
  return { type: 'private_key', wrapping: kind, text: wrap(key), pieces: [key] };
}

function apiSecret(): Sample {
  const secret = chars(ALNUM, 64).replace(/^(.)(.)(.)/, 'aZ7');
  const key = chars(ALNUM, 64);
  const wraps: Array<[string, string]> = [
    ['labelled', `API secret: ${secret}`],
    ['key and secret', `apiKey=${key} secretKey=${secret}`],
    ['bare', secret],
    ['Chinese', `我的API密钥是${secret}，被盗用了`],
    ['sentence', `Someone used my api key. The secret is ${secret}`],
    ['hex secret', `secret key: ${bytes(24).toString('hex')}`],
  ];
  const [name, text] = pick(wraps);
  const piece = name === 'hex secret' ? (text.split(' ').at(-1) as string) : secret;
  return { type: 'api_secret', wrapping: name, text, pieces: [piece] };
}

function password(): Sample {
  const value =
    chars('abcdefghijkmnpqrstuvwxyz', 3 + Math.floor(random() * 5)) +
    chars('ABCDEFGHJKLMNPQRSTUVWXYZ', Math.floor(random() * 2)) +
    chars('0123456789', 1 + Math.floor(random() * 4)) +
    (random() < 0.4 ? pick(['!', '@', '#', '$', '%', '&', '*', '?']) : '');
  const wraps: Array<[string, string]> = [
    ['my password is', `my password is ${value}`],
    ['password colon', `password: ${value}`],
    ['login password', `My login password is "${value}" and it says wrong password`],
    ['pwd=', `email me@example.com pwd=${value}`],
    ['fund password', `fund password: ${value}`],
    ['密码是', `密码是${value}`],
    ['登录密码：', `登录密码：${value}，账号被锁了`],
    ['密码 space', `我的密码 ${value} 登不上去`],
    ['pin', `my pin is ${chars('0123456789', 6)}`],
  ];
  const [name, text] = pick(wraps);
  const piece = name === 'pin' ? (text.split(' ').at(-1) as string) : value;
  return { type: 'password', wrapping: name, text, pieces: [piece] };
}

function twoFactorCode(): Sample {
  const code = chars('0123456789', pick([6, 6, 6, 8]));
  const spaced = code.length === 6 ? `${code.slice(0, 3)} ${code.slice(3)}` : code;
  const wraps: Array<[string, string, string]> = [
    ['2FA code is', `my 2FA code is ${code}`, code],
    ['Google Authenticator', `Google Authenticator code: ${spaced}`, spaced],
    ['verification code I got', `the verification code I got is ${code}, please unlock`, code],
    ['OTP', `OTP ${code}`, code],
    ['验证码', `验证码 ${code}`, code],
    ['短信验证码是', `短信验证码是${code}`, code],
    ['谷歌验证码：', `谷歌验证码：${code}`, code],
    ['code is', `Here is the code: ${code.slice(0, 6)}`, code.slice(0, 6)],
    ['2FA secret key', `my 2FA backup key is ${chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`, ''],
  ];
  const [name, text, piece] = pick(wraps);
  return { type: 'two_factor_code', wrapping: name, text, pieces: [piece || (text.split(' ').at(-1) as string)] };
}

function leaked(sample: Sample, masked: string): boolean {
  if (sample.type !== 'recovery_phrase') return sample.pieces.some((p) => p && masked.includes(p));
  // A phrase leaks when 3 of its words survive in a row (as words of the masked text).
  const isZh = /[\u3400-\u9fff]/.test(sample.pieces[0] ?? '');
  const tokens = isZh ? [...masked].filter((c) => /[\u3400-\u9fff]/.test(c)) : (masked.toLowerCase().match(/[a-z]+/g) ?? []);
  const words = sample.pieces;
  for (let i = 0; i + 3 <= words.length; i++) {
    const piece = words.slice(i, i + 3).join(' ');
    for (let j = 0; j + 3 <= tokens.length; j++) if (tokens.slice(j, j + 3).join(' ') === piece) return true;
  }
  return false;
}

// ---------- recall ----------
const generators = [recoveryPhrase, recoveryPhrase, privateKey, apiSecret, password, twoFactorCode];
const byType = new Map<string, { total: number; caught: number }>();
const byWrapping = new Map<string, { total: number; caught: number }>();
const misses: string[] = [];
let caught = 0;
const started = performance.now();
for (let i = 0; i < COUNT; i++) {
  const sample = (generators[i % generators.length] as () => Sample)();
  const masked = maskSecrets(sample.text, sample.before ? { before: sample.before } : {}).text;
  const ok = !leaked(sample, masked);
  if (ok) caught++;
  else if (misses.length < 10) misses.push(`${sample.type} / ${sample.wrapping}: ${JSON.stringify(sample.text.slice(0, 120))}`);
  for (const [map, key] of [
    [byType, sample.type],
    [byWrapping, `${sample.type}: ${sample.wrapping.replace(/ \d+ words/, '')}`],
  ] as const) {
    const entry = map.get(key) ?? { total: 0, caught: 0 };
    entry.total++;
    if (ok) entry.caught++;
    map.set(key, entry);
  }
}
const recallMs = performance.now() - started;

// ---------- false positives on real customer messages ----------
const texts: Array<{ source: string; text: string }> = [];
if (existsSync(EVAL_DIR)) {
  for (const set of readdirSync(EVAL_DIR, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of ['kb.jsonl', 'dev.jsonl']) {
      const path = join(EVAL_DIR, set.name, file);
      if (!existsSync(path)) continue;
      for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
        const row = JSON.parse(line) as { text?: string; questions?: string[]; answer?: string };
        for (const text of [row.text, ...(row.questions ?? []), row.answer]) {
          if (text) texts.push({ source: `eval/${set.name}/${file}`, text });
        }
      }
    }
  }
} else {
  console.error(`no evaluation data at ${EVAL_DIR}: pass --eval <dir>`);
}
const fixture = resolve('test/fixtures/starter-kb-questions.jsonl');
const starter: string[] = existsSync(fixture)
  ? readFileSync(fixture, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { text: string }).text)
  : [];
const flagged: Array<{ source: string; text: string; types: SecretType[] }> = [];
for (const { source, text } of texts) {
  const findings = detectSecrets(text);
  if (findings.length > 0) flagged.push({ source, text, types: [...new Set(findings.map((f) => f.type))] });
}
const starterFlagged = starter.filter((t) => detectSecrets(t).length > 0);
// The same messages read with the one before them (the split-phrase check): consecutive lines of
// the sets, which group similar questions together.
const pairFlagged: Array<{ before: string; text: string }> = [];
texts.forEach(({ text }, i) => {
  const before = texts[i - 1]?.text;
  if (before && detectSecrets(text, { before }).length > 0) pairFlagged.push({ before, text });
});
// Right after a message whose phrase was removed, a message of 3-12 wordlist words is taken for its rest.
const afterPhrase = texts.filter(({ text }) => detectSecrets(text, { before: '[recovery phrase removed]' }).length > 0);

const recall = caught / COUNT;
const fpRate = texts.length ? flagged.length / texts.length : Number.NaN;
const report = {
  generatedSecrets: COUNT,
  caught,
  recall: Number(recall.toFixed(5)),
  recallByType: Object.fromEntries([...byType].map(([k, v]) => [k, `${v.caught}/${v.total}`])),
  weakestWrappings: [...byWrapping]
    .map(([k, v]) => ({ wrapping: k, recall: v.caught / v.total, n: v.total }))
    .sort((a, b) => a.recall - b.recall)
    .slice(0, 5),
  customerMessages: texts.length,
  falsePositives: flagged.length,
  falsePositiveRate: Number(fpRate.toFixed(5)),
  falsePositiveExamples: flagged.slice(0, 10),
  starterKbQuestions: { texts: starter.length, flagged: starterFlagged.length },
  withPreviousMessage: { pairs: Math.max(0, texts.length - 1), falsePositives: pairFlagged.length, examples: pairFlagged.slice(0, 5) },
  rightAfterARemovedPhrase: { messages: texts.length, takenForItsRest: afterPhrase.length, examples: afterPhrase.slice(0, 5).map((t) => t.text) },
  msPerMessage: Number((recallMs / COUNT).toFixed(3)),
};
if (JSON_OUT) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(`secret firewall, seed ${SEED}`);
  console.log(`recall: ${caught}/${COUNT} generated secrets removed = ${(recall * 100).toFixed(2)}%`);
  for (const [type, v] of byType) console.log(`  ${type.padEnd(16)} ${v.caught}/${v.total}`);
  console.log('  weakest wrappings:');
  for (const w of report.weakestWrappings) console.log(`    ${w.wrapping}: ${(w.recall * 100).toFixed(1)}% of ${w.n}`);
  if (misses.length) console.log(`  first misses:\n    ${misses.join('\n    ')}`);
  console.log(`false positives: ${flagged.length}/${texts.length} real customer messages (${EVAL_DIR}) = ${(fpRate * 100).toFixed(3)}%`);
  for (const f of flagged.slice(0, 10)) console.log(`    [${f.types.join(',')}] ${f.source}: ${JSON.stringify(f.text)}`);
  console.log(`starter knowledge-base questions (zh/en): ${starterFlagged.length}/${starter.length} flagged`);
  console.log(`with the previous message (split-phrase check): ${pairFlagged.length}/${report.withPreviousMessage.pairs} consecutive pairs flagged`);
  for (const f of pairFlagged.slice(0, 5)) console.log(`    ${JSON.stringify(f.before)} + ${JSON.stringify(f.text)}`);
  console.log(
    `right after a removed phrase, taken for its rest: ${afterPhrase.length}/${texts.length} (${((afterPhrase.length / Math.max(1, texts.length)) * 100).toFixed(2)}%; only applies to the message after one whose phrase was removed)`,
  );
  console.log(`${report.msPerMessage} ms per message`);
}
process.exitCode = recall >= 0.999 && fpRate <= 0.001 && pairFlagged.length === 0 ? 0 : 1;
