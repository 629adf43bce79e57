import { appendLeaf, emptyFrontier, type Frontier, frontierRoot, leafHash } from './merkle.js';
import { expectedRowMeta, isSealedRow, type LogHeader, openContent, parseHeader, toContentCommitment, toTurnMeta, turnMetaReadsData } from './log-entry.js';
import { jsonEqual } from './canonical-json.js';
import { type Checkpoint, type NoteVerifier, openCheckpoint } from './signed-note.js';
import type { TurnData } from '../model.js';

/** One stored log entry as the audit reads it, with what it needs to check the turn behind it. */
export interface AuditEntry {
  idx: number;
  leafHash: Uint8Array;
  header: Uint8Array;
  kind: string;
  conversationId: string;
  seq: number | null;
  /** Turn entries: the sealed content and the conversation key, when they still exist. */
  sealed?: Uint8Array | null;
  key?: Uint8Array | null;
  /**
   * Turn entries: the row of the turn table, when it exists; `meta` is its plain metadata columns
   * as one object without its null members (rating, action, handoff, agent, agentName, cites).
   */
  turnRow?: { text: string; data: unknown; escalationDetail: string | null; meta: unknown } | null;
}

export interface Violation {
  /** First log index concerned; null when the problem is not tied to one entry. */
  idx: number | null;
  reason: string;
}

export interface AuditReport {
  ok: boolean;
  size: number;
  root: string;
  entries: number;
  turns: number;
  conversations: number;
  erasedTurns: number;
  /** Knowledge-base changes logged (drafts, publications, removals), and the entries they concern. */
  knowledgeEvents: number;
  knowledgeEntries: number;
  checkpointsChecked: number;
  violations: Violation[];
  firstFailingIndex: number | null;
}

interface ChainState {
  lastLeaf: Buffer | null;
  lastSeq: number;
}

/** A checkpoint to check, with where it came from (the database, a published file, a customer). */
export interface CheckpointSource {
  source: string;
  note: string;
}

/**
 * What the audit learns from one entry on its own (no other entry needed), so that this part can
 * run on many entries at once in worker threads; `feedChecked` then does the checks that need the
 * log's order (indices, tree, chains, erasures, checkpoints).
 */
export interface CheckedEntry {
  idx: number;
  leaf: Buffer;
  /** null when the header did not parse (then conv, prev and seq mean nothing). */
  kind: LogHeader['kind'] | null;
  conv: string;
  /**
   * The header's `prev`: the leaf hash it names, decoded when it is the lowercase hex of 32 bytes (as
   * every leaf's is), or else the string itself (which names no leaf); null for none.
   */
  prev: Buffer | string | null;
  /** `seq` of a turn or close entry, `through` of an erasure. */
  seq: number | null;
  /** A turn whose content key or ciphertext is gone: it must be covered by a later erasure. */
  contentGone: boolean;
  /** Problems of the entry itself, reported before the chain checks… */
  violations?: Violation[];
  /** …and the problem of its turn content, reported after them. */
  contentViolation?: Violation;
}

const LEAF_HEX = /^[0-9a-f]{64}$/;

/** Does an entry's `prev` name this leaf (null: the entry is its conversation's first)? */
function links(prev: Buffer | string | null, lastLeaf: Buffer | null): boolean {
  if (prev === null || lastLeaf === null) return prev === lastLeaf;
  return typeof prev !== 'string' && lastLeaf.equals(prev);
}

