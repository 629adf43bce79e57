import { desc, inArray } from 'drizzle-orm';
import { appendLeaf, decodeFrontier, encodeFrontier, type Frontier, frontierRoot, leafHash, type LogHeader, toHeaderBytes } from '../../../core/index.js';
import type { Db } from '../db/database.js';
import { type Run, statement } from '../db/statement.js';
import { logEntry, type logNode } from '../schema/index.js';

/** Subtree hashes are stored at every 4th level: a proof folds at most 15 of them per step. */
export const STORED_LEVEL_STEP = 4;

export interface AppendedEntry {
  idx: number;
  leaf: Buffer;
  header: LogHeader;
}

/**
 * The per-conversation chain: leaf hash (hex) of each conversation's latest entry. Read it while
 * holding the conversations' row locks (every append to a conversation holds its lock), so it
 * stays right until commit without holding the log head.
 */
export async function loadChains(tx: Db, conversationIds: string[]) {
  const lastLeaf = new Map<string, string | null>();
  const ids = [...new Set(conversationIds)];
  for (const id of ids) lastLeaf.set(id, null);
  if (ids.length > 0) {
    const rows = await tx
      .selectDistinctOn([logEntry.conversationId], { conversationId: logEntry.conversationId, leafHash: logEntry.leafHash })
      .from(logEntry)
      .where(inArray(logEntry.conversationId, ids))
      .orderBy(logEntry.conversationId, desc(logEntry.idx));
    for (const row of rows) lastLeaf.set(row.conversationId, row.leafHash.toString('hex'));
  }
  return chainsFrom(lastLeaf);
}

/** Chains whose ends are known (conversation id to the hex leaf of its latest entry, null for none). */
export function chainsFrom(lastLeaf: Map<string, string | null>) {
  const drafts: PreparedEntry[] = [];
  return {
    prevOf(conversationId: string): string | null {
      const prev = lastLeaf.get(conversationId);
      if (prev === undefined) throw new Error(`chain not loaded for ${conversationId}`);
      return prev;
    },
    /** Hashes an entry now (outside the head lock) and links the conversation's chain to it. */
    prepare(header: LogHeader): PreparedEntry {
      const bytes = toHeaderBytes(header);
      const entry = { header, bytes, leaf: leafHash(bytes) };
      lastLeaf.set(header.conv, entry.leaf.toString('hex'));
      drafts.push(entry);
      return entry;
    },
    drafts,
  };
}

export interface PreparedEntry {
  header: LogHeader;
  bytes: Buffer;
  leaf: Buffer;
}

/**
 * Appends prepared entries to the Merkle log inside the caller's transaction. Locks the head row,
 * the serialization point across processes: take it last (after any conversation rows) and keep
 * the work under it short, since it is held until commit.
 */
export async function appendToLog(run: Run, prepared: PreparedEntry[]): Promise<AppendedEntry[]> {
  const log = await openLogAppend(run);
  const out = prepared.map((p) => log.add(p.header, p));
  await log.finish();
  return out;
}

/** The head, locked until commit: the serialization point of appends across processes. */
const LOCK_HEAD = statement<Record<string, never>, { size: string | number; frontier: Uint8Array }>(
  `SELECT size, frontier FROM log_head WHERE id = 1 FOR UPDATE`,
);

/** The named parameters of `LOG_WRITES`: `logAppender(…).values()`. */
export type LogWriteParams = {
  entry_idx: number[];
  entry_leaf: Buffer[];
  entry_header: Buffer[];
  entry_kind: string[];
  entry_conversation: Array<string | null>;
  entry_seq: Array<number | null>;
  node_level: number[];
  node_idx: number[];
  node_hash: Buffer[];
};

/** The named parameters of `HEAD_SET`: `logAppender(…).headValues()`. */
export type HeadParams = {
  head_size: number;
  head_root: Buffer;
  head_frontier: Buffer;
  head_updated_at: string;
};

/**
 * The log's writes as CTEs named `entries` and `nodes` (parameters: `LogWriteParams`), each row
 * written only where `guard` holds (a condition, or empty), for statements that add them to theirs.
 */
