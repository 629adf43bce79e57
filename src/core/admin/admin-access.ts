import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HelpdeskError } from '../errors.js';
import type { SecurityEvent } from '../safety/security-events.js';
import { createRateLimiter } from '../safety/rate-limiter.js';
import { generatePassword, hashPassword, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, UNUSABLE_HASH, verifyPassword } from './passwords.js';
import { isStaffRole, type Permission, permissionsOf, type StaffRole } from './roles.js';

/** A staff account as stored. */
export interface StaffAccount {
  id: number;
  name: string;
  role: StaffRole;
  passwordHash: string;
  failedLogins: number;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
}

/** Staff accounts. */
export interface AccountStore {
  /** Creates the account; undefined when the name is taken. */
  create(account: { name: string; role: StaffRole; passwordHash: string }): Promise<StaffAccount | undefined>;
  find(name: string): Promise<StaffAccount | undefined>;
  list(): Promise<StaffAccount[]>;
  /** Deletes the account and its sessions; false when there was none. */
  remove(name: string): Promise<boolean>;
  /** Sets a new password, clears failures and lockout, ends the account's sessions; false when there is no such account. */
  setPassword(name: string, passwordHash: string): Promise<boolean>;
  /**
   * Counts one failed sign-in, atomically (several instances count together): a lockout that has
   * run out starts the count again; reaching `maxFailures` locks the account until `lockUntil`.
   */
  recordFailure(id: number, options: { now: Date; maxFailures: number; lockUntil: Date }): Promise<{ failedLogins: number; lockedUntil: Date | null }>;
  recordSuccess(id: number, at: Date): Promise<void>;
}

