import { describe, expect, it } from 'vitest';
import { type AccountStore, createAdminAccess, LoginLockedError, type SessionStore, type StaffAccount, type StaffSession } from '../../src/core/index.js';

/** Accounts and sessions in memory, with the same semantics as the PostgreSQL stores. */
function memoryStores() {
  const accounts = new Map<string, StaffAccount>();
  const sessions = new Map<string, StaffSession>();
  let nextId = 1;
  const accountStore: AccountStore = {
    async create(a) {
      if (accounts.has(a.name)) return undefined;
      const account: StaffAccount = { id: nextId++, ...a, failedLogins: 0, lockedUntil: null, lastLoginAt: null, createdAt: new Date() };
      accounts.set(a.name, account);
      return account;
    },
    async find(name) {
      return accounts.get(name);
    },
    async list() {
      return [...accounts.values()];
    },
    async remove(name) {
      const account = accounts.get(name);
      if (!account) return false;
      accounts.delete(name);
      for (const [k, s] of sessions) if (s.accountId === account.id) sessions.delete(k);
      return true;
    },
    async setPassword(name, passwordHash) {
      const account = accounts.get(name);
      if (!account) return false;
      Object.assign(account, { passwordHash, failedLogins: 0, lockedUntil: null });
      for (const [k, s] of sessions) if (s.accountId === account.id) sessions.delete(k);
      return true;
    },
    async recordFailure(id, { now, maxFailures, lockUntil }) {
      const account = [...accounts.values()].find((a) => a.id === id);
      if (!account) return { failedLogins: 0, lockedUntil: null };
      const expired = account.lockedUntil !== null && account.lockedUntil <= now;
      account.failedLogins = expired ? 1 : account.failedLogins + 1;
      account.lockedUntil = account.failedLogins >= maxFailures ? lockUntil : expired ? null : account.lockedUntil;
      return { failedLogins: account.failedLogins, lockedUntil: account.lockedUntil };
    },
    async recordSuccess(id, at) {
      const account = [...accounts.values()].find((a) => a.id === id);
      if (account) Object.assign(account, { failedLogins: 0, lockedUntil: null, lastLoginAt: at });
    },
  };
  const sessionStore: SessionStore = {
    async create(s) {
      sessions.set(s.idHash, { ...s });
    },
    async find(idHash) {
      const session = sessions.get(idHash);
      const account = session && [...accounts.values()].find((a) => a.id === session.accountId);
      return session && account ? { session: { ...session }, account } : undefined;
    },
    async touch(idHash, lastSeenAt) {
      const s = sessions.get(idHash);
      if (s) s.lastSeenAt = lastSeenAt;
    },
    async remove(idHash) {
      sessions.delete(idHash);
    },
    async purge(now, idleSince) {
      let n = 0;
      for (const [k, s] of sessions) {
        if (s.expiresAt > now && s.lastSeenAt >= idleSince) continue;
        sessions.delete(k);
        n++;
      }
      return n;
    },
  };
  return { accountStore, sessionStore, sessions };
}

function setup(settings = {}) {
  let clock = Date.UTC(2026, 0, 1, 9);
  const stores = memoryStores();
  const access = createAdminAccess({
    accounts: stores.accountStore,
    sessions: stores.sessionStore,
    adminToken: 'automation-token-0123456789',
    settings: { idleMs: 30 * 60_000, maxMs: 12 * 3_600_000, maxFailures: 3, lockoutMs: 10 * 60_000, clientAttempts: 100, clientWindowMs: 60_000, ...settings },
    now: () => clock,
  });
  return {
    access,
    stores,
    advance(ms: number) {
      clock += ms;
    },
  };
}

const login = (access: ReturnType<typeof setup>['access'], password = 'alice-password-1', client = '10.0.0.1') =>
  access.login({ user: 'alice', password, client });

