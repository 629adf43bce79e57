import { and, asc, desc, eq, inArray, isNotNull, notExists, sql } from 'drizzle-orm';
import {
  type EntryContent,
  type FileConflict,
  type KnowledgeStore,
  type Revision,
  type RevisionOrigin,
  toKnowledgeChainId,
  toKnowledgeHeader,
  VersionConflictError,
} from '../../../core/index.js';
import type { Db } from '../db/database.js';
import { appendToLog, loadChains } from '../turn-log/pg-log-append.js';
import type { PgKnowledgeIndex } from '../knowledge-index/pg-knowledge-index.js';
import { kbConflict, kbEntry, kbFileState, kbRevision, toEntryContent } from '../schema/index.js';

type RevisionRow = typeof kbRevision.$inferSelect;

function toRevision(row: RevisionRow): Revision {
  return {
    content: toEntryContent(row),
    version: row.version,
    status: row.status as Revision['status'],
    contentHash: row.contentHash,
    translationSync: row.translationSync,
    author: row.author,
    origin: row.origin as RevisionOrigin,
    restoredFrom: row.restoredFrom,
    logIdx: row.logIdx,
    createdAt: row.createdAt,
  };
}

/**
 * The knowledge base's history in PostgreSQL: revisions (append-only), the Markdown folder's state
 * and its conflicts. A commit writes the index (through the knowledge index, under its lock: one
 * knowledge-base change at a time across instances), the revisions and their turn-log entries in
 * one transaction.
 */
