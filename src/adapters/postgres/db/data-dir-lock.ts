import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HelpdeskError } from '../../../core/index.js';

const LOCK_FILE = 'helpdesk.lock';

/**
 * Who holds the lock: the pid, and where the system tells (Linux), the boot and the process's
 * start time since boot. A pid alone is not an identity: after a reboot, or once pids wrap, the
 * same number belongs to another process.
 */
interface Holder {
  pid: number;
  boot?: string;
  start?: string;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Linux: this boot's id. */
function bootId(): string | undefined {
  return readOrUndefined('/proc/sys/kernel/random/boot_id')?.trim() || undefined;
}

/** Linux: when the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat). */
function startTicks(pid: number): string | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function toHolder(text: string): Holder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<Holder> | number;
    // A bare pid: a lock written before the lock named its process.
    const holder = typeof parsed === 'number' ? { pid: parsed } : parsed;
    return Number.isSafeInteger(holder.pid) && (holder.pid as number) > 0 ? (holder as Holder) : undefined;
  } catch {
    return undefined;
  }
}

/** The lock's process still runs: its pid is alive and, where the system tells, it is the same process. */
function stillHolds(holder: Holder): boolean {
  if (holder.pid === process.pid || !isAlive(holder.pid)) return false;
  if (holder.boot !== undefined && holder.boot !== bootId()) return false;
  if (holder.start !== undefined) {
    const start = startTicks(holder.pid);
    if (start !== undefined && start !== holder.start) return false;
  }
  return true;
}

/**
 * PGlite has no lock of its own and two processes on one data folder corrupt it. This takes an
 * exclusive lock file naming the owner (pid, boot, start time); a lock whose process is gone, or
 * whose pid now belongs to another process (a reboot, pids wrapping), is taken over. Returns the
 * release function.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const boot = bootId();
  const start = startTicks(process.pid);
  const me: Holder = { pid: process.pid, ...(boot ? { boot } : {}), ...(start ? { start } : {}) };
  // Written whole beside the lock, then linked into place: the lock never exists half-written.
  const draft = `${path}.${process.pid}`;
  const mine = `${JSON.stringify(me)}\n`;
  writeFileSync(draft, mine);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(draft, path);
        // Removed only while it is still this lock (another process may have taken a stale one over).
        return () => {
          if (readOrUndefined(path) === mine) rmSync(path, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = toHolder(readOrUndefined(path) ?? '');
        if (holder && stillHolds(holder)) {
          throw new HelpdeskError(
            'data_dir_locked',
            `The data folder ${dataDir} is in use by another process (pid ${holder.pid}). ` +
              'The embedded database allows one process per folder: stop the other process, ' +
              'use another DATA_DIR, or use PostgreSQL through DATABASE_URL to run several instances.',
          );
        }
        rmSync(path, { force: true });
      }
    }
  } finally {
    rmSync(draft, { force: true });
  }
  throw new HelpdeskError('data_dir_locked', `Could not lock the data folder ${dataDir}.`);
}
