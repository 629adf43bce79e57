import { asc, eq, lt, or, sql } from 'drizzle-orm';
import { type AccountStore, isStaffRole, type SessionStore, type StaffAccount } from '../../../core/index.js';
import type { Db } from '../db/database.js';
import { adminAccount, adminSession } from '../schema/index.js';

type AccountRow = typeof adminAccount.$inferSelect;

function toAccount(row: AccountRow): StaffAccount {
  if (!isStaffRole(row.role)) throw new Error(`account ${row.name} has an unknown role ${row.role}`);
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    passwordHash: row.passwordHash,
    failedLogins: row.failedLogins,
    lockedUntil: row.lockedUntil,
    lastLoginAt: row.lastLoginAt,
    createdAt: row.createdAt,
  };
}

/** Staff accounts in PostgreSQL. */
export function createPgAccountStore(db: Db): AccountStore {
  return {
    async create(account) {
      const [row] = await db.insert(adminAccount).values(account).onConflictDoNothing().returning();
      return row ? toAccount(row) : undefined;
    },
    async find(name) {
      const [row] = await db.select().from(adminAccount).where(eq(adminAccount.name, name));
      return row ? toAccount(row) : undefined;
    },
    async list() {
      return (await db.select().from(adminAccount).orderBy(asc(adminAccount.name))).map(toAccount);
    },
    async remove(name) {
      const rows = await db.delete(adminAccount).where(eq(adminAccount.name, name)).returning({ id: adminAccount.id });
      return rows.length > 0;
    },
    async setPassword(name, passwordHash) {
      return db.transaction(async (tx) => {
        const rows = await tx
          .update(adminAccount)
          .set({ passwordHash, failedLogins: 0, lockedUntil: null, updatedAt: new Date() })
          .where(eq(adminAccount.name, name))
          .returning({ id: adminAccount.id });
        const id = rows[0]?.id;
        if (id === undefined) return false;
        await tx.delete(adminSession).where(eq(adminSession.accountId, id));
        return true;
      });
    },
    async recordFailure(id, { now, maxFailures, lockUntil }) {
      // A lockout that has run out starts the count again; the count and the lock move in one statement.
      const expired = sql`${adminAccount.lockedUntil} IS NOT NULL AND ${adminAccount.lockedUntil} <= ${now}`;
      const count = sql`CASE WHEN ${expired} THEN 1 ELSE ${adminAccount.failedLogins} + 1 END`;
      const [row] = await db
        .update(adminAccount)
        .set({
          failedLogins: count,
          lockedUntil: sql`CASE WHEN ${count} >= ${maxFailures} THEN ${lockUntil}::timestamptz WHEN ${expired} THEN NULL ELSE ${adminAccount.lockedUntil} END`,
          updatedAt: now,
        })
        .where(eq(adminAccount.id, id))
        .returning({ failedLogins: adminAccount.failedLogins, lockedUntil: adminAccount.lockedUntil });
      return row ?? { failedLogins: 0, lockedUntil: null };
    },
    async recordSuccess(id, at) {
      await db.update(adminAccount).set({ failedLogins: 0, lockedUntil: null, lastLoginAt: at }).where(eq(adminAccount.id, id));
    },
  };
}

/** Staff sessions in PostgreSQL (shared by every instance). */
export function createPgSessionStore(db: Db): SessionStore {
  return {
    async create(session) {
      await db.insert(adminSession).values(session);
    },
    async find(idHash) {
      const [row] = await db
        .select({ session: adminSession, account: adminAccount })
        .from(adminSession)
        .innerJoin(adminAccount, eq(adminAccount.id, adminSession.accountId))
        .where(eq(adminSession.idHash, idHash));
      return row ? { session: row.session, account: toAccount(row.account) } : undefined;
    },
    async touch(idHash, lastSeenAt) {
      await db.update(adminSession).set({ lastSeenAt }).where(eq(adminSession.idHash, idHash));
    },
    async remove(idHash) {
      await db.delete(adminSession).where(eq(adminSession.idHash, idHash));
    },
    async purge(now, idleSince) {
      const rows = await db
        .delete(adminSession)
        .where(or(lt(adminSession.expiresAt, now), lt(adminSession.lastSeenAt, idleSince)))
        .returning({ idHash: adminSession.idHash });
      return rows.length;
    },
  };
}
