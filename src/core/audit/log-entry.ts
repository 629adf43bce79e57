import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto';
import type { AnswerMode, EscalationDecision, Role, TurnData, TurnKind } from '../model.js';
import { isCanonicalJsonText, toCanonicalBytes } from './canonical-json.js';

/**
 * What each log entry's header says. Headers are hashed and published in proofs, so they carry no
 * personal data: ids are random, content is only committed to by a salted hash.
 *
 * - `turn`: one turn (customer message, bot answer, escalation, agent reply, note, claim…).
 * - `close`: the conversation was closed after `seq` turns (a completeness commitment).
 * - `erasure`: the content of turns 1..`through` was destroyed (crypto-shredding), reason code.
 * - `erasure_deferred`: an erasure request was refused for now, with a reason code (legal hold).
 * - `legal_hold`: a legal hold was placed (`on: true`) or released.
 */
export type LogEntryKind = 'turn' | 'close' | 'erasure' | 'erasure_deferred' | 'legal_hold';
export const LOG_FORMAT_VERSION = 1;

interface HeaderBase {
  v: number;
  conv: string;
  /** Leaf hash (hex) of the previous entry of the same conversation; null for its first entry. */
  prev: string | null;
  /** Milliseconds since the Unix epoch, as an integer. */
  at: number;
}

export interface TurnHeader extends HeaderBase {
  kind: 'turn';
  seq: number;
  role: Role;
  type: TurnKind;
  lang: string;
  mode: AnswerMode | null;
  esc: { reason: string; priority: string } | null;
  /** Knowledge entries cited, with the version cited. */
  cites: Array<[string, number]>;
  model: string | null;
  /** SHA-256(domain || salt || canonical content), hex. */
  commit: string;
}

export interface CloseHeader extends HeaderBase {
  kind: 'close';
  seq: number;
}

export interface ErasureHeader extends HeaderBase {
  kind: 'erasure';
  through: number;
  reason: string;
}

export interface ErasureDeferredHeader extends HeaderBase {
  kind: 'erasure_deferred';
  reason: string;
}

export interface LegalHoldHeader extends HeaderBase {
  kind: 'legal_hold';
  on: boolean;
}

export type LogHeader = TurnHeader | CloseHeader | ErasureHeader | ErasureDeferredHeader | LegalHoldHeader;

/** The personal part of a turn: committed to in the header, stored encrypted, erasable. */
export interface TurnContent {
  text: string;
  data: TurnData;
  escalationDetail: string | null;
}

const CONTENT_DOMAIN = Buffer.from('helpdesk/turn-content/v1\n', 'utf8');
export const SALT_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function toContentBytes(content: TurnContent): Buffer {
  return toCanonicalBytes({ text: content.text, data: content.data, escalationDetail: content.escalationDetail });
}

export function toContentCommitment(salt: Uint8Array, contentBytes: Uint8Array): string {
  return hash('sha256', Buffer.concat([CONTENT_DOMAIN, salt, contentBytes]), 'hex');
}

export function toHeaderBytes(header: LogHeader): Buffer {
  return toCanonicalBytes(header);
}

export type HeaderParse = { ok: true; header: LogHeader } | { ok: false; reason: string };

