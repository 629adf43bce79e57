import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded database's folder holds every conversation: only the service's user may read it.
 * PGlite writes its initial files world-writable (0666, whatever the umask) and PostgreSQL's own
 * later files 0600; so the folder is made 0700 and everything in it owner-only when it is opened,
 * and files created while it opens get a private umask.
 */
export async function openPrivately<T>(dataDir: string, open: () => Promise<T>): Promise<T> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const previous = process.umask(0o077);
  try {
    return await open();
  } finally {
    process.umask(previous);
    restrictTree(dataDir);
  }
}

/** Directories 0700 and files 0600 below `dir` (symbolic links are left alone). */
function restrictTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    const mode = lstatSync(path).mode & 0o777;
    if (entry.isDirectory()) {
      if (mode !== 0o700) chmodSync(path, 0o700);
      restrictTree(path);
    } else if (mode & 0o077) chmodSync(path, mode & 0o700);
  }
}