/** The checks of one entry that need no other entry: leaf hash, header, indexed columns, content. */
export function checkEntry(entry: AuditEntry): CheckedEntry {
  const leaf = leafHash(entry.header);
  const facts: CheckedEntry = { idx: entry.idx, leaf, kind: null, conv: '', prev: null, seq: null, contentGone: false };
  if (!leaf.equals(entry.leafHash)) entryProblem(facts, 'stored leaf hash does not match the header bytes');
  const parsed = parseHeader(entry.header);
  if (!parsed.ok) {
    entryProblem(facts, parsed.reason);
    return facts;
  }
  const h = parsed.header;
  const seq = h.kind === 'turn' || h.kind === 'close' ? h.seq : h.kind === 'erasure' ? h.through : h.kind === 'knowledge' ? h.version : null;
  if (h.kind !== entry.kind || h.conv !== entry.conversationId || seq !== entry.seq) {
    entryProblem(facts, 'indexed columns (kind, conversation, seq) disagree with the header');
  }
  facts.kind = h.kind;
  facts.conv = h.conv;
  facts.prev = h.prev !== null && LEAF_HEX.test(h.prev) ? Buffer.from(h.prev, 'hex') : h.prev;
  facts.seq = seq;
  if (h.kind === 'turn') {
    // The plain metadata is bound by the header: checked whether or not the content still exists.
    if (entry.turnRow && !jsonEqual(entry.turnRow.meta ?? {}, expectedRowMeta(h))) {
      entryProblem(facts, `turn ${h.conv}#${h.seq}: turn row's plain metadata differs from the logged header (modified)`);
    }
    const problem = checkTurnContent(entry, h);
    if (problem === 'gone') facts.contentGone = true;
    else if (problem) facts.contentViolation = { idx: entry.idx, reason: `turn ${h.conv}#${h.seq}: ${problem}` };
  }
  return facts;
}

function entryProblem(facts: CheckedEntry, reason: string): void {
  (facts.violations ??= []).push({ idx: facts.idx, reason });
}

/** Checks a turn's sealed content against its commitment and its turn row. */
function checkTurnContent(entry: AuditEntry, header: Extract<LogHeader, { kind: 'turn' }>): string | 'gone' | undefined {
  if (!entry.sealed || !entry.key) {
    return entry.turnRow && entry.turnRow.text !== '' ? 'content key or ciphertext deleted while the turn text remains' : 'gone';
  }
  const content = openContent(entry.key, header.conv, header.seq, entry.sealed);
  if (!content) return 'stored content does not decrypt (altered)';
  if (toContentCommitment(content.salt, content.contentBytes) !== header.commit) return 'content does not match its logged commitment (altered)';
  if (header.meta && !metaMatches(content.contentBytes, header)) return "the header's plain metadata is not the content's";
  if (!entry.turnRow) return 'turn row missing (deleted)';
  if (!isSealedRow(entry.turnRow) && !sameContent(content.contentBytes, entry.turnRow)) return 'turn row differs from the logged content (modified)';
  return undefined;
}

/** Is the header's plain metadata what its committed content gives (toTurnMeta)? */
function metaMatches(contentBytes: Buffer, header: Extract<LogHeader, { kind: 'turn' }>): boolean {
  // Most turns' metadata is empty whatever their data says: no need to parse the content for them.
  if (!turnMetaReadsData(header.role, header.type)) return jsonEqual({}, header.meta);
  try {
    const content = JSON.parse(contentBytes.toString('utf8')) as { data?: TurnData };
    return jsonEqual(toTurnMeta(header.role, header.type, content.data ?? {}), header.meta);
  } catch {
    return false;
  }
}

/**
 * Does the turn row say what the committed content bytes say? Compared as JSON values (the bytes
 * are canonical JSON, equal values have equal canonical bytes), which is much cheaper than
 * re-encoding the row.
 */
function sameContent(contentBytes: Buffer, row: NonNullable<AuditEntry['turnRow']>): boolean {
  let content: unknown;
  try {
    content = JSON.parse(contentBytes.toString('utf8'));
  } catch {
    return false;
  }
  if (typeof content !== 'object' || content === null || Array.isArray(content)) return false;
  const c = content as Record<string, unknown>;
  return Object.keys(c).length === 3 && c.text === row.text && c.escalationDetail === row.escalationDetail && jsonEqual(c.data, (row.data ?? {}) as TurnData);
}

