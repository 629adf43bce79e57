import { createHash } from 'node:crypto';
import type { KnowledgeEntry } from '../model.js';
import type { ChunkInput, Embedder, EntryUpsert, KnowledgeIndex } from '../ports.js';
import { toCentroid } from '../retrieval/centroid.js';
import { toTerms } from '../retrieval/tokenize.js';
import { type KnowledgeProblem, type RawKnowledgeFile, validateEntries } from './validate-entries.js';

/** Bump when chunking, term extraction or what is stored per entry changes: every entry is then re-indexed on the next sync. */
export const INDEX_FORMAT_VERSION = 4;
const EMBED_BATCH = 128;

export type PassageSplitter = (text: string) => Promise<string[]>;

export interface SyncReport {
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: number;
  chunksEmbedded: number;
}

/** The topic shared by an entry and its translation, whichever language is synced first. */
export function toTopic(entry: Pick<KnowledgeEntry, 'id' | 'translation'>): string {
  return entry.translation !== undefined && entry.translation < entry.id ? entry.translation : entry.id;
}

export function toContentHash(entry: KnowledgeEntry): string {
  const canonical = JSON.stringify([
    INDEX_FORMAT_VERSION,
    entry.id,
    entry.lang,
    entry.title,
    entry.questions,
    entry.tags,
    entry.links,
    entry.translation ?? null,
    entry.body,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

async function toChunks(entry: KnowledgeEntry, splitPassages: PassageSplitter): Promise<Omit<ChunkInput, 'embedding'>[]> {
  const chunks: Omit<ChunkInput, 'embedding'>[] = [{ kind: 'title', text: entry.title, terms: toTerms(entry.title) }];
  for (const question of entry.questions) chunks.push({ kind: 'question', text: question, terms: toTerms(question) });
  if (entry.body.trim()) {
    for (const passage of await splitPassages(entry.body)) {
      chunks.push({ kind: 'passage', text: passage, terms: toTerms(passage) });
    }
  }
  return chunks;
}

/**
 * Brings the index in line with the given entries: idempotent and incremental. Only entries whose
 * content hash or embedder changed are re-chunked and re-embedded (version + 1); entries no longer
 * present are removed. Embedding happens before the write transaction, so a slow model API never
 * holds a database lock.
 */
export async function syncKnowledge(
  entries: KnowledgeEntry[],
  deps: {
    index: KnowledgeIndex;
    embedder: Embedder;
    splitPassages: PassageSplitter;
    /** Files that failed validation: their previously synced entries stay until the file is fixed. */
    keepSources?: Set<string>;
  },
): Promise<SyncReport> {
  const { index, embedder, splitPassages } = deps;
  const keepSources = deps.keepSources ?? new Set<string>();
  const states = await index.entryStates();
  const report: SyncReport = { added: [], updated: [], removed: [], unchanged: 0, chunksEmbedded: 0 };
  const pending: Array<{ entry: KnowledgeEntry; contentHash: string; chunks: Omit<ChunkInput, 'embedding'>[] }> = [];
  for (const entry of entries) {
    const contentHash = toContentHash(entry);
    const state = states.get(entry.id);
    if (state && state.contentHash === contentHash && state.embedder === embedder.id) {
      report.unchanged++;
      continue;
    }
    (state ? report.updated : report.added).push(entry.id);
    pending.push({ entry, contentHash, chunks: await toChunks(entry, splitPassages) });
  }
  const present = new Set(entries.map((e) => e.id));
  report.removed = [...states]
    .filter(([id, state]) => !present.has(id) && !keepSources.has(state.source))
    .map(([id]) => id);

  const texts = pending.flatMap((p) => p.chunks.map((c) => c.text));
  const vectors: number[][] = [];
  for (let i = 0; i < texts.length; i += EMBED_BATCH) {
    vectors.push(...(await embedder.embed(texts.slice(i, i + EMBED_BATCH))));
  }
  report.chunksEmbedded = vectors.length;
  let next = 0;
  const upserts: EntryUpsert[] = pending.map((p) => {
    const chunks = p.chunks.map((c) => ({ ...c, embedding: vectors[next++] ?? [] }));
    return {
      entry: p.entry,
      topic: toTopic(p.entry),
      contentHash: p.contentHash,
      embedder: embedder.id,
      chunks,
      centroid: toCentroid(chunks.filter((c) => c.kind !== 'passage').map((c) => c.embedding)),
    };
  });
  if (upserts.length > 0 || report.removed.length > 0) await index.applySync(upserts, report.removed);
  return report;
}

/**
 * Validates knowledge files and syncs the valid entries. Problems are returned, not thrown; the
 * entries of a file that became invalid stay as they were until it is fixed.
 */
export async function syncKnowledgeFiles(
  files: RawKnowledgeFile[],
  deps: { index: KnowledgeIndex; embedder: Embedder; splitPassages: PassageSplitter },
): Promise<SyncReport & { problems: KnowledgeProblem[] }> {
  const { entries, problems } = validateEntries(files);
  const report = await syncKnowledge(entries, { ...deps, keepSources: new Set(problems.map((p) => p.source)) });
  return { ...report, problems };
}
