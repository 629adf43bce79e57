import type { RevisionStatus } from '../audit/knowledge-event.js';
import type { EntryUpsert } from '../ports.js';
import type { EntryContent } from './entry-content.js';

/** Where a version came from. */
export type RevisionOrigin = 'console' | 'api' | 'files' | 'restore' | 'adopted';

/** One version of an entry as stored (append-only). */
export interface Revision {
  content: EntryContent;
  version: number;
  status: RevisionStatus;
  contentHash: string;
  /** The version of the translation this content was declared to match (a translation brought up to date). */
  translationSync: number | null;
  /** A console account's name, `token:admin`, or `files:<path>`. */
  author: string;
  origin: RevisionOrigin;
  restoredFrom: number | null;
  /** Index of its turn-log entry. */
  logIdx: number;
  createdAt: Date;
}

/** A version to store: `expectedHead` is the entry's latest version the caller read (null: none yet). */
export interface NewRevision {
  content: EntryContent;
  version: number;
  status: RevisionStatus;
  contentHash: string;
  translationSync: number | null;
  author: string;
  origin: RevisionOrigin;
  restoredFrom: number | null;
  expectedHead: number | null;
}

/** What the Markdown folder holds for an entry, as last imported or exported. */
export interface FileState {
  entryId: string;
  source: string;
  contentHash: string;
  version: number;
}

/**
 * A file changed on disk while its entry changed in the console too (`changed`), the file of an
 * entry changed in the console was deleted (`deleted`), or a new file has the id of an entry made
 * in the console (`both_new`).
 */
export interface FileConflict {
  entryId: string;
  source: string;
  kind: 'changed' | 'deleted' | 'both_new';
  fileHash: string | null;
  file: EntryContent | null;
  headVersion: number;
  detectedAt: Date;
}

/** One atomic change of the knowledge base. */
export interface KnowledgeCommit {
  revisions: NewRevision[];
  /** The index brought in line with the published versions. */
  index?: { upserts: EntryUpsert[]; removals: string[] };
  fileStates?: { set: FileState[]; remove: string[] };
  conflicts?: { set: Array<Omit<FileConflict, 'detectedAt'>>; remove: string[] };
}

/** The entry's latest version and its live (published) one, when it has one. */
export interface EntryHeads {
  head: Revision;
  live: Revision | undefined;
}

/** The knowledge base's history, Markdown-folder state and conflicts (PostgreSQL in production). */
export interface KnowledgeStore {
  /** The latest and live versions of these entries (of every entry without a list). */
  heads(entryIds?: string[]): Promise<EntryHeads[]>;
  /** One entry's versions, oldest first. */
  history(entryId: string): Promise<Revision[]>;
  /** Per entry, the versions that declared a translation sync (for the translation state), newest first. */
  syncPoints(entryIds: string[]): Promise<Array<{ entryId: string; version: number; translationSync: number; logIdx: number }>>;
  /** The content hash of every version of these entries (a file holding one of them is an older copy). */
  hashes(entryIds: string[]): Promise<Array<{ entryId: string; version: number; contentHash: string }>>;
  fileStates(): Promise<FileState[]>;
  conflicts(): Promise<FileConflict[]>;
  /**
   * Applies the change in one transaction, with one turn-log entry per revision. Throws
   * VersionConflictError (and applies nothing) when an entry's latest version is no longer the
   * revision's `expectedHead`.
   */
  commit(change: KnowledgeCommit): Promise<Revision[]>;
  /** Entries in the index that have no stored version (indexed before the history was kept). */
  unrevisioned(): Promise<Array<EntryContent & { version: number; source: string }>>;
  /** Changes whenever a published version changes, in any instance. */
  generation(): Promise<string>;
}
