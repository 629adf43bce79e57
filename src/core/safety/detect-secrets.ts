import { createHash } from 'node:crypto';
import { hasValidChecksum, isChineseWord, isEnglishWord } from './bip39.js';

/** Kinds of secret the firewall removes from customer messages. Recorded by kind, never by value. */
export type SecretType = 'recovery_phrase' | 'private_key' | 'api_secret' | 'password' | 'two_factor_code';

export interface SecretFinding {
  type: SecretType;
  start: number;
  end: number;
}

/** What every stored or forwarded copy keeps instead of the secret. */
export const SECRET_MARKERS: Record<SecretType, string> = {
  recovery_phrase: '[recovery phrase removed]',
  private_key: '[private key removed]',
  api_secret: '[API secret removed]',
  password: '[password removed]',
  two_factor_code: '[2FA code removed]',
};

const MIN_PHRASE_WORDS = 12;
const MAX_PHRASE_WORDS = 24;
const MAX_GAP_CHARS = 16;

/**
 * A same-length view for matching: full-width ASCII (ｐａｓｓｗｏｒｄ，１２３４５６) folded to ASCII and
 * the ideographic space to a space, so positions in the view are positions in the original.
 */
function toMatchingView(text: string): string {
  return text.replace(/[\uff01-\uff5e\u3000]/g, (c) =>
    c === '\u3000' ? ' ' : String.fromCharCode((c.codePointAt(0) as number) - 0xfee0),
  );
}

