import type { AnswerMode, Role, TurnKind } from '../model.js';
import { strictUtf8 } from './bytes.js';
import { isCanonicalJsonText } from './canonical-json.js';

/**
 * What each log entry's header says. Headers are hashed and published in proofs, so they carry no
 * personal data: ids are random, content is only committed to by a salted hash.
 *
 * - `turn`: one turn (customer message, bot answer, escalation, agent reply, note, claim…).
 * - `close`: the conversation was closed after `seq` turns (a completeness commitment).
 * - `erasure`: the content of turns 1..`through` was destroyed (crypto-shredding), reason code.
 * - `erasure_deferred`: an erasure request was refused for now, with a reason code (legal hold).
 * - `legal_hold`: a legal hold was placed (`on: true`) or released.
 * - `knowledge`: a knowledge-base entry got a new version: a draft, a published version (the bot
 *   answers with it from then on) or a removal; with the content's hash and who made it. `conv` is
 *   the entry's own chain (toKnowledgeChainId), so an entry's versions chain like a conversation's
 *   turns; it names no conversation.
 */
export type LogEntryKind = 'turn' | 'close' | 'erasure' | 'erasure_deferred' | 'legal_hold' | 'knowledge';
export const LOG_FORMAT_VERSION = 1;

/** Domain of a turn's content commitment: SHA-256(domain || salt || canonical content). */
export const CONTENT_DOMAIN_TEXT = 'helpdesk/turn-content/v1\n';

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
  /**
   * The turn's plain metadata (toTurnMeta), kept in the turn row beside the sealed content for the
   * figures; absent on turns logged before rows carried it (their rows carry none).
   */
  meta?: TurnMeta;
}

/**
 * What a turn row says in plain about its turn besides role, kind and language: never the
 * customer's words, names or handles, only codes, a rating and the staff member who acted. The
 * header binds it, so it survives an erasure (which destroys content only) and stays checkable.
 */
export interface TurnMeta {
  /** A `rating` turn's value, an integer 1-5. */
  rating?: number;
  /** A customer `action` turn's action code (solved, human, …). */
  action?: string;
  /** A `handoff` turn's event (waiting, claimed, handed_back, resolved, reminder). */
  handoff?: string;
  /** An agent turn's agent id in the agents' tool, and their display name there. */
  agent?: string;
  agentName?: string;
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

export type KnowledgeOp = 'draft' | 'publish' | 'remove';
export const KNOWLEDGE_OPS: readonly KnowledgeOp[] = ['draft', 'publish', 'remove'];

export interface KnowledgeHeader extends HeaderBase {
  kind: 'knowledge';
  /** The entry's id (stable, chosen by admins: no personal data). */
  entry: string;
  version: number;
  op: KnowledgeOp;
  /** SHA-256 (hex) of the version's canonical content (core/knowledge/entry-content.ts). */
  hash: string;
  /** Who: a console account's name, `token:admin` for the admin token, `files:<path>` for an import. */
  by: string;
}

export type LogHeader = TurnHeader | CloseHeader | ErasureHeader | ErasureDeferredHeader | LegalHoldHeader | KnowledgeHeader;

export type HeaderParse = { ok: true; header: LogHeader } | { ok: false; reason: string };

/** Parses stored header bytes; they must be exactly the canonical encoding of what they say. */
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
    case 'knowledge':
      if (
        typeof h.entry !== 'string' ||
        !Number.isSafeInteger(h.version) ||
        (h.version as number) < 1 ||
        !KNOWLEDGE_OPS.includes(h.op as KnowledgeOp) ||
        typeof h.hash !== 'string' ||
        !/^[0-9a-f]{64}$/.test(h.hash) ||
        typeof h.by !== 'string'
      ) {
        return { ok: false, reason: 'knowledge header lacks entry, version, op, hash or author' };
      }
      break;
    default:
      return { ok: false, reason: `unknown entry kind ${String(h.kind)}` };
  }
  return { ok: true, header: value as LogHeader };
}
