import { hash } from 'node:crypto';
import { toCanonicalJson } from '../audit/canonical-json.js';
import type { KnowledgeEntry } from '../model.js';

/** What an admin writes of an entry: the front matter's fields and the Markdown answer. */
export type EntryContent = Pick<KnowledgeEntry, 'id' | 'lang' | 'title' | 'questions' | 'tags' | 'links' | 'translation' | 'body'>;

const ENTRY_HASH_DOMAIN = 'helpdesk/kb-entry/v1\n';

export function toEntryContent(entry: EntryContent): EntryContent {
  return {
    id: entry.id,
    lang: entry.lang,
    title: entry.title,
    questions: [...entry.questions],
    tags: [...entry.tags],
    links: entry.links.map((l) => ({ title: l.title, url: l.url })),
    translation: entry.translation,
    body: entry.body,
  };
}

/**
 * SHA-256 (hex) of an entry's content in canonical JSON: the hash the turn log records for each
 * version, whatever the index does with it (unlike the index's content hash, it does not change
 * when chunking changes).
 */
export function toEntryHash(entry: EntryContent): string {
  const canonical = toCanonicalJson({
    id: entry.id,
    lang: entry.lang,
    title: entry.title,
    questions: entry.questions,
    tags: entry.tags,
    links: entry.links.map((l) => ({ title: l.title, url: l.url })),
    translation: entry.translation ?? null,
    body: entry.body,
  });
  return hash('sha256', ENTRY_HASH_DOMAIN + canonical, 'hex');
}

export function sameContent(a: EntryContent, b: EntryContent): boolean {
  return toEntryHash(a) === toEntryHash(b);
}
