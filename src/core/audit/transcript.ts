import { bytesEqual, concatBytes, fromBase64, strictUtf8, toBase64, toHex, utf8 } from './bytes.js';
import { inclusionSides } from './inclusion-path.js';
import { CONTENT_DOMAIN_TEXT, type LogHeader, parseHeader } from './log-header.js';
import { keyIdPreimage, type NoteFailureCode, parseCheckpointBody, parseNote, splitVerifierKey, toReceiptBody } from './note-format.js';
import { firstDifference, renderV1Readable } from './transcript-v1.js';

/**
 * A customer's verifiable transcript and its verifier. This module runs unchanged under Node (the
 * `transcript:verify` command, the server checking what it hands out) and in browsers (bundled for
 * the /verify-transcript page): no Node built-ins, hashing and signatures through WebCrypto.
 *
 * The bundle carries only what verification covers: every field is either checked against the
 * signed checkpoint (headers, proofs, receipts, content against its commitment) or compared with
 * something that is (format, origin, conversation id, key); a field the verifier does not know is
 * an error. What a person reads is rendered from the verified entries (transcript-text.ts).
 */
export const TRANSCRIPT_FORMAT = 'helpdesk-transcript/v2';
/** Earlier bundles also carried `generatedAt` and a `readable` rendering, checked on verification. */
export const TRANSCRIPT_FORMAT_V1 = 'helpdesk-transcript/v1';

/** One log entry of the conversation, with everything needed to check it offline. */
export interface TranscriptEntry {
  idx: number;
  /** Exact header bytes, base64. */
  header: string;
  /** Inclusion proof in the checkpoint's tree, base64 hashes. */
  proof: string[];
  /** Signed note over (origin/receipt, index, leaf hash). */
  receipt: string;
  /** Salt and canonical content bytes (base64); absent for turns erased at the customer's request. */
  content?: { salt: string; bytes: string };
  /** Index of the erasure entry that destroyed this turn's content (an entry of this bundle). */
  erasedBy?: number;
  /** An agents' internal note: logged and proven, its content not disclosed to the customer. */
  withheld?: true;
}

/** A customer's verifiable transcript (JSON). */
export interface TranscriptBundle {
  format: typeof TRANSCRIPT_FORMAT;
  origin: string;
  /** The log's verifier key; must equal the key it is verified with (the one the exchange publishes). */
  publicKey: string;
  conversationId: string;
  /** Signed checkpoint (C2SP) the proofs lead to. */
  checkpoint: string;
  entries: TranscriptEntry[];
}

export type TranscriptLanguage = 'zh' | 'en';

export type TranscriptProblemCode =
  | 'not_transcript'
  | 'unexpected_field'
  | 'malformed_field'
  | 'key_unusable'
  | 'key_differs'
  | 'origin_differs'
  | 'checkpoint_rejected'
  | 'no_entries'
  | 'not_in_log'
  | 'receipt_rejected'
  | 'header_unreadable'
  | 'other_conversation'
  | 'out_of_order'
  | 'chain_broken'
  | 'turn_missing'
  | 'content_altered'
  | 'content_unreadable'
  | 'content_missing'
  | 'content_and_mark'
  | 'erasure_unproven'
  | 'withheld_not_note'
  | 'closed_count'
  | 'readable_differs';

/** What failed, where (log index, when tied to one entry), with the facts the message names. */
export interface TranscriptProblem {
  code: TranscriptProblemCode;
  idx: number | null;
  params: Record<string, string | number>;
}

export type TurnStatus = 'verified' | 'erased' | 'withheld' | 'unproven';

export interface VerifiedTurn {
  type: 'turn';
  idx: number;
  seq: number;
  role: string;
  /** The turn's kind (message, answer, escalation, note…). */
  kind: string;
  language: string;
  at: number;
  escalation: { reason: string; priority: string } | null;
  /** Knowledge entries cited, with the version cited. */
  cites: Array<[string, number]>;
  /** `unproven`: the entry is in the log but its content is missing or does not match; not shown. */
  status: TurnStatus;
  text: string | null;
  /** For erased turns: the erasure's log entry. */
  erasure: { idx: number; reason: string; at: number } | null;
}

export interface VerifiedEvent {
  type: 'event';
  idx: number;
  at: number;
  kind: 'close' | 'erasure' | 'erasure_deferred' | 'legal_hold';
  /** close: turns at closing; erasure: last turn erased. */
  seq: number | null;
  reason: string | null;
  /** legal_hold: placed (true) or released. */
  on: boolean | null;
}

