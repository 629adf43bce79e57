import { createHash } from 'node:crypto';
import type { SecretKind } from '../model.js';
import { hasValidChecksum as checksumOf, isChineseWordCode, isEnglishWord, PHRASE_LENGTHS } from './bip39.js';
import { toMatchingView } from './matching-view.js';

/** Kinds of secret the firewall removes from customer messages. Recorded by kind, never by value. */
export type SecretType = SecretKind;

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
/** Mentions of "助记词" (and the like) examined per message: enough for any customer, bounded for a hostile text. */
const MAX_CONTEXT_MENTIONS = 8;
/**
 * Candidate phrases whose checksum is computed per message. An ordinary message needs none to a
 * few dozen; the bound keeps a hostile one (thousands of space-separated character groups, of
 * "助记词") from costing thousands of hashes.
 */
const MAX_CHECKSUMS = 256;

/** Per-message work counters (see MAX_CONTEXT_MENTIONS and MAX_CHECKSUMS). */
interface Budget {
  checksums: number;
  mentions: number;
}

/** hasValidChecksum within the message's budget: false once it is spent. */
function hasValidChecksum(words: string[], budget: Budget): boolean {
  if (!PHRASE_LENGTHS.includes(words.length) || budget.checksums <= 0) return false;
  budget.checksums--;
  return checksumOf(words);
}

// Between two words of a written-out phrase: spaces, line breaks, punctuation, numbering ("1.", "2)", "#3").
const PHRASE_GAP = /^[\s\d.,;:|/\\\-–—•·#"'`()[\]{}*_+=>、，。；：]*$/;
const PHRASE_CONTEXT = /seed|mnemonic|recovery|phrase|backup|wallet|words|助记词|助記詞|记忆词|恢复|恢復|种子|種子|钱包|錢包|私钥|私鑰/i;

type Token = { word: string; start: number; end: number };

const gapAllowed = (view: string, from: number, to: number) => to - from <= MAX_GAP_CHARS && PHRASE_GAP.test(view.slice(from, to));

/**
 * English phrases: runs of wordlist words separated only by phrase gaps. A run of 12+ words counts
 * when at most a fifth of its words repeat (ordinary text made of wordlist words repeats itself:
 * "please help please help …"); otherwise a stretch of 12–24 of its words counts when it carries a
 * valid BIP-39 checksum (real phrases do repeat words now and then) and at least half of it differs.
 */
function findEnglishPhrases(view: string, findings: SecretFinding[], budget: Budget): void {
  let run: Token[] = [];
  const flush = () => {
    if (run.length >= MIN_PHRASE_WORDS) {
      const distinct = new Set(run.map((w) => w.word)).size;
      if (distinct >= Math.ceil(run.length * 0.8)) {
        findings.push({ type: 'recovery_phrase', start: (run[0] as Token).start, end: (run.at(-1) as Token).end });
      } else {
        for (const [from, to] of checksumWindows(
          run.map((w) => w.word),
          budget,
        )) {
          findings.push({ type: 'recovery_phrase', start: (run[from] as Token).start, end: (run[to - 1] as Token).end });
        }
      }
    }
    run = [];
  };
  for (const m of view.matchAll(/[A-Za-z]+/g)) {
    const w = { word: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length };
    const previous = run.at(-1);
    if (previous && !gapAllowed(view, previous.end, w.start)) flush();
    if (w.word.length >= 3 && isEnglishWord(w.word)) run.push(w);
    else flush();
  }
  flush();
}

/** Stretches [from, to) of a run of words that are whole phrases by their checksum, longest first, not overlapping. */
function checksumWindows(words: string[], budget: Budget): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  for (let i = 0; i + MIN_PHRASE_WORDS <= words.length; ) {
    const length = LONGEST_FIRST.find((n) => {
      if (i + n > words.length) return false;
      const slice = words.slice(i, i + n);
      return new Set(slice).size * 2 >= n && hasValidChecksum(slice, budget);
    });
    if (length === undefined) {
      i++;
      continue;
    }
    windows.push([i, i + length]);
    i += length;
  }
  return windows;
}