// Between two words of a written-out phrase: spaces, line breaks, punctuation, numbering ("1.", "2)", "#3").
const PHRASE_GAP = /^[\s\d.,;:|/\\\-–—•·#"'`()[\]{}*_+=>、，。；：]*$/;
const PHRASE_CONTEXT = /seed|mnemonic|recovery|phrase|backup|wallet|words|助记词|助記詞|记忆词|恢复|恢復|种子|種子|钱包|錢包|私钥|私鑰/i;

function findPhrases(view: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  // English: runs of wordlist words separated only by phrase gaps.
  const words = [...view.matchAll(/[A-Za-z]+/g)].map((m) => ({ word: m[0], start: m.index, end: m.index + m[0].length }));
  let run: typeof words = [];
  const flush = () => {
    // A real phrase rarely repeats a word ("please help please help …" is not one).
    const distinct = new Set(run.map((w) => w.word.toLowerCase())).size;
    if (run.length >= MIN_PHRASE_WORDS && distinct >= Math.ceil(run.length * 0.8)) {
      findings.push({ type: 'recovery_phrase', start: (run[0] as (typeof words)[0]).start, end: (run.at(-1) as (typeof words)[0]).end });
    }
    run = [];
  };
  for (const w of words) {
    const previous = run.at(-1);
    const gapOk = previous ? view.slice(previous.end, w.start).length <= MAX_GAP_CHARS && PHRASE_GAP.test(view.slice(previous.end, w.start)) : true;
    if (!gapOk) flush();
    if (isEnglishWord(w.word) && w.word.length >= 3) run.push(w);
    else flush();
  }
  flush();

  // Chinese: single characters from the Chinese lists.
  const chars = [...view.matchAll(/[\u3400-\u9fff]/g)].map((m) => ({ word: m[0], start: m.index, end: m.index + 1 }));
  let cjk: typeof chars = [];
  const flushChinese = () => {
    if (cjk.length >= MIN_PHRASE_WORDS) findChinesePhrases(view, cjk, findings);
    cjk = [];
  };
  for (const c of chars) {
    const previous = cjk.at(-1);
    if (previous) {
      const gap = view.slice(previous.end, c.start);
      if (gap.length > MAX_GAP_CHARS || !PHRASE_GAP.test(gap)) flushChinese();
    }
    if (isChineseWord(c.word)) cjk.push(c);
    else flushChinese();
  }
  flushChinese();
  return findings;
}


type Char = { word: string; start: number; end: number };
const VALID_LENGTHS = [12, 15, 18, 21, 24];
const ZH_CONTEXT = '(?:助记词|助記詞|记忆词|記憶詞|助词|恢复短语|恢復短語|种子短语|種子短語|种子词|種子詞|钱包短语)';

/**
 * Chinese phrases: single characters from the Chinese lists. Written one by one with separators
 * ("的 一 是 …", "1.的 2.一 …") they count at 12+. Ordinary Chinese is mostly made of these 2,048
 * common characters, so an unseparated run counts only as a whole phrase (12-24 characters, alone or
 * right after/before "助记词") with a valid BIP-39 checksum, and, unless it is 18+ characters long,
 * only when the message speaks of a phrase or wallet.
 */
function findChinesePhrases(view: string, run: Char[], findings: SecretFinding[]): void {
  // Chunks: characters written together without any gap.
  const chunks: Char[][] = [];
  run.forEach((c, i) => {
    const previous = run[i - 1];
    if (previous && previous.end === c.start) (chunks.at(-1) as Char[]).push(c);
    else chunks.push([c]);
  });
  const add = (from: Char, to: Char) => findings.push({ type: 'recovery_phrase', start: from.start, end: to.end });
  // Separated single characters.
  let singles: Char[] = [];
  const flushSingles = () => {
    if (singles.length >= MIN_PHRASE_WORDS) add(singles[0] as Char, singles.at(-1) as Char);
    singles = [];
  };
  for (const chunk of chunks) {
    if (chunk.length === 1) singles.push(chunk[0] as Char);
    else flushSingles();
  }
  flushSingles();
  const context = PHRASE_CONTEXT.test(view);
  // Without context, a run must also not read as Chinese: random phrase characters seldom form
  // words, while ordinary sentences are mostly multi-character words.
  const accept = (chars: Char[], spaced = false) => {
    if (!VALID_LENGTHS.includes(chars.length) || !hasValidChecksum(chars.map((c) => c.word))) return false;
    if (context || spaced) return true;
    // At most one two-character word in a short phrase (random phrases: about 99%); a third at 18+.
    const share = toWordShare(chars.map((c) => c.word).join(''));
    return share * chars.length <= 2 || (chars.length >= 18 && share <= 0.34);
  };
  // Groups of characters ("的一是在 不了有和 …"): consecutive chunks making up a whole phrase.
  for (let i = 0; i < chunks.length; i++) {
    let joined: Char[] = [];
    let best: { chars: Char[]; j: number } | undefined;
    for (let j = i; j < chunks.length && joined.length < MAX_PHRASE_WORDS; j++) {
      joined = [...joined, ...(chunks[j] as Char[])];
      if ((chunks[j] as Char[]).length > 1 || j > i) {
        // Only spaces may join groups: punctuation between them is ordinary writing; the longest
        // whole phrase wins, as a shorter prefix can pass the checksum by chance.
        if (j > i && !/^[ \t]+$/.test(gapBefore(view, chunks[j] as Char[]))) break;
        if (j === i && new RegExp(ZH_CONTEXT).test(joined.map((c) => c.word).join(''))) continue;
        if (accept(joined, j > i)) best = { chars: joined, j };
      }
    }
    if (best) {
      add(best.chars[0] as Char, best.chars.at(-1) as Char);
      i = best.j;
    }
  }
  // A phrase glued to "助记词" before or after it ("是" may end the label or start the phrase).
  for (const chunk of chunks) {
    const text = chunk.map((c) => c.word).join('');
    const context = new RegExp(ZH_CONTEXT, 'g');
    for (const m of text.matchAll(context)) {
      const end = (m.index as number) + m[0].length;
      const after = [0, 1, 2].map((skip) => chunk.slice(end + skip)).find((rest) => accept(rest));
      if (after) add(after[0] as Char, after.at(-1) as Char);
      const before = [0, 1, 2, 3, 4].map((skip) => chunk.slice(0, Math.max(0, (m.index as number) - skip))).find((head) => accept(head));
      if (before) add(before[0] as Char, before.at(-1) as Char);
    }
  }
}

const SEGMENTER = new Intl.Segmenter('zh', { granularity: 'word' });

/** Share of the characters that belong to multi-character words (dictionary segmentation). */
function toWordShare(text: string): number {
  let inWords = 0;
  for (const part of SEGMENTER.segment(text)) if (part.isWordLike && part.segment.length > 1) inWords += part.segment.length;
  return inWords / Math.max(1, text.length);
}

/** The characters between a chunk and the previous Chinese character. */
function gapBefore(view: string, chunk: Array<{ start: number }>): string {
  const start = (chunk[0] as { start: number }).start;
  let i = start;
  while (i > 0 && !/[\u3400-\u9fff]/.test(view[i - 1] as string)) i--;
  return view.slice(i, start);
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function decodeBase58(value: string): Buffer | undefined {
  let n = 0n;
  for (const c of value) {
    const digit = BASE58.indexOf(c);
    if (digit < 0) return undefined;
    n = n * 58n + BigInt(digit);
  }
  const hex = n === 0n ? '' : n.toString(16);
  const body = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  const zeros = /^1*/.exec(value)?.[0].length ?? 0;
  return Buffer.concat([Buffer.alloc(zeros), body]);
}

function isWif(value: string): boolean {
  const bytes = decodeBase58(value);
  if (!bytes || (bytes.length !== 37 && bytes.length !== 38)) return false;
  if (bytes[0] !== 0x80 && bytes[0] !== 0xef) return false;
  const payload = bytes.subarray(0, bytes.length - 4);
  const check = createHash('sha256').update(createHash('sha256').update(payload).digest()).digest();
  return check.subarray(0, 4).equals(bytes.subarray(bytes.length - 4));
}

// A 64-hex string is a private key unless the message is clearly about a transaction hash (TXID),
// which has the same shape and which customers must be able to send.
const TX_CONTEXT = /\b(tx|txid|txn|tx ?hash|transaction|hash|deposit|withdraw\w*|transfer|explorer|etherscan|bscscan|tronscan|block)\b|交易|哈希|充值|提现|提幣|提币|转账|轉賬|区块|區塊|浏览器/i;
const KEY_CONTEXT = /private|priv ?key|secret|私钥|私鑰|密钥|金鑰|wallet key|import/i;

function findKeys(view: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const push = (type: SecretType, m: RegExpMatchArray, group = 0) => {
    const value = m[group] as string;
    const start = (m.index as number) + (m[0] as string).indexOf(value);
    findings.push({ type, start, end: start + value.length });
  };
  for (const m of view.matchAll(/(?<![0-9A-Za-z])(?:0x)?[0-9a-fA-F]{64}(?![0-9A-Za-z])/g)) {
    if (TX_CONTEXT.test(view) && !KEY_CONTEXT.test(view)) continue;
    push('private_key', m);
  }
  for (const m of view.matchAll(/(?<![1-9A-HJ-NP-Za-km-z])[5KLc9][1-9A-HJ-NP-Za-km-z]{50,51}(?![1-9A-HJ-NP-Za-km-z])/g)) {
    if (isWif(m[0])) push('private_key', m);
  }
  for (const m of view.matchAll(/(?<![0-9A-Za-z])[xtyzuvYZUV]prv[1-9A-HJ-NP-Za-km-z]{100,112}(?![0-9A-Za-z])/g)) push('private_key', m);
  // 64-byte keypairs (Solana and similar) in base58 …
  for (const m of view.matchAll(/(?<![1-9A-HJ-NP-Za-km-z])[1-9A-HJ-NP-Za-km-z]{85,90}(?![1-9A-HJ-NP-Za-km-z])/g)) {
    if (decodeBase58(m[0])?.length === 64) push('private_key', m);
  }
  // … or as a JSON array of 64 bytes, as wallet files store them.
  for (const m of view.matchAll(/\[\s*(?:\d{1,3}\s*,\s*){31,63}\d{1,3}\s*\]/g)) {
    const bytes = (m[0].match(/\d+/g) ?? []).map(Number);
    if ((bytes.length === 64 || bytes.length === 32) && bytes.every((b) => b <= 255)) push('private_key', m);
  }
  // Exchange API secrets, named as such …
  for (const m of view.matchAll(
    /(?:api[\s_-]*(?:secret|key)s?|secret[\s_-]*key|client[\s_-]*secret|api[\s_-]*passphrase|apikey|apisecret|access[\s_-]*key|secret|API\s*密钥|API\s*私钥|密钥|秘钥|金鑰)(?:\s*(?:is|was|are|=|:|：|是|为|為|->|=>)\s*|\s+)["'`“「]?([A-Za-z0-9+/=_-]{16,128})/gi,
  )) {
    const value = m[1] as string;
    if (/[A-Za-z]/.test(value) && /\d/.test(value)) push('api_secret', m, 1);
  }
  // … or unnamed but unmistakable: long mixed-case alphanumerics (addresses are shorter or single-case).
  for (const m of view.matchAll(/(?<![0-9A-Za-z+/=_-])[A-Za-z0-9]{48,80}(?![0-9A-Za-z+/=_-])/g)) {
    const value = m[0];
    if (/[a-z]/.test(value) && /[A-Z]/.test(value) && /\d/.test(value) && !/^0x/i.test(value)) push('api_secret', m);
  }
  return findings;
}

// Words that say something about a password rather than being it ("my password is wrong").
const NOT_A_PASSWORD = new Set(
  `not wrong incorrect correct invalid expired locked blocked reset changed compromised stolen leaked weak strong too very
the a an my your same right being still now also definitely rejected saved forgotten lost hacked working case required
needed different new old ok okay fine correctly please it this that what which when where how why there here so and or but
just only still really actually never always supposed set sent incorrectly wrongly accepted recognized recognised changing
numbers letters characters digits long short secure safe unknown missing empty blank disabled enabled frozen stuck`.split(/\s+/),
);

function looksLikePassword(value: string, strongDelimiter: boolean): boolean {
  const v = value.replace(/[.,;!?)"'”」]+$/, '');
  if (v.length < 4 || v.length > 64) return false;
  const lower = v.toLowerCase();
  if (NOT_A_PASSWORD.has(lower)) return false;
  if (/^[a-z]+$/.test(v) && (/(ed|ing|ly|ful|less|able)$/.test(lower) || isEnglishWord(lower))) return false;
  if (strongDelimiter) return true;
  return /\d/.test(v) || /[^A-Za-z0-9]/.test(v) || /[A-Z]/.test(v.slice(1)) || /^[a-z]+$/.test(v);
}

const OTP_NOT = /\b(error|promo|promotion|referral|zip|postal|post|country|swift|sort|bank|reference|ref|invite|invitation|voucher|discount|coupon|tracking|area|branch|routing|iban|bic|merchant|mcc|currency|product|item|order|status|response|reason|tax)\s*$/i;

function findCredentials(view: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const push = (type: SecretType, m: RegExpMatchArray, value: string) => {
    const start = (m.index as number) + (m[0] as string).lastIndexOf(value);
    findings.push({ type, start, end: start + value.length });
  };
  // English: "my password is …", "password: …", "pin 1234".
  for (const m of view.matchAll(
    /\b(?:login\s+|account\s+|trading\s+|fund(?:s|ing)?\s+|withdrawal\s+|email\s+|new\s+|old\s+|current\s+)?(password|passcode|passwd|pwd|pw|pin(?:\s*code)?|pass)\b(\s*(?:is|was|=|:|is:|would be|should be|is now|changed to|set to|->|=>)\s*|\s+)["'`“]?(\S{1,80})/gi,
  )) {
    const label = (m[1] as string).toLowerCase();
    const delimiter = (m[2] as string).trim().toLowerCase();
    const value = (m[3] as string).replace(/[.,;!?)"'”]+$/, '');
    const quoted = /["'`“]$/.test(m[0].slice(0, m[0].length - (m[3] as string).length));
    const strong = quoted || [':', '=', 'is:', '->', '=>'].includes(delimiter);
    if (label.startsWith('pin') || label === 'pass') {
      // A card PIN or "pass" only with digits: "pin 1234", "my pin is 0000".
      if (/^\d{4,8}$/.test(value)) push('password', m, value);
      continue;
    }
    if (!delimiter && !/\d/.test(value)) continue;
    if (looksLikePassword(value, strong)) push('password', m, value);
  }
  // Chinese: "密码是 …", "登录密码：…", "密码123456".
  for (const m of view.matchAll(/(密码|密碼|口令|PIN码|PIN碼)\s*(是|为|為|:|：|=|改成了?|改为|改為|设置为|設置為)?\s*["'“「]?([\x21-\x7e]{4,64})/g)) {
    const value = (m[3] as string).replace(/[.,;!?)"'”」]+$/, '');
    if (!m[2] && !/\d/.test(value)) continue;
    if (looksLikePassword(value, Boolean(m[2]))) push('password', m, value);
  }
  // 2FA / OTP codes, named as such.
  for (const m of view.matchAll(
    /(2fa|two[- ]?factor(?:\s+auth\w*)?|otp|one[- ]?time\s+(?:password|code|pin)|authenticator|google\s+auth\w*|verification\s+code|verify\s+code|security\s+code|sms\s+code|auth\s+code|confirmation\s+code|login\s+code|e-?mail\s+code|withdrawal\s+code|\bcode)([^\d\n]{0,24}?)(?<!\d)(\d{3}[ -]\d{3}|\d{4,8})(?![\d,.]\d)/gi,
  )) {
    const label = (m[1] as string).toLowerCase();
    const value = m[3] as string;
    if (label === 'code') {
      const before = view.slice(Math.max(0, (m.index as number) - 30), m.index as number);
      if (OTP_NOT.test(before) || !/^\d{6}$|^\d{3} \d{3}$/.test(value)) continue;
    }
    if (/(minute|min|hour|sec|day|time|attempt|usd|eur|gbp|\$|%)/i.test(view.slice((m.index as number) + m[0].length, (m.index as number) + m[0].length + 8))) continue;
    push('two_factor_code', m, value);
  }
  for (const m of view.matchAll(
    /(验证码|驗證碼|动态码|動態碼|动态密码|校验码|校驗碼|谷歌验证码?|谷歌驗證碼?|谷歌码|短信码|短信驗證碼|安全码|安全碼|二次验证码?|两步验证码?|兩步驗證碼?|一次性密码|授权码|授權碼|确认码|確認碼|认证码|認證碼|2FA码?|OTP)([^\d\n]{0,10}?)(?<!\d)(\d{4,8})(?!\d)/gi,
  )) {
    const after = view.slice((m.index as number) + m[0].length, (m.index as number) + m[0].length + 3);
    if (/^\s*(分钟|分鐘|秒|小时|小時|次|天|个|個)/.test(after)) continue;
    push('two_factor_code', m, m[3] as string);
  }
  // 2FA setup keys (base32), which let anyone generate the codes.
  for (const m of view.matchAll(
    /(?:2fa|authenticator|google\s+auth\w*|谷歌验证|谷歌驗證|二次验证|两步验证)[^\n]{0,30}?(?:secret|key|backup|setup|密钥|密鑰|备份|備份)(?:\s*(?:key|code|is|was|:|：|=|是|为|為))*\s*((?:[A-Z2-7]{4}\s?){4,8})/gi,
  )) {
    const value = (m[1] as string).trim();
    // Setup keys are shown in capitals; ordinary words after "2FA key" are not.
    if (/[A-Z]/.test(value) && value === value.toUpperCase()) push('two_factor_code', m, value);
  }
  return findings;
}

/** Finds secrets in a text: recovery phrases, private keys, API secrets, passwords and 2FA codes. */
export function detectSecrets(text: string): SecretFinding[] {
  const view = toMatchingView(text);
  const all = [...findPhrases(view), ...findKeys(view), ...findCredentials(view)].sort(
    (a, b) => a.start - b.start || b.end - a.end,
  );
  // Overlaps: keep the earliest, widest; merge a finding that starts inside the previous one.
  const merged: SecretFinding[] = [];
  for (const f of all) {
    const last = merged.at(-1);
    if (last && f.start < last.end) {
      last.end = Math.max(last.end, f.end);
      continue;
    }
    merged.push({ ...f });
  }
  return merged;
}

export interface MaskedText {
  text: string;
  /** The kinds found, each once, in order of appearance. */
  types: SecretType[];
  count: number;
}

/** Replaces every secret with its marker. The result is what may be stored, logged or forwarded. */
export function maskSecrets(text: string): MaskedText {
  const findings = detectSecrets(text);
  let masked = text;
  for (const f of [...findings].reverse()) {
    masked = `${masked.slice(0, f.start)}${SECRET_MARKERS[f.type]}${masked.slice(f.end)}`;
  }
  return { text: masked, types: [...new Set(findings.map((f) => f.type))], count: findings.length };
}
