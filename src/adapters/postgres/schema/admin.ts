import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Staff accounts of the console: a name, a role and a scrypt hash of the password; failed sign-ins
 * and the lockout they caused. Removing an account deletes it and its sessions; what it changed
 * keeps its name (revisions and log entries store the name, not this row).
 */
export const adminAccount = pgTable(
  'admin_account',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    passwordHash: text('password_hash').notNull(),
    failedLogins: integer('failed_logins').notNull().default(0),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('admin_account_name_idx').on(t.name), check('admin_account_role_check', sql`${t.role} IN ('admin', 'kb_editor', 'agent', 'lead')`)],
);

/**
 * A signed-in browser: the SHA-256 of its cookie token (the token itself is never stored), its
 * CSRF token, and when it expires (idle and absolute limits, see core/admin). Shared by every
 * instance, so a session works whichever instance a request reaches.
 */
export const adminSession = pgTable(
  'admin_session',
  {
    idHash: text('id_hash').primaryKey(),
    accountId: bigint('account_id', { mode: 'number' })
      .notNull()
      .references(() => adminAccount.id, { onDelete: 'cascade' }),
    csrfToken: text('csrf_token').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('admin_session_account_idx').on(t.accountId), index('admin_session_expires_idx').on(t.expiresAt)],
);
