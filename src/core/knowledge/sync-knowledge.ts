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

/** An entry to index; `version`, when given, is the version it is indexed (and cited) as. */
export type VersionedEntry = KnowledgeEntry & { version?: number };

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
 * Chunks and embeds entries for the index (embedding happens here, before any write transaction,
 * so a slow model API never holds a database lock).
 */
export async function prepareUpserts(entries: VersionedEntry[], deps: { embedder: Embedder; splitPassages: PassageSplitter }): Promise<EntryUpsert[]> {
  const { embedder, splitPassages } = deps;
  const pending: Array<{ entry: VersionedEntry; chunks: Omit<ChunkInput, 'embedding'>[] }> = [];
  for (const entry of entries) pending.push({ entry, chunks: await toChunks(entry, splitPassages) });
  const texts = pending.flatMap((p) => p.chunks.map((c) => c.text));
  const vectors: number[][] = [];
  for (let i = 0; i < texts.length; i += EMBED_BATCH) {
    vectors.push(...(await embedder.embed(texts.slice(i, i + EMBED_BATCH))));
  }
  let next = 0;
  return pending.map((p) => {
    const chunks = p.chunks.map((c) => ({ ...c, embedding: vectors[next++] ?? [] }));
    const { version, ...entry } = p.entry;
    return {
      entry,
      topic: toTopic(entry),
      contentHash: toContentHash(entry),
      embedder: embedder.id,
      chunks,
      centroid: toCentroid(chunks.filter((c) => c.kind !== 'passage').map((c) => c.embedding)),
      ...(version !== undefined ? { version } : {}),
    };
  });
}

/**
 * Brings the index in line with the given entries: idempotent and incremental. Only entries whose
 * content hash, embedder or given version changed are re-chunked and re-embedded (without a given
 * version, a changed entry gets version + 1); entries no longer present are removed.
 */
export async function syncKnowledge(
  entries: VersionedEntry[],
  deps: {
    index: KnowledgeIndex;
    embedder: Embedder;
    splitPassages: PassageSplitter;
    /** Files that failed validation: their previously synced entries stay until the file is fixed. */
    keepSources?: Set<string>;
  },
): Promise<SyncReport> {
  const { index, embedder } = deps;
  const keepSources = deps.keepSources ?? new Set<string>();
  const states = await index.entryStates();
  const report: SyncReport = { added: [], updated: [], removed: [], unchanged: 0, chunksEmbedded: 0 };
  const changed: VersionedEntry[] = [];
  for (const entry of entries) {
    const state = states.get(entry.id);
    const { version: _, ...content } = entry;
    if (
      state &&
      state.contentHash === toContentHash(content) &&
      state.embedder === embedder.id &&
      (entry.version === undefined || entry.version === state.version)
    ) {
      report.unchanged++;
      continue;
    }
    (state ? report.updated : report.added).push(entry.id);
    changed.push(entry);
  }
  const present = new Set(entries.map((e) => e.id));
  report.removed = [...states].filter(([id, state]) => !present.has(id) && !keepSources.has(state.source)).map(([id]) => id);
  const upserts = await prepareUpserts(changed, deps);
  report.chunksEmbedded = upserts.reduce((n, u) => n + u.chunks.length, 0);
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