describe('staff sign-in and sessions', () => {
  it('stores no password, only a scrypt hash, and signs in with the right one', async () => {
    const { access } = setup();
    const { account } = await access.addAccount({ name: 'alice', role: 'kb_editor', password: 'alice-password-1' });
    expect(account.passwordHash).toMatch(/^scrypt\$/);
    expect(account.passwordHash).not.toContain('alice-password-1');
    const session = await login(access);
    expect(session.principal).toMatchObject({ name: 'alice', role: 'kb_editor', via: 'session' });
    expect((await access.authenticateSession(session.token)).principal.name).toBe('alice');
  });

  it('expires a session left idle, and one past its absolute limit even when used', async () => {
    const { access, advance } = setup();
    await access.addAccount({ name: 'alice', role: 'kb_editor', password: 'alice-password-1' });
    const idle = await login(access);
    advance(31 * 60_000);
    await expect(access.authenticateSession(idle.token)).rejects.toThrow(/expired/);

    const busy = await login(access);
    for (let minutes = 0; minutes < 12 * 60 - 20; minutes += 20) {
      advance(20 * 60_000);
      await access.authenticateSession(busy.token);
    }
    advance(25 * 60_000);
    await expect(access.authenticateSession(busy.token)).rejects.toThrow(/expired/);
  });

  it('locks an account after repeated wrong passwords, even for the right one, until the lockout ends', async () => {
    const { access, advance } = setup();
    await access.addAccount({ name: 'alice', role: 'kb_editor', password: 'alice-password-1' });
    await expect(login(access, 'wrong-1-password')).rejects.toThrow(/wrong password/);
    await expect(login(access, 'wrong-2-password')).rejects.toThrow(/wrong password/);
    await expect(login(access, 'wrong-3-password')).rejects.toBeInstanceOf(LoginLockedError);
    await expect(login(access)).rejects.toBeInstanceOf(LoginLockedError);
    advance(10 * 60_000 + 1);
    expect((await login(access)).principal.name).toBe('alice');
  });

  it('locks an unknown name like a real one, so a lockout does not tell which names exist', async () => {
    const { access } = setup();
    for (let i = 0; i < 3; i++) await access.login({ user: 'mallory', password: 'guess-password', client: '10.0.0.2' }).catch(() => undefined);
    await expect(access.login({ user: 'mallory', password: 'guess-password', client: '10.0.0.2' })).rejects.toBeInstanceOf(LoginLockedError);
  });

  it('limits sign-in attempts per client address, whatever the account', async () => {
    const { access } = setup({ clientAttempts: 4 });
    await access.addAccount({ name: 'alice', role: 'kb_editor', password: 'alice-password-1' });
    for (let i = 0; i < 4; i++) await access.login({ user: `user-${i}`, password: 'guess-password', client: '10.0.0.3' }).catch(() => undefined);
    await expect(login(access, 'alice-password-1', '10.0.0.3')).rejects.toBeInstanceOf(LoginLockedError);
    expect((await login(access, 'alice-password-1', '10.0.0.4')).principal.name).toBe('alice');
  });

  it('checks the CSRF token of the session, and accepts the admin token only when it matches', async () => {
    const { access } = setup();
    await access.addAccount({ name: 'alice', role: 'kb_editor', password: 'alice-password-1' });
    const session = await login(access);
    expect(access.checkCsrf(session.csrfToken, session.csrfToken)).toBe(true);
    expect(access.checkCsrf(session.csrfToken, undefined)).toBe(false);
    expect(access.checkCsrf(session.csrfToken, `${session.csrfToken}x`)).toBe(false);
    expect(access.authenticateToken('automation-token-0123456789')).toMatchObject({ name: 'token:admin', via: 'token' });
    expect(access.authenticateToken('automation-token-012345678')).toBeUndefined();
  });

  it('signs an account out everywhere when its password is reset or it is removed', async () => {
    const { access } = setup();
    await access.addAccount({ name: 'alice', role: 'kb_editor', password: 'alice-password-1' });
    const first = await login(access);
    await access.resetPassword('alice', 'alice-password-2');
    await expect(access.authenticateSession(first.token)).rejects.toThrow();
    const second = await login(access, 'alice-password-2');
    await access.removeAccount('alice');
    await expect(access.authenticateSession(second.token)).rejects.toThrow();
  });

  it('refuses bad account names, roles and short passwords with a clear message', async () => {
    const { access } = setup();
    await expect(access.addAccount({ name: 'Bad Name!', role: 'admin', password: 'long-enough-1' })).rejects.toThrow(/bad account name/);
    await expect(access.addAccount({ name: 'carol', role: 'root', password: 'long-enough-1' })).rejects.toThrow(/bad role/);
    await expect(access.addAccount({ name: 'carol', role: 'admin', password: 'short' })).rejects.toThrow(/password length/);
    const generated = await access.addAccount({ name: 'carol', role: 'lead' });
    expect(generated.generated).toBe(true);
    expect(generated.password.length).toBeGreaterThanOrEqual(16);
  });
});