export function createPgKnowledgeStore(db: Db, index: PgKnowledgeIndex): KnowledgeStore {
  async function latest(entryIds: string[] | undefined, liveOnly: boolean): Promise<RevisionRow[]> {
    const conditions = [
      ...(entryIds ? [inArray(kbRevision.entryId, entryIds)] : []),
      ...(liveOnly ? [inArray(kbRevision.status, ['published', 'removed'])] : []),
    ];
    return db
      .selectDistinctOn([kbRevision.entryId])
      .from(kbRevision)
      .where(conditions.length > 0 ? and(...conditions) : undefined)
      .orderBy(kbRevision.entryId, desc(kbRevision.version));
  }

  return {
    async heads(entryIds) {
      if (entryIds && entryIds.length === 0) return [];
      const [heads, lives] = await Promise.all([latest(entryIds, false), latest(entryIds, true)]);
      const liveOf = new Map(lives.filter((r) => r.status === 'published').map((r) => [r.entryId, r]));
      return heads.map((h) => {
        const live = liveOf.get(h.entryId);
        return { head: toRevision(h), live: live ? toRevision(live) : undefined };
      });
    },

    async history(entryId) {
      const rows = await db.select().from(kbRevision).where(eq(kbRevision.entryId, entryId)).orderBy(asc(kbRevision.version));
      return rows.map(toRevision);
    },

    async syncPoints(entryIds) {
      if (entryIds.length === 0) return [];
      const rows = await db
        .select({ entryId: kbRevision.entryId, version: kbRevision.version, translationSync: kbRevision.translationSync, logIdx: kbRevision.logIdx })
        .from(kbRevision)
        .where(and(inArray(kbRevision.entryId, entryIds), isNotNull(kbRevision.translationSync), eq(kbRevision.status, 'published')));
      return rows.map((r) => ({ ...r, translationSync: r.translationSync as number }));
    },

    async hashes(entryIds) {
      if (entryIds.length === 0) return [];
      return db
        .select({ entryId: kbRevision.entryId, version: kbRevision.version, contentHash: kbRevision.contentHash })
        .from(kbRevision)
        .where(inArray(kbRevision.entryId, entryIds));
    },

    async fileStates() {
      return db
        .select({ entryId: kbFileState.entryId, source: kbFileState.source, contentHash: kbFileState.contentHash, version: kbFileState.version })
        .from(kbFileState);
    },

    async conflicts() {
      const rows = await db.select().from(kbConflict).orderBy(asc(kbConflict.entryId));
      return rows.map(
        (r): FileConflict => ({
          entryId: r.entryId,
          source: r.source,
          kind: r.kind as FileConflict['kind'],
          fileHash: r.fileHash,
          file: (r.file as EntryContent | null) ?? null,
          headVersion: r.headVersion,
          detectedAt: r.detectedAt,
        }),
      );
    },

    async commit(change) {
      const ids = [...new Set(change.revisions.map((r) => r.content.id))];
      return index.applySyncWith(change.index?.upserts ?? [], change.index?.removals ?? [], async ({ db: tx, run }) => {
        if (ids.length > 0) {
          const heads = await tx
            .select({ entryId: kbRevision.entryId, version: sql<number>`max(${kbRevision.version})`.mapWith(Number) })
            .from(kbRevision)
            .where(inArray(kbRevision.entryId, ids))
            .groupBy(kbRevision.entryId);
          const headOf = new Map(heads.map((h) => [h.entryId, h.version]));
          // Revisions of one entry in one commit follow one another: the first names the stored head.
          const firstOf = new Map<string, number | null>();
          for (const r of change.revisions) if (!firstOf.has(r.content.id)) firstOf.set(r.content.id, r.expectedHead);
          for (const [id, expected] of firstOf) {
            if ((headOf.get(id) ?? null) !== expected) {
              const [current] = await tx.select().from(kbRevision).where(eq(kbRevision.entryId, id)).orderBy(desc(kbRevision.version)).limit(1);
              throw new VersionConflictError(id, 'stale', current ? toRevision(current) : undefined);
            }
          }
        }
        let written: Revision[] = [];
        if (change.revisions.length > 0) {
          const chains = await loadChains(tx, ids.map(toKnowledgeChainId));
          const at = Date.now();
          const prepared = change.revisions.map((r) =>
            chains.prepare(
              toKnowledgeHeader({
                entry: r.content.id,
                version: r.version,
                status: r.status,
                hash: r.contentHash,
                by: r.author,
                prev: chains.prevOf(toKnowledgeChainId(r.content.id)),
                at,
              }),
            ),
          );
          const appended = await appendToLog(run, prepared);
          const rows = await tx
            .insert(kbRevision)
            .values(
              change.revisions.map((r, i) => ({
                entryId: r.content.id,
                version: r.version,
                status: r.status,
                lang: r.content.lang,
                title: r.content.title,
                questions: r.content.questions,
                tags: r.content.tags,
                links: r.content.links,
                translation: r.content.translation ?? null,
                body: r.content.body,
                contentHash: r.contentHash,
                translationSync: r.translationSync,
                author: r.author,
                origin: r.origin,
                restoredFrom: r.restoredFrom,
                logIdx: appended[i]?.idx ?? -1,
                createdAt: new Date(at),
              })),
            )
            .returning();
          written = rows.map(toRevision);
        }
        const states = change.fileStates;
        if (states && states.remove.length > 0) await tx.delete(kbFileState).where(inArray(kbFileState.entryId, states.remove));
        for (const state of states?.set ?? []) {
          const values = { ...state, updatedAt: new Date() };
          await tx.insert(kbFileState).values(values).onConflictDoUpdate({ target: kbFileState.entryId, set: values });
        }
        const conflicts = change.conflicts;
        if (conflicts && conflicts.remove.length > 0) await tx.delete(kbConflict).where(inArray(kbConflict.entryId, conflicts.remove));
        for (const conflict of conflicts?.set ?? []) {
          const values = { ...conflict, detectedAt: new Date() };
          await tx.insert(kbConflict).values(values).onConflictDoUpdate({ target: kbConflict.entryId, set: values });
        }
        return written;
      });
    },

    async unrevisioned() {
      const rows = await db
        .select()
        .from(kbEntry)
        .where(notExists(db.select({ one: sql`1` }).from(kbRevision).where(eq(kbRevision.entryId, kbEntry.id))))
        .orderBy(asc(kbEntry.id));
      return rows.map((r) => ({ ...toEntryContent({ ...r, entryId: r.id }), version: r.version, source: r.source }));
    },

    generation: () => index.generation(),
  };
}
