import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Last-resort cleanup: child process groups still running and temp dirs not yet removed are
 * killed/removed when the bench exits or is interrupted. Normal paths clean up in finally blocks.
 */
const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
/** Databases created on a PostgreSQL server, with the drop that removes each. */
const liveDatabases = new Map<string, () => Promise<void>>();

export function trackDatabase(name: string, drop: () => Promise<void>): void {
  liveDatabases.set(name, drop);
}
export function untrackDatabase(name: string): void {
  liveDatabases.delete(name);
}

export function trackChild(child: ChildProcess): void {
  if (child.pid !== undefined) liveGroups.add(child.pid);
}
export function untrackChild(pid: number | undefined): void {
  if (pid !== undefined) liveGroups.delete(pid);
}

export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
}
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

function emergencyCleanup(): void {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  liveDirs.clear();
}

export function installCleanupHandlers(): void {
  process.once('exit', emergencyCleanup);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`[bench] ${signal}: cleaning up\n`);
      emergencyCleanup();
      const drops = [...liveDatabases.values()].map((drop) => drop().catch(() => undefined));
      const timeout = new Promise((done) => setTimeout(done, 5000).unref());
      void Promise.race([Promise.all(drops), timeout]).finally(() => process.exit(130));
    });
  }
}
