import { watch } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import matter from 'gray-matter';
import type { RawKnowledgeFile } from '../../core/index.js';

const MAX_FILE_BYTES = 256 * 1024;

async function listMarkdown(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const item of await readdir(dir, { withFileTypes: true })) {
    if (item.name.startsWith('.')) continue;
    const path = join(dir, item.name);
    if (item.isDirectory()) found.push(...(await listMarkdown(path)));
    else if (item.isFile() && item.name.endsWith('.md') && item.name.toLowerCase() !== 'readme.md') found.push(path);
  }
  return found.sort();
}

/** Reads every Markdown entry under the knowledge folder; a file that cannot be parsed says why. */
export async function readKnowledgeFiles(dir: string): Promise<RawKnowledgeFile[]> {
  const files: RawKnowledgeFile[] = [];
  for (const path of await listMarkdown(dir)) {
    const source = relative(dir, path).split(sep).join('/');
    try {
      const raw = await readFile(path);
      if (raw.length > MAX_FILE_BYTES) {
        files.push({ source, error: `file too large (${raw.length} bytes, at most ${MAX_FILE_BYTES})` });
        continue;
      }
      const text = raw.toString('utf8');
      if (text.includes('\uFFFD')) {
        files.push({ source, error: 'not valid UTF-8' });
        continue;
      }
      if (!text.trimStart().startsWith('---')) {
        files.push({ source, error: 'no front matter (the file must start with a --- YAML block)' });
        continue;
      }
      // gray-matter caches by content; an empty options object disables the cache.
      const parsed = matter(text, {});
      files.push({ source, frontMatter: parsed.data, body: parsed.content });
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0] ?? 'unreadable';
      files.push({ source, error: `bad front matter: ${reason}` });
    }
  }
  return files;
}

/**
 * Calls `onChange` (debounced) when anything under the knowledge folder changes. Returns a function
 * that stops watching.
 */
export function watchKnowledgeFiles(dir: string, onChange: () => void, debounceMs = 300): () => void {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dir, { recursive: true }, () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.on('error', () => undefined);
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
