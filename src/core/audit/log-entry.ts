import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto';
import type { AnswerMode, EscalationDecision, Role, TurnData, TurnKind } from '../model.js';
import { freshRandom } from '../lib/fresh-random.js';
import { toCanonicalJson } from './canonical-json.js';
import { CONTENT_DOMAIN_TEXT, LOG_FORMAT_VERSION, type LogHeader, type TurnHeader, type TurnMeta } from './log-header.js';

export * from './log-header.js';

/** UTF-8 bytes of the canonical JSON of a value. */
export function toCanonicalBytes(value: unknown): Buffer {
  return Buffer.from(toCanonicalJson(value), 'utf8');
}

/** The personal part of a turn: committed to in the header, stored encrypted, erasable. */
export interface TurnContent {
  text: string;
  data: TurnData;
  escalationDetail: string | null;
}

const CONTENT_DOMAIN = Buffer.from(CONTENT_DOMAIN_TEXT, 'utf8');
export const SALT_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The `data` of a turn row that keeps no content: the turn's text, data and escalation detail live
 * only sealed in turn_content, under the conversation's key, so that destroying the key leaves no
 * readable copy in the turn table, its old row versions or the WAL.
 */
export const SEALED_ROW_DATA = Object.freeze({ sealed: 1 }) as unknown as TurnData;

export function isSealedRow(row: { text: string; data: unknown; escalationDetail: string | null }): boolean {
  const d = row.data as Record<string, unknown> | null;
  return row.text === '' && row.escalationDetail === null && d !== null && typeof d === 'object' && d.sealed === 1 && Object.keys(d).length === 1;
}

export function toContentBytes(content: TurnContent): Buffer {
  return toCanonicalBytes({ text: content.text, data: content.data, escalationDetail: content.escalationDetail });
}

export function toContentCommitment(salt: Uint8Array, contentBytes: Uint8Array): string {
  return hash('sha256', Buffer.concat([CONTENT_DOMAIN, salt, contentBytes]), 'hex');
}

export function toHeaderBytes(header: LogHeader): Buffer {
  return toCanonicalBytes(header);
}

/** The longest agent id or name kept in plain (longer ones are cut, never refused). */
const MAX_META_TEXT = 200;

/**
 * A turn's plain metadata, from its role, kind and data: an allowlist, so no other part of the
 * content ever reaches the row or the header in plain.
 */
export function toTurnMeta(role: Role, kind: TurnKind, data: TurnData): TurnMeta {
  const meta: TurnMeta = {};
  if (!turnMetaReadsData(role, kind)) return meta;
  if (kind === 'rating' && typeof data.rating === 'number' && Number.isInteger(data.rating) && data.rating >= 1 && data.rating <= 5) {
    meta.rating = data.rating;
  }
  if (kind === 'action' && role === 'customer' && typeof data.action === 'string') meta.action = data.action;
  if (kind === 'handoff' && typeof data.handoff === 'string') meta.handoff = data.handoff;
  if (role === 'agent') {
    if (typeof data.agentId === 'string' && data.agentId !== '') meta.agent = data.agentId.slice(0, MAX_META_TEXT);
    if (typeof data.author === 'string' && data.author !== '') meta.agentName = data.author.slice(0, MAX_META_TEXT);
  }
  return meta;
}

/** Whether `toTurnMeta` looks at the data of a turn of this role and kind at all (otherwise it is `{}`). */
export const turnMetaReadsData = (role: Role, kind: TurnKind): boolean =>
  kind === 'rating' || kind === 'handoff' || (kind === 'action' && role === 'customer') || role === 'agent';

/** The ids of the entries a turn cites, in order, as its header lists them. */
export const citedIds = (header: TurnHeader): string[] => header.cites.map(([id]) => id);

/**
 * What the plain metadata columns of a turn's row must say, given its header: the header's `meta`
 * and its cited entry ids (null when none); a header without `meta` predates these columns and
 * its row must leave them empty.
 */
export function expectedRowMeta(header: TurnHeader): TurnMeta & { cites?: string[] } {
  if (!header.meta) return {};
  const cites = citedIds(header);
  return { ...header.meta, ...(cites.length > 0 ? { cites } : {}) };
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
    meta: toTurnMeta(facts.role, facts.kind, facts.data),
  };
  return {
    header,
    headerBytes: toHeaderBytes(header),
    sealed: sealContent(key, facts.conversationId, facts.seq, Buffer.concat([salt, contentBytes])),
  };
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
export function openContent(key: Uint8Array, conversationId: string, seq: number, sealed: Uint8Array): { salt: Buffer; contentBytes: Buffer } | undefined {
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