export interface StaffSession {
  idHash: string;
  accountId: number;
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

/** Signed-in browsers, shared by every instance. */
export interface SessionStore {
  create(session: StaffSession): Promise<void>;
  /** The session and its account (undefined when either is gone). */
  find(idHash: string): Promise<{ session: StaffSession; account: StaffAccount } | undefined>;
  touch(idHash: string, lastSeenAt: Date): Promise<void>;
  remove(idHash: string): Promise<void>;
  /** Deletes sessions past their absolute expiry or idle since before `idleSince`; returns how many. */
  purge(now: Date, idleSince: Date): Promise<number>;
}

/** Who is asking: a signed-in account, or an automation with the admin token. */
export interface Principal {
  /** The account's name, or `token:admin`: what history and the log record as the author. */
  name: string;
  role: StaffRole;
  via: 'session' | 'token';
  permissions: Permission[];
}

export interface SessionSettings {
  /** A session unused this long expires. */
  idleMs: number;
  /** A session expires this long after sign-in, used or not. */
  maxMs: number;
  /** Failed sign-ins in a row that lock an account… */
  maxFailures: number;
  /** …for this long. */
  lockoutMs: number;
  /** Sign-in attempts per client address per `clientWindowMs` (any account, right or wrong). */
  clientAttempts: number;
  clientWindowMs: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = {
  idleMs: 30 * 60_000,
  maxMs: 12 * 3_600_000,
  maxFailures: 5,
  lockoutMs: 15 * 60_000,
  clientAttempts: 20,
  clientWindowMs: 15 * 60_000,
};

/** A sign-in refused for now; `retryAfterSeconds` says when to try again. */
export class LoginLockedError extends HelpdeskError {
  constructor(readonly retryAfterSeconds: number) {
    const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
    super('login_locked', `sign-in locked for ${retryAfterSeconds} s`, `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`);
    this.name = 'LoginLockedError';
  }
}

const NAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;
/** Sessions are touched at most this often: the idle limit is exact to within it, and reads stay reads. */
const TOUCH_EVERY_MS = 60_000;
/** Unknown names whose failures are counted in memory (so that a lockout does not tell which names exist). */
const UNKNOWN_NAMES_KEPT = 10_000;

const sha256 = (value: string) => createHash('sha256').update(value).digest();
const toIdHash = (token: string) => sha256(token).toString('hex');

export function checkAccountName(name: string): string {
  const trimmed = name.trim();
  if (!NAME.test(trimmed)) {
    throw new HelpdeskError('invalid_input', `bad account name ${JSON.stringify(name)}`, 'An account name is 2-64 lowercase letters, digits, ".", "_" or "-".');
  }
  return trimmed;
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_CHARS || password.length > MAX_PASSWORD_CHARS) {
    throw new HelpdeskError('invalid_input', 'password length out of range', `A password has ${MIN_PASSWORD_CHARS} to ${MAX_PASSWORD_CHARS} characters.`);
  }
}

/**
 * Staff sign-in and sessions: accounts with a role and a scrypt password hash, sessions that
 * expire when idle and at an absolute limit, a lockout after repeated failures (per account, in
 * the database, so instances count together; per client address, in memory), and the admin
 * token for automation. Denials are recorded as security events (never a password).
 */
export function createAdminAccess(deps: {
  accounts: AccountStore;
  sessions: SessionStore;
  settings?: Partial<SessionSettings>;
  /** The ADMIN_TOKEN (bearer) for automation; undefined: no token accepted. */
  adminToken?: string;
  record?: (event: SecurityEvent) => Promise<void>;
  now?: () => number;
}) {
  const settings: SessionSettings = { ...DEFAULT_SESSION_SETTINGS, ...deps.settings };
  const now = deps.now ?? Date.now;
  const tokenHash = deps.adminToken ? sha256(deps.adminToken) : undefined;
  const clients = createRateLimiter({ limit: settings.clientAttempts, windowMs: settings.clientWindowMs }, now);
  const unknownNames = new Map<string, { failures: number; lockedUntil: number }>();
  const record = async (event: SecurityEvent) => {
    await deps.record?.(event).catch(() => undefined);
  };
  const deny = (reason: string, extra: Record<string, unknown> = {}) =>
    record({ type: 'access_denied', channel: 'admin', detail: { route: 'POST /api/admin/login', reason, ...extra } });

  function toPrincipal(name: string, role: StaffRole, via: Principal['via']): Principal {
    return { name, role, via, permissions: permissionsOf(role) };
  }

  /** Failures of a name that has no account, counted like an account's. */
  function unknownNameFailure(name: string): void {
    const t = now();
    const state = unknownNames.get(name);
    const failures = state && state.lockedUntil > 0 && state.lockedUntil <= t ? 1 : (state?.failures ?? 0) + 1;
    if (!state && unknownNames.size >= UNKNOWN_NAMES_KEPT) unknownNames.clear();
    unknownNames.set(name, { failures, lockedUntil: failures >= settings.maxFailures ? t + settings.lockoutMs : 0 });
  }

  return {
    settings,

    /**
     * Signs in: the session's token (for the cookie, never stored) and its CSRF token. Throws
     * `login_failed` for a wrong name or password (the same answer, in about the same time, for
     * either) and LoginLockedError while the account or the client is locked out.
     */
    async login(input: {
      user: string;
      password: string;
      client: string;
    }): Promise<{ token: string; csrfToken: string; principal: Principal; expiresAt: Date }> {
      const limit = clients.take(input.client);
      if (!limit.allowed) {
        await record({ type: 'rate_limited', channel: 'admin', detail: { route: 'POST /api/admin/login', reason: 'login_attempts_per_client' } });
        throw new LoginLockedError(Math.ceil(limit.retryAfterMs / 1000));
      }
      const name = input.user.trim().toLowerCase();
      const t = now();
      const account = NAME.test(name) ? await deps.accounts.find(name) : undefined;
      if (!account) {
        const state = unknownNames.get(name);
        if (state && state.lockedUntil > t) throw new LoginLockedError(Math.ceil((state.lockedUntil - t) / 1000));
        await verifyPassword(input.password, UNUSABLE_HASH);
        unknownNameFailure(name);
        await deny('unknown_account');
        throw new HelpdeskError('login_failed', 'unknown account', 'Wrong user name or password.');
      }
      if (account.lockedUntil && account.lockedUntil.getTime() > t) {
        await deny('account_locked', { account: account.name });
        throw new LoginLockedError(Math.ceil((account.lockedUntil.getTime() - t) / 1000));
      }
      if (!(await verifyPassword(input.password, account.passwordHash))) {
        const result = await deps.accounts.recordFailure(account.id, {
          now: new Date(t),
          maxFailures: settings.maxFailures,
          lockUntil: new Date(t + settings.lockoutMs),
        });
        await deny('wrong_password', { account: account.name, count: result.failedLogins });
        if (result.lockedUntil && result.lockedUntil.getTime() > t) throw new LoginLockedError(Math.ceil((result.lockedUntil.getTime() - t) / 1000));
        throw new HelpdeskError('login_failed', 'wrong password', 'Wrong user name or password.');
      }
      await deps.accounts.recordSuccess(account.id, new Date(t));
      const token = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(24).toString('base64url');
      const expiresAt = new Date(t + settings.maxMs);
      await deps.sessions.create({ idHash: toIdHash(token), accountId: account.id, csrfToken, createdAt: new Date(t), lastSeenAt: new Date(t), expiresAt });
      return { token, csrfToken, principal: toPrincipal(account.name, account.role, 'session'), expiresAt };
    },

    /**
     * The principal of a session cookie, with its CSRF token and when it expires (the earlier of
     * the idle and the absolute limit). Throws `unauthenticated` for a missing, unknown or expired
     * session (an expired one is deleted).
     */
    async authenticateSession(token: string | undefined): Promise<{ principal: Principal; csrfToken: string; expiresAt: Date }> {
      if (!token || token.length > 200) throw new HelpdeskError('unauthenticated', 'no session', 'Please sign in.');
      const idHash = toIdHash(token);
      const found = await deps.sessions.find(idHash);
      if (!found) throw new HelpdeskError('unauthenticated', 'unknown session', 'Your session has ended. Please sign in again.');
      const { session, account } = found;
      const t = now();
      const idleEnd = session.lastSeenAt.getTime() + settings.idleMs;
      if (session.expiresAt.getTime() <= t || idleEnd <= t) {
        await deps.sessions.remove(idHash);
        throw new HelpdeskError('unauthenticated', 'session expired', 'Your session has expired. Please sign in again.');
      }
      if (t - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) await deps.sessions.touch(idHash, new Date(t));
      const lastSeen = t - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS ? t : session.lastSeenAt.getTime();
      return {
        principal: toPrincipal(account.name, account.role, 'session'),
        csrfToken: session.csrfToken,
        expiresAt: new Date(Math.min(session.expiresAt.getTime(), lastSeen + settings.idleMs)),
      };
    },

    /**
     * Whether a session is still valid, without counting as use (a live-update stream asks this
     * while it stays open: an unattended console still expires when idle).
     */
    async sessionAlive(token: string | undefined): Promise<boolean> {
      if (!token || token.length > 200) return false;
      const found = await deps.sessions.find(toIdHash(token));
      if (!found) return false;
      const t = now();
      return found.session.expiresAt.getTime() > t && found.session.lastSeenAt.getTime() + settings.idleMs > t;
    },

    /** The principal of the admin token (bearer), or undefined when it is not the token. */
    authenticateToken(token: string | undefined): Principal | undefined {
      if (!tokenHash || !token || !timingSafeEqual(tokenHash, sha256(token))) return undefined;
      return toPrincipal('token:admin', 'admin', 'token');
    },

    /** Checks a request's CSRF token against its session's, in constant time. */
    checkCsrf(expected: string, given: string | undefined): boolean {
      if (!given) return false;
      const a = sha256(expected);
      const b = sha256(given);
      return timingSafeEqual(a, b);
    },

    async logout(token: string | undefined): Promise<void> {
      if (token && token.length <= 200) await deps.sessions.remove(toIdHash(token));
    },

    /** Deletes expired sessions (run now and then). */
    purgeSessions(): Promise<number> {
      const t = now();
      return deps.sessions.purge(new Date(t), new Date(t - settings.idleMs));
    },

    /** Adds an account; without a password, one is generated and returned. */
    async addAccount(input: { name: string; role: string; password?: string }): Promise<{ account: StaffAccount; password: string; generated: boolean }> {
      const name = checkAccountName(input.name);
      if (!isStaffRole(input.role)) {
        throw new HelpdeskError('invalid_input', `bad role ${input.role}`, 'The role is admin, kb_editor, agent or lead.');
      }
      const generated = input.password === undefined;
      const password = input.password ?? generatePassword();
      checkPassword(password);
      const account = await deps.accounts.create({ name, role: input.role, passwordHash: await hashPassword(password) });
      if (!account) throw new HelpdeskError('account_exists', `account ${name} exists`, `An account named ${name} exists already.`);
      return { account, password, generated };
    },

    async removeAccount(name: string): Promise<void> {
      if (!(await deps.accounts.remove(checkAccountName(name)))) {
        throw new HelpdeskError('account_not_found', `no account ${name}`, `There is no account named ${name}.`);
      }
    },

    /** Sets a new password (generated when absent), unlocks the account and signs it out everywhere. */
    async resetPassword(name: string, password?: string): Promise<{ password: string; generated: boolean }> {
      const checked = checkAccountName(name);
      const next = password ?? generatePassword();
      checkPassword(next);
      if (!(await deps.accounts.setPassword(checked, await hashPassword(next)))) {
        throw new HelpdeskError('account_not_found', `no account ${name}`, `There is no account named ${name}.`);
      }
      return { password: next, generated: password === undefined };
    },

    listAccounts(): Promise<StaffAccount[]> {
      return deps.accounts.list();
    },
  };
}

export type AdminAccess = ReturnType<typeof createAdminAccess>;