export function logWrites(guard = ''): string {
  const where = guard ? ` WHERE ${guard}` : '';
  return `entries AS (
    INSERT INTO log_entry (idx, leaf_hash, header, kind, conversation_id, seq)
    SELECT * FROM unnest(:entry_idx::bigint[], :entry_leaf::bytea[], :entry_header::bytea[], :entry_kind::text[],
      :entry_conversation::uuid[], :entry_seq::integer[])${where}),
  nodes AS (
    INSERT INTO log_node (level, idx, hash) SELECT * FROM unnest(:node_level::smallint[], :node_idx::bigint[], :node_hash::bytea[])${where})`;
}

/** The new head's columns (parameters: `HeadParams`). */
export const HEAD_SET = `size = :head_size::bigint, root = :head_root::bytea, frontier = :head_frontier::bytea, updated_at = :head_updated_at::timestamptz`;

/** The entries, the closed subtrees and the new head, in one round trip while the head is locked. */
const WRITE_ENTRIES = statement<LogWriteParams & HeadParams>(`WITH ${logWrites()}
  UPDATE log_head SET ${HEAD_SET} WHERE id = 1`);

/**
 * Entries appended to a log of `frontier.size` leaves (the frontier is taken over and moved on):
 * their rows, the subtrees they close, and the new head, as statement parameters.
 */
export function logAppender(frontier: Frontier) {
  const startSize = frontier.size;
  const entries: Array<typeof logEntry.$inferInsert> = [];
  const nodes: Array<typeof logNode.$inferInsert> = [];
  return {
    startSize,
    frontier,
    entries,
    add(header: LogHeader, prepared?: { bytes: Buffer; leaf: Buffer }): AppendedEntry {
      const bytes = prepared?.bytes ?? toHeaderBytes(header);
      const leaf = prepared?.leaf ?? leafHash(bytes);
      const idx = frontier.size;
      appendLeaf(frontier, leaf, (level, index, hash) => {
        if (level % STORED_LEVEL_STEP === 0) nodes.push({ level, idx: index, hash });
      });
      const seq =
        header.kind === 'turn' || header.kind === 'close'
          ? header.seq
          : header.kind === 'erasure'
            ? header.through
            : header.kind === 'knowledge'
              ? header.version
              : null;
      entries.push({ idx, leafHash: leaf, header: bytes, kind: header.kind, conversationId: header.conv, seq });
      return { idx, leaf, header };
    },
    /** The rows for `logWrites`. */
    values(): LogWriteParams {
      return {
        entry_idx: entries.map((e) => e.idx),
        entry_leaf: entries.map((e) => e.leafHash),
        entry_header: entries.map((e) => e.header),
        entry_kind: entries.map((e) => e.kind),
        entry_conversation: entries.map((e) => e.conversationId ?? null),
        entry_seq: entries.map((e) => e.seq ?? null),
        node_level: nodes.map((n) => n.level),
        node_idx: nodes.map((n) => n.idx),
        node_hash: nodes.map((n) => n.hash),
      };
    },
    /** `HEAD_SET`'s values: the head after these entries. */
    headValues(): HeadParams {
      return {
        head_size: frontier.size,
        head_root: frontierRoot(frontier),
        head_frontier: encodeFrontier(frontier),
        head_updated_at: new Date().toISOString(),
      };
    },
  };
}

/** Appends to the log inside the transaction `run` belongs to: locks the head until commit. */
export async function openLogAppend(run: Run) {
  const [head] = await run(LOCK_HEAD, {});
  if (!head) throw new Error('log_head row missing: run the migrations');
  // node-postgres gives bigint as text, PGlite as a number.
  const appender = logAppender(decodeFrontier(Number(head.size), head.frontier));
  return {
    ...appender,
    /** Writes the entries, the closed subtrees and the new head. */
    async finish(): Promise<{ size: number; root: Buffer }> {
      const head = appender.headValues();
      if (appender.entries.length > 0) await run(WRITE_ENTRIES, { ...appender.values(), ...head });
      return { size: head.head_size, root: head.head_root };
    },
  };
}