/**
 * Streams the log in index order and checks everything that can be checked from it: leaf hashes,
 * canonical headers, the tree root at every checkpoint (signature, origin, no rollback, no
 * equivocation), every conversation's chain (no turn missing or reordered), every turn's content
 * against its commitment and its turn row, and that missing content was erased by a logged erasure.
 * Feed it incrementally; `finish` reports.
 */
export function createLogVerifier(options: { origin: string; verifier: NoteVerifier | undefined; checkpoints?: CheckpointSource[] }) {
  const violations: Violation[] = [];
  const frontier: Frontier = emptyFrontier();
  const chains = new Map<string, ChainState>();
  const pending = new Map<string, Array<{ seq: number; idx: number }>>();
  const bySize = new Map<number, Array<Checkpoint & { source: string }>>();
  let turns = 0;
  let erasedTurns = 0;
  let knowledgeEvents = 0;
  const knowledgeChains = new Set<string>();
  let checkpointsChecked = 0;
  let expected = 0;
  const fail = (idx: number | null, reason: string) => violations.push({ idx, reason });

  function addCheckpoints(list: CheckpointSource[]): void {
    const lastSizeBySource = new Map<string, number>();
    for (const { source, note } of list) {
      if (!options.verifier) {
        fail(null, `${source}: no public key to check checkpoints with`);
        return;
      }
      const opened = openCheckpoint(note, options.verifier, options.origin);
      if (!opened.ok) {
        fail(null, `${source}: checkpoint rejected: ${opened.reason}`);
        continue;
      }
      const cp = opened.checkpoint;
      const last = lastSizeBySource.get(source);
      if (last !== undefined && cp.size < last) fail(cp.size, `${source}: checkpoint rolled back from size ${last} to ${cp.size}`);
      lastSizeBySource.set(source, cp.size);
      const same = bySize.get(cp.size) ?? [];
      const other = same.find((c) => !c.root.equals(cp.root));
      if (other) fail(cp.size, `equivocation: ${source} and ${other.source} sign different roots for size ${cp.size}`);
      same.push({ ...cp, source });
      bySize.set(cp.size, same);
      if (cp.size <= frontier.size) checkRootAt(cp.size);
    }
  }

  function checkRootAt(size: number): void {
    const list = bySize.get(size);
    if (!list) return;
    if (size !== frontier.size) return;
    const root = frontierRoot(frontier);
    for (const cp of list) {
      checkpointsChecked += 1;
      if (!cp.root.equals(root)) {
        fail(Math.max(0, size - 1), `tree of size ${size} does not match the checkpoint from ${cp.source}: entries before index ${size} were changed`);
      }
    }
    bySize.delete(size);
  }

  /** The order-dependent checks of one entry already checked on its own (see `checkEntry`). */
  function feedChecked(facts: CheckedEntry): void {
    if (facts.idx !== expected) {
      fail(expected, facts.idx > expected ? `entries ${expected}..${facts.idx - 1} missing` : `entry ${facts.idx} out of order or repeated`);
    }
    expected = facts.idx + 1;
    if (facts.violations) for (const v of facts.violations) violations.push(v);
    appendLeaf(frontier, facts.leaf);
    if (facts.kind !== null) {
      const chain = chains.get(facts.conv) ?? { lastLeaf: null, lastSeq: 0 };
      if (!links(facts.prev, chain.lastLeaf)) {
        fail(facts.idx, `conversation ${facts.conv}: link to the previous entry is broken (an entry was removed, inserted or reordered)`);
      }
      if (facts.kind === 'turn') {
        const seq = facts.seq as number;
        if (seq !== chain.lastSeq + 1) fail(facts.idx, `conversation ${facts.conv}: turn ${seq} follows turn ${chain.lastSeq} (turn missing)`);
        chain.lastSeq = seq;
        turns += 1;
        if (facts.contentViolation) violations.push(facts.contentViolation);
        if (facts.contentGone) {
          const list = pending.get(facts.conv) ?? [];
          list.push({ seq, idx: facts.idx });
          pending.set(facts.conv, list);
        }
      } else if (facts.kind === 'knowledge') {
        // An entry's versions follow one another; its first logged version may be any (entries
        // that existed before the log recorded knowledge changes start where they were).
        const version = facts.seq as number;
        if (chain.lastLeaf !== null && version !== chain.lastSeq + 1) {
          fail(facts.idx, `knowledge chain ${facts.conv}: version ${version} follows version ${chain.lastSeq} (version missing)`);
        }
        chain.lastSeq = version;
        knowledgeEvents += 1;
        knowledgeChains.add(facts.conv);
      } else if (facts.kind === 'close') {
        if (facts.seq !== chain.lastSeq) fail(facts.idx, `conversation ${facts.conv}: closed at ${facts.seq} turns but ${chain.lastSeq} are logged`);
      } else if (facts.kind === 'erasure') {
        const through = facts.seq as number;
        const list = pending.get(facts.conv) ?? [];
        const remaining = list.filter((p) => p.seq > through);
        erasedTurns += list.length - remaining.length;
        if (remaining.length > 0) pending.set(facts.conv, remaining);
        else pending.delete(facts.conv);
      }
      chain.lastLeaf = facts.leaf;
      chains.set(facts.conv, chain);
    }
    checkRootAt(frontier.size);
  }

  addCheckpoints([]);
  checkRootAt(0);
  if (options.checkpoints) addCheckpoints(options.checkpoints);

  return {
    /** Checks the next entry in index order. */
    feed: (entry: AuditEntry) => feedChecked(checkEntry(entry)),
    /** The same for an entry whose own checks ran elsewhere (a worker thread). */
    feedChecked,
    addCheckpoints,
    /** Problems found outside the stream (e.g. the knowledge-base history against its log entries). */
    addViolations(list: Violation[]): void {
      for (const v of list) violations.push(v);
    },
    get size() {
      return frontier.size;
    },
    root: () => frontierRoot(frontier),
    /** Violations found so far (the scheduled self-check reads new ones). */
    violations: () => violations.slice(),
    finish(head: { size: number; root: Uint8Array } | undefined, turnsWithoutEntry: Array<{ conversationId: string; seq: number }> = []): AuditReport {
      if (head) {
        if (head.size !== frontier.size) fail(Math.min(head.size, frontier.size), `log head says ${head.size} entries, ${frontier.size} are stored`);
        else if (!Buffer.from(head.root).equals(frontierRoot(frontier))) fail(null, 'log head root does not match the stored entries');
      }
      for (const [size, list] of bySize) {
        if (size > frontier.size) {
          for (const cp of list)
            fail(
              frontier.size,
              `checkpoint from ${cp.source} covers ${size} entries but the log has ${frontier.size}: entries from index ${frontier.size} on were removed (log truncated or rolled back)`,
            );
        }
      }
      for (const [conv, list] of pending) {
        for (const p of list) fail(p.idx, `turn ${conv}#${p.seq}: content missing without a logged erasure (deleted)`);
      }
      for (const t of turnsWithoutEntry) fail(null, `turn ${t.conversationId}#${t.seq} is stored without a log entry`);
      violations.sort((a, b) => (a.idx ?? Number.MAX_SAFE_INTEGER) - (b.idx ?? Number.MAX_SAFE_INTEGER));
      const first = violations.find((v) => v.idx !== null);
      return {
        ok: violations.length === 0,
        size: frontier.size,
        root: frontierRoot(frontier).toString('hex'),
        entries: frontier.size,
        turns,
        conversations: chains.size - knowledgeChains.size,
        erasedTurns,
        knowledgeEvents,
        knowledgeEntries: knowledgeChains.size,
        checkpointsChecked,
        violations,
        firstFailingIndex: first?.idx ?? null,
      };
    },
  };
}

export type LogVerifier = ReturnType<typeof createLogVerifier>;