/** Parses stored header bytes; they must be exactly the canonical encoding of what they say. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function parseHeader(bytes: Uint8Array): HeaderParse {
  let value: unknown;
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'header is not UTF-8 JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'header is not an object' };
  if (!isCanonicalJsonText(value, text)) {
    return { ok: false, reason: 'header bytes are not canonical' };
  }
  const h = value as Partial<LogHeader> & Record<string, unknown>;
  if (h.v !== LOG_FORMAT_VERSION) return { ok: false, reason: `unknown header version ${String(h.v)}` };
  if (typeof h.conv !== 'string' || !(h.prev === null || typeof h.prev === 'string') || !Number.isSafeInteger(h.at)) {
    return { ok: false, reason: 'header lacks conversation, prev or time' };
  }
  switch (h.kind) {
    case 'turn':
      if (!Number.isSafeInteger(h.seq) || typeof h.commit !== 'string' || typeof h.role !== 'string') {
        return { ok: false, reason: 'turn header lacks seq, role or commitment' };
      }
      break;
    case 'close':
      if (!Number.isSafeInteger(h.seq)) return { ok: false, reason: 'close header lacks seq' };
      break;
    case 'erasure':
      if (!Number.isSafeInteger(h.through) || typeof h.reason !== 'string') return { ok: false, reason: 'erasure header lacks scope' };
      break;
    case 'erasure_deferred':
    case 'legal_hold':
      break;
    default:
      return { ok: false, reason: `unknown entry kind ${String(h.kind)}` };
  }
  return { ok: true, header: value as LogHeader };
}

export interface NewTurnFacts {
  conversationId: string;
  seq: number;
  role: Role;
  kind: TurnKind;
  language: string;
  data: TurnData;
  answerMode: AnswerMode | null;
  escalation: EscalationDecision | null;
  text: string;
  prev: string | null;
  at: number;
}

/** Builds a turn's header and its sealed content under the conversation's key. */
export function toTurnEntry(facts: NewTurnFacts, key: Uint8Array): { header: TurnHeader; headerBytes: Buffer; sealed: Buffer } {
  const contentBytes = toContentBytes({ text: facts.text, data: facts.data, escalationDetail: facts.escalation?.detail ?? null });
  const salt = freshRandom(SALT_BYTES);
  const header: TurnHeader = {
    v: LOG_FORMAT_VERSION,
    kind: 'turn',
    conv: facts.conversationId,
    seq: facts.seq,
    role: facts.role,
    type: facts.kind,
    lang: facts.language,
    mode: facts.answerMode,
    esc: facts.escalation ? { reason: facts.escalation.reason, priority: facts.escalation.priority } : null,
    cites: (facts.data.citations ?? []).map((c) => [c.id, c.version]),
    model: facts.data.model ?? null,
    prev: facts.prev,
    at: facts.at,
    commit: toContentCommitment(salt, contentBytes),
  };
  return {
    header,
    headerBytes: toHeaderBytes(header),
    sealed: sealContent(key, facts.conversationId, facts.seq, Buffer.concat([salt, contentBytes])),
  };
}

// One CSPRNG call per 16 KiB instead of two per turn (salt and IV); each byte is handed out once.
const RANDOM_POOL_BYTES = 16_384;
let pool = Buffer.alloc(0);
let poolOffset = 0;
function freshRandom(size: number): Buffer {
  if (poolOffset + size > pool.length) {
    pool = randomBytes(RANDOM_POOL_BYTES);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + size));
  poolOffset += size;
  return out;
}

const aad = (conversationId: string, seq: number) => Buffer.from(`${conversationId}:${seq}`, 'utf8');

/** AES-256-GCM: iv || ciphertext || tag, bound to (conversation, seq) so rows cannot be swapped. */
export function sealContent(key: Uint8Array, conversationId: string, seq: number, plaintext: Buffer): Buffer {
  const iv = freshRandom(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(conversationId, seq));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Decrypts sealed content into its salt and canonical content bytes; undefined when it was altered. */
export function openContent(
  key: Uint8Array,
  conversationId: string,
  seq: number,
  sealed: Uint8Array,
): { salt: Buffer; contentBytes: Buffer } | undefined {
  if (sealed.length < IV_BYTES + TAG_BYTES + SALT_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(aad(conversationId, seq));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES));
    decipher.final(); // GCM: checks the tag, yields no more bytes
    return { salt: plain.subarray(0, SALT_BYTES), contentBytes: plain.subarray(SALT_BYTES) };
  } catch {
    return undefined;
  }
}

export const CONTENT_KEY_BYTES = 32;
export const newContentKey = (): Buffer => randomBytes(CONTENT_KEY_BYTES);
