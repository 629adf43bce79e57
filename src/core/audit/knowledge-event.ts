import { hash } from 'node:crypto';
import { type EntryContent, toEntryHash } from '../knowledge/entry-content.js';
import { type KnowledgeHeader, type KnowledgeOp, LOG_FORMAT_VERSION } from './log-header.js';
import type { Violation } from './verify-log.js';

const CHAIN_DOMAIN = 'helpdesk/kb-entry-chain/v1\n';

/**
 * The chain id of a knowledge-base entry in the log (the `conv` of its entries): a UUID derived
 * from the entry's id (version nibble 8, name-based), so that every instance finds the same chain
 * and no conversation (random v4 ids) can share it.
 */
export function toKnowledgeChainId(entryId: string): string {
  const bytes = Buffer.from(hash('sha256', CHAIN_DOMAIN + entryId, 'hex'), 'hex').subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A revision's status as the log names the change. */
export type RevisionStatus = 'draft' | 'published' | 'removed';
const OP_OF: Record<RevisionStatus, KnowledgeOp> = { draft: 'draft', published: 'publish', removed: 'remove' };
export const toKnowledgeOp = (status: RevisionStatus): KnowledgeOp => OP_OF[status];

export function toKnowledgeHeader(input: {
  entry: string;
  version: number;
  status: RevisionStatus;
  hash: string;
  by: string;
  prev: string | null;
  at: number;
}): KnowledgeHeader {
  return {
    v: LOG_FORMAT_VERSION,
    kind: 'knowledge',
    conv: toKnowledgeChainId(input.entry),
    entry: input.entry,
    version: input.version,
    op: toKnowledgeOp(input.status),
    hash: input.hash,
    by: input.by,
    prev: input.prev,
    at: input.at,
  };
}

/** A stored revision as the audit reads it: its content, status, author and the log entry it names. */
export interface StoredRevision {
  content: EntryContent;
  version: number;
  status: RevisionStatus;
  author: string;
  logIdx: number;
}

/**
 * Compares the knowledge-base history with its log entries: every revision has its log entry (at
 * the index it names) saying the same entry, version, change, author and content hash; every
 * knowledge log entry still has its revision. The log entries themselves (leaf, chain, tree) are
 * checked with the rest of the log.
 */
export function checkKnowledgeRevisions(events: Array<{ idx: number; header: KnowledgeHeader }>, revisions: StoredRevision[]): Violation[] {
  const violations: Violation[] = [];
  const byIdx = new Map(events.map((e) => [e.idx, e.header]));
  const seen = new Set<number>();
  for (const r of revisions) {
    const name = `knowledge entry ${r.content.id} v${r.version}`;
    const header = byIdx.get(r.logIdx);
    if (!header || header.entry !== r.content.id || header.version !== r.version) {
      violations.push({ idx: header ? r.logIdx : null, reason: `${name}: stored without its log entry` });
      continue;
    }
    seen.add(r.logIdx);
    if (header.op !== toKnowledgeOp(r.status) || header.by !== r.author) {
      violations.push({ idx: r.logIdx, reason: `${name}: status or author differ from the log (modified)` });
    } else if (header.hash !== toEntryHash(r.content)) {
      violations.push({ idx: r.logIdx, reason: `${name}: content differs from its logged hash (modified)` });
    }
  }
  for (const e of events) {
    if (!seen.has(e.idx))
      violations.push({ idx: e.idx, reason: `knowledge entry ${e.header.entry} v${e.header.version}: logged but its revision is missing (deleted)` });
  }
  return violations;
}