export type VerifiedItem = VerifiedTurn | VerifiedEvent;

export interface TranscriptReport {
  ok: boolean;
  format: string | null;
  conversationId: string | null;
  /** The key the checkpoint was checked with, and where it came from. */
  key: { text: string; source: 'given' | 'bundle'; name: string | null; keyIdHex: string | null } | null;
  /** Shown only once its signature verified. */
  checkpoint: { origin: string; size: number; root: string; signedBy: string; otherSignatures: string[] } | null;
  /** Why the checkpoint was not accepted, when it was not. */
  checkpointFailure: NoteFailureCode | null;
  /** Every entry that verified, in log order: turns and events (erasures, holds, closing). */
  items: VerifiedItem[];
  turns: VerifiedTurn[];
  closedAt: number | null;
  /** Said by the file and covered by nothing (older bundles' generation time). */
  unverified: Array<{ field: string; value: string }>;
  /** Older bundles' readable text against the rendering of the verified entries. */
  readable: 'absent' | 'matches' | 'differs';
  problems: TranscriptProblem[];
}

export interface VerifyTranscriptOptions {
  /** The published verifier key `name+id+base64key`; without it the file's own key is used (and reported so). */
  key?: string | null;
  /** The log origin expected, when the verifier knows it. */
  origin?: string;
}

// WebCrypto under Node and in browsers. TypeScript's DOM types want ArrayBuffer-backed views.
type Bytes = Uint8Array<ArrayBuffer>;
const owned = (bytes: Uint8Array): Bytes => new Uint8Array(bytes) as Bytes;
const subtle = (): SubtleCrypto => globalThis.crypto.subtle;
async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-256', owned(concatBytes(...parts))));
}
const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);
const CONTENT_DOMAIN = utf8(CONTENT_DOMAIN_TEXT);

async function inclusionHolds(index: number, size: number, leaf: Uint8Array, proof: Uint8Array[], root: Uint8Array): Promise<boolean> {
  const sides = inclusionSides(index, size, proof.length);
  if (!sides || proof.some((p) => p.length !== 32)) return false;
  let r = leaf;
  for (let i = 0; i < proof.length; i++) {
    const p = proof[i] as Uint8Array;
    r = sides[i] ? await sha256(NODE, p, r) : await sha256(NODE, r, p);
  }
  return bytesEqual(r, root);
}

interface Key {
  name: string;
  keyId: Uint8Array;
  crypto: CryptoKey;
}

/** The note's body when it carries a valid signature by `key`; otherwise why not. */
async function openSignedNote(note: string, key: Key): Promise<{ ok: true; body: string; others: string[] } | { ok: false; code: NoteFailureCode }> {
  const parsed = parseNote(note);
  if (!parsed.ok) return parsed;
  let ours = false;
  const others: string[] = [];
  for (const s of parsed.signatures) {
    if (s.name !== key.name || !bytesEqual(s.keyId, key.keyId)) {
      others.push(`${s.name} ${toHex(s.keyId)}`);
      continue;
    }
    ours = true;
    if (s.signature.length === 64 && (await subtle().verify({ name: 'Ed25519' }, key.crypto, owned(s.signature), owned(utf8(parsed.body))))) {
      return { ok: true, body: parsed.body, others };
    }
  }
  return { ok: false, code: ours ? 'invalid_signature' : 'no_signature' };
}

