import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HelpdeskError } from '../../core/index.js';

const LOCK_FILE = 'helpdesk.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite has no lock of its own and two processes on one data folder corrupt it. This takes an
 * exclusive lock file holding the owner's pid; a lock left by a process that no longer runs is
 * taken over. Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new HelpdeskError(
          'data_dir_locked',
          `The data folder ${dataDir} is in use by another process (pid ${owner}). ` +
            'The embedded database allows one process per folder: stop the other process, ' +
            'use another DATA_DIR, or use PostgreSQL through DATABASE_URL to run several instances.',
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new HelpdeskError('data_dir_locked', `Could not lock the data folder ${dataDir}.`);
}