// Characters a phrase gap may hold, by UTF-16 code (PHRASE_GAP as a table, for the per-character scan).
const GAP_CODES = new Set([...' \t\n\r\v\f0123456789.,;:|/\\-–—•·#"\'`()[]{}*_+=>、，。；：\u3000'].map((c) => c.charCodeAt(0)));

function findPhrases(view: string, context: boolean, budget: Budget): SecretFinding[] {
  const findings: SecretFinding[] = [];
  findEnglishPhrases(view, findings, budget);

  // Chinese: single characters from the Chinese lists, scanned character by character.
  let cjk: Token[] = [];
  let gapStart = -1;
  const flushChinese = () => {
    if (cjk.length >= MIN_PHRASE_WORDS) findChinesePhrases(view, cjk, findings, context, budget);
    cjk = [];
  };
  for (let i = 0; i < view.length; i++) {
    const code = view.charCodeAt(i);
    if (code >= 0x3400 && code <= 0x9fff) {
      if (cjk.length > 0 && gapStart >= 0 && i - gapStart > MAX_GAP_CHARS) flushChinese();
      if (isChineseWordCode(code)) cjk.push({ word: view[i] as string, start: i, end: i + 1 });
      else flushChinese();
      gapStart = -1;
    } else if (GAP_CODES.has(code)) {
      if (gapStart < 0) gapStart = i;
    } else if (cjk.length > 0) {
      flushChinese();
    }
  }
  flushChinese();
  return findings;
}

type Char = Token;
const ZH_CONTEXT = /助记词|助記詞|记忆词|記憶詞|助词|恢复短语|恢復短語|种子短语|種子短語|种子词|種子詞|钱包短语/g;
const LONGEST_FIRST = [...PHRASE_LENGTHS].reverse();
/** A label ending a chunk with one character after it: the first of a phrase written one by one. */
const LABEL_THEN_ONE = new RegExp(`(?:${ZH_CONTEXT.source})[是为為]?[\\u3400-\\u9fff]$`);
/** How much of the text glued on beyond a phrase is read to tell whether it is ordinary Chinese. */
const NEIGHBOUR_CHARS = 8;

/**
 * Chinese phrases: single characters from the Chinese lists. Written one by one with separators
 * ("的 一 是 …", "1.的 2.一 …") they count at 12+. Ordinary Chinese is mostly made of these 2,048
 * common characters, so an unseparated run counts only as a whole phrase (12-24 characters alone,
 * or right after or before "助记词" even with more text glued on) with a valid BIP-39 checksum, and,
 * unless it is 18+ characters long, only when the message speaks of a phrase or wallet.
 */
