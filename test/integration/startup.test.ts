import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/adapters/postgres/db/database.js';
import { startHelpdesk } from '../../src/main.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a TypeScript entry point of the repo as its own process; resolves with its exit and output. */
function run(script: string, env: Record<string, string>, timeoutMs = 60_000) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', KB_WATCH: 'false', ...env },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('start-up and the embedded database', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-data-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('stops start-up with one message naming every bad variable', async () => {
    const result = await run('src/main.ts', { PORT: 'eighty', ANSWER_THRESHOLD: '7', DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/Invalid configuration/);
    expect(result.output).toMatch(/PORT/);
    expect(result.output).toMatch(/ANSWER_THRESHOLD/);
  });

  it('keeps conversations across a restart on the same data folder', async () => {
    const env = { PORT: '0', DATA_DIR: dataDir, KNOWLEDGE_DIR, KB_WATCH: 'false', LOG_LEVEL: 'silent' };
    const first = await startHelpdesk({ env });
    const created = (await (
      await fetch(`${first.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    ).json()) as { id: string; token: string };
    await fetch(`${first.url}/api/conversations/${created.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${created.token}` },
      body: JSON.stringify({ text: 'What are the trading fees?' }),
    });
    await first.stop();
    const second = await startHelpdesk({ env });
    try {
      const res = await fetch(`${second.url}/api/conversations/${created.id}/messages?after=0`, { headers: { authorization: `Bearer ${created.token}` } });
      const body = (await res.json()) as { turns: Array<{ role: string }> };
      expect(body.turns.map((t) => t.role)).toEqual(['bot', 'customer', 'bot']);
    } finally {
      await second.stop();
    }
  });

  it('undoes what it started when start-up fails part way: a port in use leaves the data folder unlocked', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const port = String((taken.address() as { port: number }).port);
    const folder = await mkdtemp(join(tmpdir(), 'helpdesk-failed-start-'));
    try {
      const env = { PORT: port, HOST: '127.0.0.1', DATA_DIR: folder, KNOWLEDGE_DIR, KB_WATCH: 'true', LOG_LEVEL: 'silent' };
      await expect(startHelpdesk({ env })).rejects.toThrow(/EADDRINUSE/);
      // The failed start closed the database (its lock released) and stopped its timers and watcher.
      const again = await startHelpdesk({ env: { ...env, PORT: '0' } });
      await again.stop();
    } finally {
      taken.close();
      await rm(folder, { recursive: true, force: true });
    }
  }, 300_000);

  it('gives a second process on the same data folder a clear error and leaves the folder intact', async () => {
    const holder = await openDatabase({ dataDir });
    try {
      const result = await run('src/main.ts', { PORT: '0', DATA_DIR: dataDir, KNOWLEDGE_DIR });
      expect(result.code).toBe(1);
      expect(result.output).toMatch(/in use by another process/);
      expect(result.output).toMatch(new RegExp(`pid ${process.pid}`));
    } finally {
      await holder.close();
    }
    // Released: the folder opens again and still holds its data.
    const again = await openDatabase({ dataDir });
    const rows = await again.db.execute('SELECT count(*)::int AS n FROM conversation');
    expect((rows as unknown as { rows: Array<{ n: number }> }).rows[0]?.n).toBeGreaterThan(0);
    await again.close();
  });

  it('opens a data folder whose lock names a pid now used by another process (a reboot, or pids wrapping), but not one whose process still runs', async () => {
    const { writeFile, readFile } = await import('node:fs/promises');
    const lock = join(dataDir, 'helpdesk.lock');
    // A live process that is not the lock's owner: what the owner's pid belongs to after a reboot.
    const stranger = spawn('sleep', ['30']);
    try {
      const pid = stranger.pid as number;
      const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      for (const stale of [
        { pid, boot: 'an-earlier-boot', start },
        { pid, boot, start: '1' },
      ]) {
        await writeFile(lock, JSON.stringify(stale));
        const database = await openDatabase({ dataDir });
        expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ pid: process.pid, boot });
        await database.close();
      }
      // The same pid, boot and start: that process holds the folder.
      await writeFile(lock, JSON.stringify({ pid, boot, start }));
      await expect(openDatabase({ dataDir })).rejects.toThrow(new RegExp(`in use by another process \\(pid ${pid}\\)`));
    } finally {
      stranger.kill('SIGKILL');
      await rm(lock, { force: true });
    }
  });

  it('keeps the data folder private: the folder and its folders 0700, every file owner-only, also a folder an older version left open', async () => {
    const { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } = await import('node:fs');
    const dir = join(await mkdtemp(join(tmpdir(), 'helpdesk-perm-')), 'data');
    // As an older version left it: a world-readable folder with a world-writable file.
    mkdirSync(dir, { mode: 0o755 });
    writeFileSync(join(dir, 'old-file'), 'x');
    chmodSync(join(dir, 'old-file'), 0o666);
    const modes: string[] = [];
    const walk = (path: string) => {
      for (const entry of readdirSync(path, { withFileTypes: true })) {
        const child = join(path, entry.name);
        if (entry.isSymbolicLink()) continue;
        modes.push(`${(statSync(child).mode & 0o777).toString(8)} ${entry.isDirectory() ? 'dir' : 'file'}`);
        if (entry.isDirectory()) walk(child);
      }
    };
    const database = await openDatabase({ dataDir: dir });
    try {
      await database.migrate();
      await database.db.execute("CREATE TABLE perm_probe AS SELECT repeat('x', 100) AS x FROM generate_series(1, 1000)");
    } finally {
      await database.close();
    }
    expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
    walk(dir);
    expect(modes.length).toBeGreaterThan(100);
    const open = modes.filter((m) => !/^[0-7]00 /.test(m) || (m.endsWith('dir') && !m.startsWith('700')));
    expect(open).toEqual([]);
    await rm(dirname(dir), { recursive: true, force: true });
  });

  it('applies migrations with npm run db:migrate, idempotently', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'helpdesk-migrate-'));
    try {
      for (let i = 0; i < 2; i++) {
        const result = await run('scripts/db-migrate.ts', { DATA_DIR: dir });
        expect(result.output).toMatch(/migrations applied \(pglite\)/);
        expect(result.code).toBe(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('knowledge folder watching', () => {
  it('tries a re-sync that failed (the database away) again until it succeeds', async () => {
    const { cp, writeFile } = await import('node:fs/promises');
    const { createKnowledgeSync } = await import('../../src/adapters/knowledge-files/knowledge-sync.js');
    const { createTestHelpdesk, silentLogger } = await import('../support/helpdesk.js');
    const dir = await mkdtemp(join(tmpdir(), 'helpdesk-kb-'));
    await cp(KNOWLEDGE_DIR, dir, { recursive: true });
    const t = await createTestHelpdesk('pglite');
    let outage = 2;
    const importFiles = (files: Parameters<typeof t.helpdesk.syncKnowledge>[0]) =>
      outage-- > 0 ? Promise.reject(new Error('Connection terminated unexpectedly')) : t.helpdesk.syncKnowledge(files);
    const sync = createKnowledgeSync({ importFiles, dir, logger: silentLogger, retryMs: [100, 400] });
    const unwatch = sync.watch();
    try {
      await writeFile(
        join(dir, 'en', 'staking-rewards.md'),
        '---\nid: staking-rewards-en\nlang: en\ntitle: When are staking rewards paid?\n---\nDaily at 08:00 UTC+8.\n',
      );
      let ids: string[] = [];
      for (let i = 0; i < 50 && !ids.includes('staking-rewards-en'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        ids = (await t.knowledge.listEntries()).map((e) => e.id);
      }
      expect(outage).toBeLessThan(0);
      expect(ids).toContain('staking-rewards-en');
    } finally {
      unwatch();
      await t.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('syncs a new entry written while the server runs', async () => {
    const { cp, writeFile } = await import('node:fs/promises');
    const dir = await mkdtemp(join(tmpdir(), 'helpdesk-kb-'));
    const data = await mkdtemp(join(tmpdir(), 'helpdesk-data-'));
    await cp(KNOWLEDGE_DIR, dir, { recursive: true });
    // A new conversation per try, all from this address.
    const running = await startHelpdesk({
      env: { PORT: '0', DATA_DIR: data, KNOWLEDGE_DIR: dir, KB_WATCH: 'true', LOG_LEVEL: 'silent', RATE_LIMIT_CLIENT_CONVERSATIONS: '1000' },
    });
    try {
      await writeFile(
        join(dir, 'en', 'staking-rewards.md'),
        '---\nid: staking-rewards-en\nlang: en\ntitle: When are staking rewards paid?\nquestions:\n  - when do I get my staking rewards\n---\nStaking rewards are paid daily at 08:00 UTC+8.\n',
      );
      let cited: string | undefined;
      for (let i = 0; i < 40 && cited !== 'staking-rewards-en'; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const conv = (await (
          await fetch(`${running.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
        ).json()) as { id: string; token: string };
        const res = await fetch(`${running.url}/api/conversations/${conv.id}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${conv.token}` },
          body: JSON.stringify({ text: 'when do I get my staking rewards' }),
        });
        const body = (await res.json()) as { turns: Array<{ citations: Array<{ id: string }> }> };
        cited = body.turns.at(-1)?.citations[0]?.id;
      }
      expect(cited).toBe('staking-rewards-en');
    } finally {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
      await rm(data, { recursive: true, force: true });
    }
  });
});
