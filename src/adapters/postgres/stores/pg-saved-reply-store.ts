import { and, asc, eq, sql } from 'drizzle-orm';
import type { Language, SavedReply, SavedReplyStore } from '../../../core/index.js';
import type { Db } from '../db/database.js';
import { savedReply } from '../schema/index.js';

type Row = typeof savedReply.$inferSelect;

const toReply = (r: Row): SavedReply => ({
  id: r.id,
  title: r.title,
  language: r.language as Language,
  body: r.body,
  version: r.version,
  updatedBy: r.updatedBy,
  updatedAt: r.updatedAt,
});

const UNIQUE_VIOLATION = '23505';
function isUniqueViolation(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === UNIQUE_VIOLATION) return true;
  }
  return false;
}

/** Saved replies in PostgreSQL (or PGlite); an update is one conditional statement on the version. */
export function createPgSavedReplyStore(db: Db): SavedReplyStore {
  return {
    async list() {
      return (await db.select().from(savedReply).orderBy(asc(savedReply.language), asc(savedReply.title))).map(toReply);
    },
    async find(id) {
      const [row] = await db.select().from(savedReply).where(eq(savedReply.id, id));
      return row ? toReply(row) : undefined;
    },
    async create(input, by) {
      const [row] = await db
        .insert(savedReply)
        .values({ ...input, createdBy: by, updatedBy: by })
        .onConflictDoNothing()
        .returning();
      return row ? toReply(row) : undefined;
    },
    async update(id, expectedVersion, input, by) {
      try {
        const [row] = await db
          .update(savedReply)
          .set({ ...input, updatedBy: by, updatedAt: sql`now()`, version: sql`${savedReply.version} + 1` })
          .where(and(eq(savedReply.id, id), eq(savedReply.version, expectedVersion)))
          .returning();
        if (row) return toReply(row);
      } catch (error) {
        if (isUniqueViolation(error)) return 'conflict';
        throw error;
      }
      const [exists] = await db.select({ id: savedReply.id }).from(savedReply).where(eq(savedReply.id, id));
      return exists ? 'conflict' : undefined;
    },
    async remove(id) {
      const rows = await db.delete(savedReply).where(eq(savedReply.id, id)).returning({ id: savedReply.id });
      return rows.length > 0;
    },
  };
}