function findChinesePhrases(view: string, run: Char[], findings: SecretFinding[], context: boolean, budget: Budget): void {
  // Chunks: characters written together without any gap.
  const chunks: Char[][] = [];
  run.forEach((c, i) => {
    const previous = run[i - 1];
    if (previous && previous.end === c.start) (chunks.at(-1) as Char[]).push(c);
    else chunks.push([c]);
  });
  const add = (from: Char, to: Char) => findings.push({ type: 'recovery_phrase', start: from.start, end: to.end });
  // Separated single characters; the first may be glued to its label ("助记词是的 一 是 …").
  let singles: Array<{ char: Char; chunk: number }> = [];
  const found = new Set<number>();
  const flushSingles = () => {
    if (singles.length >= MIN_PHRASE_WORDS) {
      add((singles[0] as { char: Char }).char, (singles.at(-1) as { char: Char }).char);
      for (const single of singles) found.add(single.chunk);
    }
    singles = [];
  };
  chunks.forEach((chunk, index) => {
    if (chunk.length === 1) {
      singles.push({ char: chunk[0] as Char, chunk: index });
      return;
    }
    flushSingles();
    if (chunk.length <= 8 && LABEL_THEN_ONE.test(chunk.map((c) => c.word).join(''))) singles.push({ char: chunk.at(-1) as Char, chunk: -1 });
  });
  flushSingles();
  // Without context, a run must also not read as Chinese: random phrase characters seldom form
  // words, while ordinary sentences are mostly multi-character words.
  const accept = (chars: Char[], spaced = false) => {
    if (
      !hasValidChecksum(
        chars.map((c) => c.word),
        budget,
      )
    )
      return false;
    return context || spaced || readsAsPhrase(chars);
  };
  // Groups of characters ("的一是在 不了有和 …"): consecutive chunks making up a whole phrase.
  // Separated single characters already found above need no second look.
  for (let i = 0; i < chunks.length && budget.checksums > 0; i++) {
    if (found.has(i)) continue;
    let joined: Char[] = [];
    let best: { chars: Char[]; j: number } | undefined;
    for (let j = i; j < chunks.length; j++) {
      const chunk = chunks[j] as Char[];
      if (joined.length + chunk.length > MAX_PHRASE_WORDS) break;
      joined = joined.concat(chunk);
      if (chunk.length > 1 || j > i) {
        // Only spaces may join groups: punctuation between them is ordinary writing; the longest
        // whole phrase wins, as a shorter prefix can pass the checksum by chance.
        if (j > i && !/^[ \t]+$/.test(gapBefore(view, chunk))) break;
        if (j === i && hasContextWord(joined)) continue;
        if (accept(joined, j > i)) best = { chars: joined, j };
      }
    }
    if (best) {
      add(best.chars[0] as Char, best.chars.at(-1) as Char);
      i = best.j;
    }
  }
  // A phrase glued to "助记词" before or after it ("是" may end the label or start the phrase). With
  // more text glued on beyond it ("…请帮我找回钱包"), a stretch of a phrase's length counts only
  // where the next few characters read as Chinese (or are a particle or two) and the stretch itself
  // hardly does: otherwise a stretch inside a longer run would pass its checksum by chance one time
  // in 16.
  const glued = (chars: Char[], beyond: Char[]) => {
    if (beyond.length === 0) return accept(chars);
    if (beyond.length > 2 && toWordShare(beyond.map((c) => c.word).join('')) < 0.5) return false;
    return (
      hasValidChecksum(
        chars.map((c) => c.word),
        budget,
      ) && toWordShare(chars.map((c) => c.word).join('')) <= 0.5
    );
  };
  for (const chunk of chunks) {
    if (chunk.length < MIN_PHRASE_WORDS + 2 || budget.mentions <= 0) continue;
    const text = chunk.map((c) => c.word).join('');
    for (const m of text.matchAll(ZH_CONTEXT)) {
      if (budget.mentions-- <= 0) break;
      const end = m.index + m[0].length;
      for (const skip of [0, 1, 2]) {
        for (const n of LONGEST_FIRST) {
          const from = end + skip;
          if (from + n <= chunk.length && glued(chunk.slice(from, from + n), chunk.slice(from + n, from + n + NEIGHBOUR_CHARS)))
            add(chunk[from] as Char, chunk[from + n - 1] as Char);
        }
      }
      for (const skip of [0, 1, 2, 3, 4]) {
        for (const n of LONGEST_FIRST) {
          const to = m.index - skip;
          if (to - n >= 0 && glued(chunk.slice(to - n, to), chunk.slice(Math.max(0, to - n - NEIGHBOUR_CHARS), to - n)))
            add(chunk[to - n] as Char, chunk[to - 1] as Char);
        }
      }
    }
  }
}

/** Characters that do not read as Chinese: at most one two-character word per 12 (random phrases: about 99%). */
function readsAsPhrase(chars: Char[]): boolean {
  const share = toWordShare(chars.map((c) => c.word).join(''));
  return share * chars.length <= 2 || (chars.length >= 18 && share <= 0.34);
}

const hasContextWord = (chars: Char[]) => {
  ZH_CONTEXT.lastIndex = 0;
  const found = ZH_CONTEXT.test(chars.map((c) => c.word).join(''));
  ZH_CONTEXT.lastIndex = 0;
  return found;
};

