import { appendLeaf, emptyFrontier, type Frontier, frontierRoot, leafHash } from './merkle.js';
import { type LogHeader, openContent, parseHeader, toContentBytes, toContentCommitment } from './log-entry.js';
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
  /** Turn entries: the row of the turn table, when it exists. */
  turnRow?: { text: string; data: unknown; escalationDetail: string | null } | null;
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
  checkpointsChecked: number;
  violations: Violation[];
  firstFailingIndex: number | null;
}

interface ChainState {
  lastLeaf: string | null;
  lastSeq: number;
}

/** A checkpoint to check, with where it came from (the database, a published file, a customer). */
export interface CheckpointSource {
  source: string;
  note: string;
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

  function checkTurn(entry: AuditEntry, header: Extract<LogHeader, { kind: 'turn' }>): void {
    turns += 1;
    const content = entry.sealed && entry.key ? openContent(entry.key, header.conv, header.seq, entry.sealed) : undefined;
    if (entry.sealed && entry.key && !content) {
      fail(entry.idx, `turn ${header.conv}#${header.seq}: stored content does not decrypt (altered)`);
      return;
    }
    if (!content) {
      const list = pending.get(header.conv) ?? [];
      list.push({ seq: header.seq, idx: entry.idx });
      pending.set(header.conv, list);
      if (entry.turnRow && entry.turnRow.text !== '') {
        fail(entry.idx, `turn ${header.conv}#${header.seq}: content key or ciphertext deleted while the turn text remains`);
      }
      return;
    }
    if (toContentCommitment(content.salt, content.contentBytes) !== header.commit) {
      fail(entry.idx, `turn ${header.conv}#${header.seq}: content does not match its logged commitment (altered)`);
      return;
    }
    if (!entry.turnRow) {
      fail(entry.idx, `turn ${header.conv}#${header.seq}: turn row missing (deleted)`);
      return;
    }
    let rowBytes: Buffer;
    try {
      rowBytes = toContentBytes({
        text: entry.turnRow.text,
        data: (entry.turnRow.data ?? {}) as TurnData,
        escalationDetail: entry.turnRow.escalationDetail,
      });
    } catch {
      rowBytes = Buffer.alloc(0);
    }
    if (!rowBytes.equals(content.contentBytes)) {
      fail(entry.idx, `turn ${header.conv}#${header.seq}: turn row differs from the logged content (modified)`);
    }
  }

  function feed(entry: AuditEntry): void {
    if (entry.idx !== expected) {
      fail(expected, entry.idx > expected ? `entries ${expected}..${entry.idx - 1} missing` : `entry ${entry.idx} out of order or repeated`);
    }
    expected = entry.idx + 1;
    const leaf = leafHash(entry.header);
    if (!leaf.equals(Buffer.from(entry.leafHash))) fail(entry.idx, 'stored leaf hash does not match the header bytes');
    appendLeaf(frontier, leaf);
    const parsed = parseHeader(entry.header);
    if (!parsed.ok) {
      fail(entry.idx, parsed.reason);
    } else {
      const h = parsed.header;
      const seq = h.kind === 'turn' || h.kind === 'close' ? h.seq : h.kind === 'erasure' ? h.through : null;
      if (h.kind !== entry.kind || h.conv !== entry.conversationId || seq !== entry.seq) {
        fail(entry.idx, 'indexed columns (kind, conversation, seq) disagree with the header');
      }
      const chain = chains.get(h.conv) ?? { lastLeaf: null, lastSeq: 0 };
      if (h.prev !== chain.lastLeaf) {
        fail(entry.idx, `conversation ${h.conv}: link to the previous entry is broken (an entry was removed, inserted or reordered)`);
      }
      if (h.kind === 'turn') {
        if (h.seq !== chain.lastSeq + 1) fail(entry.idx, `conversation ${h.conv}: turn ${h.seq} follows turn ${chain.lastSeq} (turn missing)`);
        chain.lastSeq = h.seq;
        checkTurn(entry, h);
      } else if (h.kind === 'close') {
        if (h.seq !== chain.lastSeq) fail(entry.idx, `conversation ${h.conv}: closed at ${h.seq} turns but ${chain.lastSeq} are logged`);
      } else if (h.kind === 'erasure') {
        const list = pending.get(h.conv) ?? [];
        const remaining = list.filter((p) => p.seq > h.through);
        erasedTurns += list.length - remaining.length;
        if (remaining.length > 0) pending.set(h.conv, remaining);
        else pending.delete(h.conv);
      }
      chain.lastLeaf = leaf.toString('hex');
      chains.set(h.conv, chain);
    }
    checkRootAt(frontier.size);
  }

  addCheckpoints([]);
  checkRootAt(0);
  if (options.checkpoints) addCheckpoints(options.checkpoints);

  return {
    feed,
    addCheckpoints,
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
          for (const cp of list) fail(frontier.size, `checkpoint from ${cp.source} covers ${size} entries but the log has ${frontier.size}: entries from index ${frontier.size} on were removed (log truncated or rolled back)`);
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
        conversations: chains.size,
        erasedTurns,
        checkpointsChecked,
        violations,
        firstFailingIndex: first?.idx ?? null,
      };
    },
  };
}

export type LogVerifier = ReturnType<typeof createLogVerifier>;
