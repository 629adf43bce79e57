import { desc, eq, inArray } from 'drizzle-orm';
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
 * Appends entries to the Merkle log inside the caller's transaction. `open` locks the head row
 * (the serialization point across processes): call it after locking any conversation rows, so
 * that every transaction takes locks in the same order.
 */
export async function openLogAppend(tx: Tx) {
  const [head] = await tx.select().from(logHead).where(eq(logHead.id, 1)).for('update');
  if (!head) throw new Error('log_head row missing: run the migrations');
  const frontier: Frontier = decodeFrontier(head.size, head.frontier);
  const startSize = head.size;
  const entries: Array<typeof logEntry.$inferInsert> = [];
  const nodes: Array<typeof logNode.$inferInsert> = [];
  const lastLeaf = new Map<string, string | null>();

  return {
    /** Leaf hash (hex) of the latest entry of each conversation, entries appended here included. */
    async prevLeaves(conversationIds: string[]): Promise<void> {
      const missing = [...new Set(conversationIds)].filter((id) => !lastLeaf.has(id));
      if (missing.length === 0) return;
      const rows = await tx
        .selectDistinctOn([logEntry.conversationId], { conversationId: logEntry.conversationId, leafHash: logEntry.leafHash })
        .from(logEntry)
        .where(inArray(logEntry.conversationId, missing))
        .orderBy(logEntry.conversationId, desc(logEntry.idx));
      for (const id of missing) lastLeaf.set(id, null);
      for (const row of rows) lastLeaf.set(row.conversationId, row.leafHash.toString('hex'));
    },
    prevOf(conversationId: string): string | null {
      const prev = lastLeaf.get(conversationId);
      if (prev === undefined) throw new Error(`prevLeaves was not loaded for ${conversationId}`);
      return prev;
    },
    add(header: LogHeader): AppendedEntry {
      const bytes = toHeaderBytes(header);
      const leaf = leafHash(bytes);
      const idx = frontier.size;
      appendLeaf(frontier, leaf, (level, index, hash) => {
        if (level % STORED_LEVEL_STEP === 0) nodes.push({ level, idx: index, hash });
      });
      const seq = header.kind === 'turn' || header.kind === 'close' ? header.seq : header.kind === 'erasure' ? header.through : null;
      entries.push({ idx, leafHash: leaf, header: bytes, kind: header.kind, conversationId: header.conv, seq });
      lastLeaf.set(header.conv, leaf.toString('hex'));
      return { idx, leaf, header };
    },
    /** Writes the entries, the closed subtrees and the new head. */
    async finish(): Promise<{ size: number; root: Buffer }> {
      if (entries.length === 0) return { size: frontier.size, root: frontierRoot(frontier) };
      await tx.insert(logEntry).values(entries);
      if (nodes.length > 0) await tx.insert(logNode).values(nodes);
      const root = frontierRoot(frontier);
      await tx
        .update(logHead)
        .set({ size: frontier.size, root, frontier: encodeFrontier(frontier), updatedAt: new Date() })
        .where(eq(logHead.id, 1));
      return { size: frontier.size, root };
    },
    get startSize() {
      return startSize;
    },
  };
}