const SEGMENTER = new Intl.Segmenter('zh', { granularity: 'word' });

/** Share of the characters that belong to multi-character words (dictionary segmentation). */
function toWordShare(text: string): number {
  let inWords = 0;
  for (const part of SEGMENTER.segment(text)) if (part.isWordLike && part.segment.length > 1) inWords += part.segment.length;
  return inWords / Math.max(1, text.length);
}

/** The characters between a chunk and the previous Chinese character (at most a phrase gap apart). */
function gapBefore(view: string, chunk: Array<{ start: number }>): string {
  const start = (chunk[0] as { start: number }).start;
  let i = start;
  while (i > 0 && start - i <= MAX_GAP_CHARS && !/[\u3400-\u9fff]/.test(view[i - 1] as string)) i--;
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

// A 64-hex string is a private key unless it is a transaction hash (TXID), which has the same shape
// and which customers must be able to send. The words just before it decide ("my deposit failed,
// my key is …" is a key; "deposit not credited, txid …" a TXID), the nearer one when both are
// there; without either, the message's wording; without that, it is a key.
const TX_WORDS =
  /\b(?:tx|txid|txn|tx ?hash|transaction|hash|deposit|withdraw\w*|transfer|explorer|etherscan|bscscan|tronscan|block)\b|交易|哈希|充值|提现|提幣|提币|转账|轉賬|区块|區塊|浏览器/gi;
const KEY_WORDS = /private|priv ?key|secret|\bkeys?\b|\bseed\b|私钥|私鑰|密钥|金鑰|import/gi;
const NEAR_CHARS = 48;

const lastIndex = (pattern: RegExp, text: string) => {
  let last = -1;
  for (const m of text.matchAll(pattern)) last = m.index;
  return last;
};

function isTxid(view: string, start: number, message: { tx: boolean; key: boolean }): boolean {
  const near = view.slice(Math.max(0, start - NEAR_CHARS), start);
  const tx = lastIndex(TX_WORDS, near);
  const key = lastIndex(KEY_WORDS, near);
  if (tx >= 0 || key >= 0) return tx > key;
  return message.tx && !message.key;
}

function findKeys(view: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const push = (type: SecretType, m: RegExpMatchArray, group = 0) => {
    const value = m[group] as string;
    const start = (m.index as number) + (m[0] as string).indexOf(value);
    findings.push({ type, start, end: start + value.length });
  };
  let wording: { tx: boolean; key: boolean } | undefined;
  for (const m of view.matchAll(/(?<![0-9A-Za-z])(?:0x)?[0-9a-fA-F]{64}(?![0-9A-Za-z])/g)) {
    wording ??= { tx: new RegExp(TX_WORDS.source, 'i').test(view), key: new RegExp(KEY_WORDS.source, 'i').test(view) };
    if (isTxid(view, m.index, wording)) continue;
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

const OTP_NOT =
  /\b(error|promo|promotion|referral|zip|postal|post|country|swift|sort|bank|reference|ref|invite|invitation|voucher|discount|coupon|tracking|area|branch|routing|iban|bic|merchant|mcc|currency|product|item|order|status|response|reason|tax)\s*$/i;

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
    if (/(minute|min|hour|sec|day|time|attempt|usd|eur|gbp|\$|%)/i.test(view.slice((m.index as number) + m[0].length, (m.index as number) + m[0].length + 8)))
      continue;
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

// The previous message ended with a phrase the firewall removed (its last words may come next;
// a character or two may follow the marker, as a phrase's end can read like a particle).
const REMOVED_PHRASE_AT_END = new RegExp(`${SECRET_MARKERS.recovery_phrase.replace(/[[\]]/g, '\\$&')}[\\u3400-\\u9fff]{0,2}[\\s.,;:!?。，；：、！？"'”」)]*$`);

/**
 * The rest of a phrase whose beginning was removed from the previous message: a message that is
 * only 3 to 12 wordlist words (what a phrase of up to 24 words can have left), or 4 to 12 Chinese
 * characters from the lists that form no word. Right after a phrase such a message seldom is
 * anything else; a longer or mixed one is left to the ordinary rules.
 */
function findPhraseRest(text: string): SecretFinding | undefined {
  const view = toMatchingView(text, MARKER_LIST).text;
  const body = view.trim();
  const start = view.indexOf(body);
  if (body === '') return undefined;
  const english = [...body.matchAll(/[A-Za-z]+/g)];
  if (english.length > 0) {
    const onlyWords = english.every(
      (w, i) =>
        w[0].length >= 3 && isEnglishWord(w[0]) && gapAllowed(body, i === 0 ? 0 : (english[i - 1]?.index ?? 0) + (english[i - 1]?.[0].length ?? 0), w.index),
    );
    const tail = body.slice((english.at(-1)?.index ?? 0) + (english.at(-1)?.[0].length ?? 0));
    if (!onlyWords || !gapAllowed(tail, 0, tail.length) || english.length < 3 || english.length > MIN_PHRASE_WORDS) return undefined;
    return { type: 'recovery_phrase', start: start + (english[0]?.index ?? 0), end: start + body.length - tail.length };
  }
  const chars = [...body].filter((c) => !GAP_CODES.has(c.charCodeAt(0)));
  if (chars.length < 4 || chars.length > MIN_PHRASE_WORDS || !chars.every((c) => c.length === 1 && isChineseWordCode(c.charCodeAt(0)))) return undefined;
  // Written together, the characters must not form a single word ("我该怎么办呢" is a sentence).
  const spaced = chars.length * 2 - 1 <= body.length;
  if (!spaced && toWordShare(chars.join('')) > 0) return undefined;
  return { type: 'recovery_phrase', start, end: start + body.length };
}

/** Options of detectSecrets and maskSecrets. */
export interface DetectOptions {
  /**
   * The end of the conversation's previous customer message, as stored (screened): a phrase begun
   * there and finished in this text is found (its part in this text is what is reported).
   */
  before?: string;
}

const MARKER_LIST = Object.values(SECRET_MARKERS);
const HAN_PAIR = /^[\u3400-\u9fff]{2}$/;

/**
 * Finds secrets in a text: recovery phrases, private keys, API secrets, passwords and 2FA codes.
 * Linear in the text's length (callers bound it: see the firewall); ranges are the text's own.
 */
export function detectSecrets(text: string, options: DetectOptions = {}): SecretFinding[] {
  const before = options.before ?? '';
  // Two messages read as one: characters written together on both sides of the break continue one
  // chunk; otherwise a space joins them (a gap between phrase words in either language).
  const together = HAN_PAIR.test(before.slice(-2)) && HAN_PAIR.test(text.slice(0, 2));
  const joiner = before === '' || together ? '' : ' ';
  const offset = before.length + joiner.length;
  const view = toMatchingView(`${before}${joiner}${text}`, MARKER_LIST);
  const context = PHRASE_CONTEXT.test(view.text);
  const budget: Budget = { checksums: MAX_CHECKSUMS, mentions: MAX_CONTEXT_MENTIONS };
  const found = [...findPhrases(view.text, context, budget), ...findKeys(view.text), ...findCredentials(view.text)]
    .map((f) => ({ type: f.type, ...view.toOriginal(f.start, f.end) }))
    .filter((f) => f.end > offset)
    .map((f) => ({ type: f.type, start: Math.max(0, f.start - offset), end: f.end - offset }));
  if (REMOVED_PHRASE_AT_END.test(before)) {
    const rest = findPhraseRest(text);
    if (rest) found.push(rest);
  }
  const all = found.sort((a, b) => a.start - b.start || b.end - a.end);
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
export function maskSecrets(text: string, options: DetectOptions = {}): MaskedText {
  const findings = detectSecrets(text, options);
  let masked = text;
  for (const f of [...findings].reverse()) {
    masked = `${masked.slice(0, f.start)}${SECRET_MARKERS[f.type]}${masked.slice(f.end)}`;
  }
  return { text: masked, types: [...new Set(findings.map((f) => f.type))], count: findings.length };
}