const ENTRY_FIELDS = new Set(['idx', 'header', 'proof', 'receipt', 'content', 'erasedBy', 'withheld']);
const CONTENT_FIELDS = new Set(['salt', 'bytes']);
const BUNDLE_FIELDS: Record<string, { required: string[]; optional: string[] }> = {
  [TRANSCRIPT_FORMAT]: { required: ['format', 'origin', 'publicKey', 'conversationId', 'checkpoint', 'entries'], optional: [] },
  [TRANSCRIPT_FORMAT_V1]: { required: ['format', 'origin', 'publicKey', 'conversationId', 'generatedAt', 'checkpoint', 'entries'], optional: ['readable'] },
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** An entry whose fields have the right types, decoded; the rest of the checks follow. */
interface DecodedEntry {
  entry: TranscriptEntry;
  header: Uint8Array;
  proof: Uint8Array[];
  content: { salt: Uint8Array; bytes: Uint8Array } | null;
}

/** Checks one entry's shape, reporting each wrong field by its path; null when it cannot be checked further. */
function decodeEntry(
  raw: unknown,
  at: string,
  problem: (code: TranscriptProblemCode, idx: number | null, params?: Record<string, string | number>) => void,
): DecodedEntry | null {
  if (!isObject(raw)) {
    problem('malformed_field', null, { path: at });
    return null;
  }
  const idx = isIndex(raw.idx) ? raw.idx : null;
  let fine = true;
  const bad = (field: string) => {
    problem('malformed_field', idx, { path: `${at}.${field}` });
    fine = false;
  };
  for (const field of Object.keys(raw)) if (!ENTRY_FIELDS.has(field)) problem('unexpected_field', idx, { path: `${at}.${field}` });
  if (idx === null) bad('idx');
  const header = typeof raw.header === 'string' ? fromBase64(raw.header) : null;
  if (!header) bad('header');
  const proof: Uint8Array[] = [];
  if (!Array.isArray(raw.proof)) bad('proof');
  else
    raw.proof.forEach((p, i) => {
      const hash = typeof p === 'string' ? fromBase64(p) : null;
      if (hash) proof.push(hash);
      else bad(`proof[${i}]`);
    });
  if (typeof raw.receipt !== 'string') bad('receipt');
  let content: DecodedEntry['content'] = null;
  if (raw.content !== undefined) {
    if (!isObject(raw.content)) bad('content');
    else {
      for (const field of Object.keys(raw.content)) if (!CONTENT_FIELDS.has(field)) problem('unexpected_field', idx, { path: `${at}.content.${field}` });
      const salt = typeof raw.content.salt === 'string' ? fromBase64(raw.content.salt) : null;
      const bytes = typeof raw.content.bytes === 'string' ? fromBase64(raw.content.bytes) : null;
      if (!salt) bad('content.salt');
      if (!bytes) bad('content.bytes');
      if (salt && bytes) content = { salt, bytes };
    }
  }
  if (raw.erasedBy !== undefined && !isIndex(raw.erasedBy)) bad('erasedBy');
  if (raw.withheld !== undefined && raw.withheld !== true) bad('withheld');
  if (!fine || !header) return null;
  return { entry: raw as unknown as TranscriptEntry, header, proof, content };
}

/** What one entry proves on its own (its leaf, proof, receipt and content commitment). */
interface CheckedEntry {
  decoded: DecodedEntry;
  leafHex: string;
  inLog: boolean;
  receipt: 'valid' | NoteFailureCode | 'other_entry' | 'extra_signature';
  contentCommit: string | null;
}

async function checkEntry(decoded: DecodedEntry, size: number, root: Uint8Array, origin: string, key: Key): Promise<CheckedEntry> {
  const leaf = await sha256(LEAF, decoded.header);
  const inLog = await inclusionHolds(decoded.entry.idx, size, leaf, decoded.proof, root);
  let receipt: CheckedEntry['receipt'] = 'valid';
  if (inLog) {
    const opened = await openSignedNote(decoded.entry.receipt, key);
    if (!opened.ok) receipt = opened.code;
    else if (opened.body !== toReceiptBody(origin, decoded.entry.idx, leaf)) receipt = 'other_entry';
    // Receipts are the log's alone; a line nobody checks would be text no verification covers.
    else if (opened.others.length > 0) receipt = 'extra_signature';
  }
  const contentCommit = decoded.content ? toHex(await sha256(CONTENT_DOMAIN, decoded.content.salt, decoded.content.bytes)) : null;
  return { decoded, leafHex: toHex(leaf), inLog, receipt, contentCommit };
}

/**
 * Verifies a transcript offline with the log's public key: the bundle's shape (no field verification
 * does not cover), the signed checkpoint, every entry's inclusion proof and receipt, the
 * conversation's chain (nothing removed, inserted or reordered), every turn's content against its
 * salted commitment, every erased turn against its erasure entry and, for older bundles, the
 * readable text against the rendering of the verified entries.
 */
export async function verifyTranscript(input: unknown, options: VerifyTranscriptOptions = {}): Promise<TranscriptReport> {
  const problems: TranscriptProblem[] = [];
  const problem = (code: TranscriptProblemCode, idx: number | null, params: Record<string, string | number> = {}) => {
    problems.push({ code, idx, params });
  };
  const report: TranscriptReport = {
    ok: false,
    format: null,
    conversationId: null,
    key: null,
    checkpoint: null,
    checkpointFailure: null,
    items: [],
    turns: [],
    closedAt: null,
    unverified: [],
    readable: 'absent',
    problems,
  };
  const done = () => {
    report.turns = report.items.filter((i): i is VerifiedTurn => i.type === 'turn');
    report.ok = problems.length === 0;
    return report;
  };

  const format = isObject(input) ? input.format : undefined;
  const fields = typeof format === 'string' && Object.hasOwn(BUNDLE_FIELDS, format) ? BUNDLE_FIELDS[format] : undefined;
  if (!isObject(input) || !fields) {
    problem('not_transcript', null, { format: String(format) });
    return done();
  }
  report.format = format as string;
  for (const field of Object.keys(input)) {
    if (!fields.required.includes(field) && !fields.optional.includes(field)) problem('unexpected_field', null, { path: field });
  }
  for (const field of fields.required.filter((f) => f !== 'entries')) if (typeof input[field] !== 'string') problem('malformed_field', null, { path: field });
  if (input.readable !== undefined && typeof input.readable !== 'string') problem('malformed_field', null, { path: 'readable' });
  if (!Array.isArray(input.entries)) problem('malformed_field', null, { path: 'entries' });
  if (problems.some((p) => p.code === 'malformed_field')) return done();
  const bundle = input as unknown as TranscriptBundle & { generatedAt?: string; readable?: string };
  report.conversationId = bundle.conversationId;

  // The key: the one given (the exchange's published key), else the file's own, reported as such.
  const given = typeof options.key === 'string' && options.key.trim() !== '' ? options.key.trim() : null;
  const keyText = given ?? bundle.publicKey;
  const split = splitVerifierKey(keyText);
  report.key = { text: keyText, source: given ? 'given' : 'bundle', name: split.ok ? split.name : null, keyIdHex: split.ok ? split.keyIdHex : null };
  if (given && bundle.publicKey !== given) problem('key_differs', null, { inFile: bundle.publicKey, used: given });
  if (!split.ok) {
    problem('key_unusable', null, { reason: split.reason });
    return done();
  }
  const keyId = (await sha256(keyIdPreimage(split.name, split.publicKey))).subarray(0, 4);
  if (toHex(keyId) !== split.keyIdHex) {
    problem('key_unusable', null, { reason: 'the key id does not match the key' });
    return done();
  }
  let cryptoKey: CryptoKey;
  try {
    cryptoKey = await subtle().importKey('raw', owned(split.publicKey), { name: 'Ed25519' }, false, ['verify']);
  } catch (error) {
    problem('key_unusable', null, { reason: (error as Error).message });
    return done();
  }
  const key: Key = { name: split.name, keyId, crypto: cryptoKey };
  if (options.origin !== undefined && bundle.origin !== options.origin) problem('origin_differs', null, { expected: options.origin, actual: bundle.origin });

  const opened = await openSignedNote(bundle.checkpoint, key);
  const body = opened.ok ? parseCheckpointBody(opened.body, bundle.origin) : opened;
  if (!body.ok) {
    report.checkpointFailure = body.code;
    problem('checkpoint_rejected', null, { reason: body.code });
    return done();
  }
  const { size, root } = body.checkpoint;
  report.checkpoint = {
    origin: body.checkpoint.origin,
    size,
    root: toBase64(root),
    signedBy: `${key.name} ${toHex(keyId)}`,
    otherSignatures: opened.ok ? opened.others : [],
  };

  if (bundle.entries.length === 0) problem('no_entries', null);
  const decoded = bundle.entries.map((raw, i) => decodeEntry(raw, `entries[${i}]`, problem));
  const checked = await Promise.all(decoded.map((d) => (d ? checkEntry(d, size, root, bundle.origin, key) : null)));

  // Entries proven to be in the signed log, with their parsed headers.
  const proven: Array<{ c: CheckedEntry; h: LogHeader }> = [];
  for (const c of checked) {
    if (!c) continue;
    const idx = c.decoded.entry.idx;
    if (!c.inLog) {
      problem('not_in_log', idx);
      continue;
    }
    if (c.receipt !== 'valid') problem('receipt_rejected', idx, { reason: c.receipt });
    const parsed = parseHeader(c.decoded.header);
    if (!parsed.ok) {
      problem('header_unreadable', idx, { detail: parsed.reason });
      continue;
    }
    proven.push({ c, h: parsed.header });
  }
  const erasures = new Map<number, Extract<LogHeader, { kind: 'erasure' }>>();
  for (const { c, h } of proven) if (h.kind === 'erasure' && h.conv === bundle.conversationId) erasures.set(c.decoded.entry.idx, h);

  let prev: string | null = null;
  let lastSeq = 0;
  let lastIdx = -1;
  let closedAt: number | null = null;
  for (const { c, h } of proven) {
    const { entry, content } = c.decoded;
    const idx = entry.idx;
    if (h.conv !== bundle.conversationId || h.kind === 'knowledge') {
      // Proven, but someone else's (or a knowledge-base change): neither shown nor part of this conversation's chain.
      problem('other_conversation', idx);
      continue;
    }
    if (idx <= lastIdx) problem('out_of_order', idx);
    lastIdx = idx;
    if (h.prev !== prev) problem('chain_broken', idx);
    prev = c.leafHex;
    if (h.kind !== 'turn') {
      if (h.kind === 'close') closedAt = h.seq;
      const marked = entry.content !== undefined || entry.erasedBy !== undefined || entry.withheld !== undefined;
      if (marked)
        problem('unexpected_field', idx, {
          path: `entries[${bundle.entries.indexOf(entry)}].${entry.content ? 'content' : entry.erasedBy !== undefined ? 'erasedBy' : 'withheld'}`,
        });
      report.items.push({
        type: 'event',
        idx,
        at: h.at,
        kind: h.kind,
        seq: h.kind === 'close' ? h.seq : h.kind === 'erasure' ? h.through : null,
        reason: h.kind === 'erasure' || h.kind === 'erasure_deferred' ? h.reason : null,
        on: h.kind === 'legal_hold' ? h.on : null,
      });
      continue;
    }
    if (h.seq !== lastSeq + 1) problem('turn_missing', idx, { seq: h.seq, missing: lastSeq + 1 });
    lastSeq = h.seq;
    closedAt = null;
    const marks = [content, entry.erasedBy, entry.withheld].filter((m) => m !== undefined && m !== null).length;
    let status: TurnStatus = 'unproven';
    let text: string | null = null;
    let erasure: VerifiedTurn['erasure'] = null;
    if (marks > 1) {
      problem('content_and_mark', idx, { seq: h.seq });
    } else if (content) {
      if (c.contentCommit !== h.commit) problem('content_altered', idx, { seq: h.seq });
      else {
        try {
          const said = (JSON.parse(strictUtf8.decode(content.bytes)) as { text?: unknown }).text;
          if (typeof said !== 'string') throw new Error('no text');
          text = said;
          status = 'verified';
        } catch {
          problem('content_unreadable', idx, { seq: h.seq });
        }
      }
    } else if (entry.erasedBy !== undefined) {
      const by = erasures.get(entry.erasedBy);
      if (!by || entry.erasedBy <= idx || by.through < h.seq) problem('erasure_unproven', idx, { seq: h.seq, erasedBy: entry.erasedBy });
      else {
        status = 'erased';
        erasure = { idx: entry.erasedBy, reason: by.reason, at: by.at };
      }
    } else if (entry.withheld === true) {
      // Only agents' internal notes (and internal edits) are kept from the customer.
      if (h.role !== 'agent' || (h.type !== 'note' && h.type !== 'edit')) problem('withheld_not_note', idx, { seq: h.seq });
      else status = 'withheld';
    } else {
      problem('content_missing', idx, { seq: h.seq });
    }
    report.items.push({
      type: 'turn',
      idx,
      seq: h.seq,
      role: h.role,
      kind: h.type,
      language: h.lang,
      at: h.at,
      escalation: h.esc,
      cites: h.cites,
      status,
      text,
      erasure,
    });
  }
  if (closedAt !== null && closedAt !== lastSeq) problem('closed_count', null, { closedAt, present: lastSeq });
  report.closedAt = closedAt;

  if (report.format === TRANSCRIPT_FORMAT_V1) {
    report.unverified.push({ field: 'generatedAt', value: bundle.generatedAt as string });
    if (typeof bundle.readable === 'string') {
      const expected = renderV1Readable({
        conversationId: bundle.conversationId,
        generatedAt: bundle.generatedAt as string,
        origin: bundle.origin,
        publicKey: bundle.publicKey,
        treeSize: size,
        turns: report.items.filter((i): i is VerifiedTurn => i.type === 'turn'),
        closedAt,
      });
      const difference = firstDifference(bundle.readable, expected);
      report.readable = difference ? 'differs' : 'matches';
      if (difference) problem('readable_differs', null, difference);
    }
  }
  return done();
}
