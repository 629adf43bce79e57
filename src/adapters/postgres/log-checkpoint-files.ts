import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type CheckpointSource, generateSignerKey, type NoteSigner, parseSignerKey } from '../../core/index.js';

const LATEST = 'checkpoint';
const HISTORY = /^checkpoints-\d{4}-\d{2}\.jsonl$/;

/**
 * Publishes checkpoints to a folder outside the database: `checkpoint` holds the latest (replaced
 * atomically), `checkpoints-YYYY-MM.jsonl` gets one line per checkpoint, append-only. Copy the
 * folder elsewhere (object storage, another machine) to make a rollback of the database visible.
 */
export function createCheckpointFolder(dir: string) {
  mkdirSync(dir, { recursive: true });
  // Off the event loop, one at a time: the history keeps the order of publishing, and the
  // temporary file of one publish is never renamed by another.
  let last: Promise<void> = Promise.resolve();
  const write = async (note: string) => {
    const now = new Date();
    const month = now.toISOString().slice(0, 7);
    await appendFile(join(dir, `checkpoints-${month}.jsonl`), `${JSON.stringify({ publishedAt: now.toISOString(), note })}\n`);
    const tmp = join(dir, `.${LATEST}.${process.pid}.tmp`);
    await writeFile(tmp, note);
    await rename(tmp, join(dir, LATEST));
  };
  return {
    dir,
    publish(note: string): Promise<void> {
      const done = last.then(() => write(note));
      last = done.catch(() => undefined);
      return done;
    },
  };
}

/** Every checkpoint published to the folder, oldest first, for the audit. */
export function readPublishedCheckpoints(dir: string): CheckpointSource[] {
  if (!existsSync(dir)) return [];
  const out: CheckpointSource[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => HISTORY.test(n))
    .sort()) {
    const lines = readFileSync(join(dir, name), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        const { note } = JSON.parse(line) as { note: string };
        out.push({ source: `${name}:${i + 1}`, note });
      } catch {
        out.push({ source: `${name}:${i + 1}`, note: line });
      }
    });
  }
  return out;
}

/**
 * The checkpoint signing key: from the configured text, else from a file; an absent file is created
 * with a new key when `createIfMissing` (the embedded default). Never stored in the database.
 */
export function loadSigningKey(options: { key?: string | undefined; file: string; name: string; createIfMissing: boolean }): {
  signer: NoteSigner;
  created: boolean;
} {
  if (options.key) return { signer: parseSignerKey(options.key), created: false };
  if (!existsSync(options.file)) {
    if (!options.createIfMissing) throw new Error(`log signing key file ${options.file} not found`);
    mkdirSync(dirname(options.file), { recursive: true });
    try {
      writeFileSync(options.file, `${generateSignerKey(options.name)}\n`, { mode: 0o600, flag: 'wx' });
      return { signer: parseSignerKey(readFileSync(options.file, 'utf8')), created: true };
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
  }
  return { signer: parseSignerKey(readFileSync(options.file, 'utf8')), created: false };
}
