import { desc, eq, inArray, sql } from 'drizzle-orm';
import {
  appendLeaf,
  decodeFrontier,
  encodeFrontier,
  type Frontier,
  frontierRoot,
  leafHash,
  type LogHeader,
  toHeaderBytes,
} from '../../core/index.js';
import type { Db } from './database.js';
import { logEntry, logHead, logNode } from './schema-turn-log.js';

/** A transaction handle (drizzle passes one to `db.transaction`). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

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
export async function loadChains(tx: Tx, conversationIds: string[], known?: Map<string, string | null>) {
  const lastLeaf = new Map<string, string | null>();
  const ids = [...new Set(conversationIds)];
  for (const id of ids) lastLeaf.set(id, known?.get(id) ?? null);
  if (ids.length > 0 && !known) {
    const rows = await tx
      .selectDistinctOn([logEntry.conversationId], { conversationId: logEntry.conversationId, leafHash: logEntry.leafHash })
      .from(logEntry)
      .where(inArray(logEntry.conversationId, ids))
      .orderBy(logEntry.conversationId, desc(logEntry.idx));
    for (const row of rows) lastLeaf.set(row.conversationId, row.leafHash.toString('hex'));
  }
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
export async function appendToLog(tx: Tx, prepared: PreparedEntry[]): Promise<AppendedEntry[]> {
  const log = await openLogAppend(tx);
  const out = prepared.map((p) => log.add(p.header, p));
  await log.finish();
  return out;
}

export async function openLogAppend(tx: Tx) {
  const [head] = await tx.select().from(logHead).where(eq(logHead.id, 1)).for('update');
  if (!head) throw new Error('log_head row missing: run the migrations');
  const frontier: Frontier = decodeFrontier(head.size, head.frontier);
  const startSize = head.size;
  const entries: Array<typeof logEntry.$inferInsert> = [];
  const nodes: Array<typeof logNode.$inferInsert> = [];

  return {
    add(header: LogHeader, prepared?: { bytes: Buffer; leaf: Buffer }): AppendedEntry {
      const bytes = prepared?.bytes ?? toHeaderBytes(header);
      const leaf = prepared?.leaf ?? leafHash(bytes);
      const idx = frontier.size;
      appendLeaf(frontier, leaf, (level, index, hash) => {
        if (level % STORED_LEVEL_STEP === 0) nodes.push({ level, idx: index, hash });
      });
      const seq = header.kind === 'turn' || header.kind === 'close' ? header.seq : header.kind === 'erasure' ? header.through : null;
      entries.push({ idx, leafHash: leaf, header: bytes, kind: header.kind, conversationId: header.conv, seq });
      return { idx, leaf, header };
    },
    /** Writes the entries, the closed subtrees and the new head. */
    async finish(): Promise<{ size: number; root: Buffer }> {
      if (entries.length === 0) return { size: frontier.size, root: frontierRoot(frontier) };
      const root = frontierRoot(frontier);
      // One statement, one round trip while the head is locked: the entries, the closed subtrees
      // and the new head.
      const entryRows = sql.join(
        entries.map(
          (e) => sql`(${e.idx}::bigint, ${e.leafHash}::bytea, ${e.header}::bytea, ${e.kind}::text, ${e.conversationId}::uuid, ${e.seq ?? null}::integer)`,
        ),
        sql`, `,
      );
      const nodeRows = sql.join(
        nodes.map((n) => sql`(${n.level}::smallint, ${n.idx}::bigint, ${n.hash}::bytea)`),
        sql`, `,
      );
      await tx.execute(sql`WITH entries AS (
          INSERT INTO log_entry (idx, leaf_hash, header, kind, conversation_id, seq) VALUES ${entryRows})${
            nodes.length > 0 ? sql`, nodes AS (INSERT INTO log_node (level, idx, hash) VALUES ${nodeRows})` : sql``
          }
        UPDATE log_head SET size = ${frontier.size}::bigint, root = ${root}::bytea, frontier = ${encodeFrontier(frontier)}::bytea,
          updated_at = ${new Date().toISOString()}::timestamptz
        WHERE id = 1`);
      return { size: frontier.size, root };
    },
    get startSize() {
      return startSize;
    },
  };
}
