import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import matter from 'gray-matter';
import { type ExportItem, type ExportPlan, toEntryContent, toEntryHash, validateEntries } from '../../core/index.js';

/** The Markdown file of an entry: front matter (the file format of knowledge/README.md) and its body. */
export function toMarkdown(item: Pick<ExportItem, 'content'>): string {
  const c = item.content;
  const frontMatter: Record<string, unknown> = { id: c.id, lang: c.lang, title: c.title };
  if (c.translation) frontMatter.translation = c.translation;
  if (c.questions.length > 0) frontMatter.questions = c.questions;
  if (c.tags.length > 0) frontMatter.tags = c.tags;
  if (c.links.length > 0) frontMatter.links = c.links;
  return matter.stringify(`${c.body.trim()}\n`, frontMatter);
}

/** The content hash of the entry a file on disk holds now; null when it is missing or not a valid entry. */
async function hashOnDisk(path: string, source: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = matter(text, {});
    // Alone, the translation a file names is missing: the entry is read without it, then given it back.
    const { translation, ...frontMatter } = parsed.data as Record<string, unknown>;
    const entry = validateEntries([{ source, frontMatter, body: parsed.content }]).entries[0];
    if (!entry) return 'invalid';
    return toEntryHash(toEntryContent(typeof translation === 'string' ? { ...entry, translation } : entry));
  } catch {
    return 'invalid';
  }
}

export interface ExportResult {
  written: ExportItem[];
  removed: string[];
  /** Files changed on disk since they were last imported or exported: left alone (run kb:sync first). */
  changedOnDisk: string[];
}

/**
 * Writes the export plan to the Markdown folder: each published entry's file, and deletes the
 * files of removed entries. A file that changed on disk since it was last seen is never
 * overwritten or deleted: it is reported, to be imported (and any conflict settled) first.
 */
export async function writeKnowledgeFiles(dir: string, plan: ExportPlan): Promise<ExportResult> {
  const root = resolve(dir);
  const pathOf = (source: string) => {
    const path = resolve(root, source);
    if (!path.startsWith(root + sep)) throw new Error(`refusing to write outside the knowledge folder: ${source}`);
    return path;
  };
  const result: ExportResult = { written: [], removed: [], changedOnDisk: [] };
  for (const item of plan.write) {
    const path = pathOf(item.source);
    const current = await hashOnDisk(path, item.source);
    if (current !== null && current !== item.knownHash && current !== item.hash) {
      result.changedOnDisk.push(item.source);
      continue;
    }
    await mkdir(dirname(path), { recursive: true });
    // Written whole, then renamed: a reader (the file watcher) never sees half a file.
    const temporary = join(dirname(path), `.${item.entryId}.${process.pid}.tmp`);
    await writeFile(temporary, toMarkdown(item), 'utf8');
    await rename(temporary, path);
    result.written.push(item);
  }
  for (const item of plan.remove) {
    const path = pathOf(item.source);
    const current = await hashOnDisk(path, item.source);
    if (current !== null && current !== item.knownHash) {
      result.changedOnDisk.push(item.source);
      continue;
    }
    await rm(path, { force: true });
    result.removed.push(item.entryId);
  }
  return result;
}
