import { toSimplifiedChinese } from '../chinese-script.js';
import type { Language, StoredEntry } from '../model.js';
import type { Embedder, KnowledgeIndex, Logger } from '../ports.js';
import { checkEntryContacts, rejectUnlistedContacts } from '../safety/check-knowledge-contacts.js';
import { type OfficialAllowlist, withKnowledgeLinks } from '../safety/official-channels.js';
import type { SecurityEvent } from '../safety/security-events.js';
import { type EntryContent, toEntryContent, toEntryHash } from './entry-content.js';
import { EntryValidationError, VersionConflictError } from './knowledge-errors.js';
import type { EntryHeads, FileConflict, FileState, KnowledgeCommit, KnowledgeStore, NewRevision, Revision, RevisionOrigin } from './knowledge-store.js';
import { type PassageSplitter, prepareUpserts, syncKnowledge, type VersionedEntry } from './sync-knowledge.js';
import { type FieldIssue, type KnowledgeProblem, type RawKnowledgeFile, validateEntries } from './validate-entries.js';

/** How an entry stands against its translation. */
export type TranslationState =
  /** No translation: the entry names none, none names it, or the one it names is not published. */
  | 'missing'
  /** Both sides as of their last declared sync (or no sync declared and this side is the newer). */
  | 'ok'
  /** The translation changed since this side was last brought up to date: this side is older. */
  | 'outdated'
  /** Both sides changed since they were last in sync. */
  | 'both_changed';

export interface TranslationView {
  /** The other language's entry, when there is one. */
  id: string | null;
  state: TranslationState;
  /** Its published version. */
  version: number | null;
}

/** An entry as the list shows it. */
export interface EntrySummary {
  id: string;
  lang: Language;
  title: string;
  tags: string[];
  questions: number;
  /** published: answered with; draft: never published (or published and removed since); removed. */
  status: 'published' | 'draft' | 'removed';
  /** The latest version, and the published one. */
  version: number;
  liveVersion: number | null;
  /** A draft newer than the published version is waiting. */
  hasDraft: boolean;
  updatedAt: Date;
  updatedBy: string;
  translation: TranslationView;
  conflict: boolean;
}

export interface EntryView extends EntrySummary {
  head: Revision;
  live: Revision | null;
  fileState: FileState | null;
  fileConflict: FileConflict | null;
}

/** Who makes a change, and through what. */
export interface ChangeAuthor {
  name: string;
  origin: RevisionOrigin;
}

export interface SaveOptions {
  by: ChangeAuthor;
  publish: boolean;
  /**
   * The version the caller started from: a number (the entry's latest version), 'new' (it must not
   * exist yet), or undefined (write whatever is there: automation that owns the entry).
   */
  expected?: number | 'new';
  /** The translation's version this content matches (a translation brought up to date). */
  translationSync?: number | null;
  restoredFrom?: number;
}

export interface ImportReport {
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: number;
  /** Files holding an older version of their entry (another instance's copy, an old checkout): not imported. */
  stale: string[];
  /** Files that differ from an entry changed in the console meanwhile: both kept, shown in the console. */
  conflicts: string[];
  problems: KnowledgeProblem[];
}

/** An entry to write to the Markdown folder, and what the folder held for it when last seen. */
export interface ExportItem {
  entryId: string;
  source: string;
  content: EntryContent;
  version: number;
  hash: string;
  /** The content hash the file had when last imported or exported; null: never written. */
  knownHash: string | null;
}

export interface ExportPlan {
  write: ExportItem[];
  /** Files of entries removed since they were written (deleted if unchanged on disk). */
  remove: Array<{ entryId: string; source: string; knownHash: string }>;
  /** Entries left alone, and why (a file conflict waits in the console). */
  skipped: Array<{ entryId: string; reason: string }>;
}

export type EntryInput = Record<string, unknown>;

const CONSOLE_SOURCE = 'console';

/** An entry as the validator reads a file: front matter and body. */
function toFile(content: EntryContent, source: string): RawKnowledgeFile {
  return {
    source,
    frontMatter: {
      id: content.id,
      lang: content.lang,
      title: content.title,
      questions: content.questions,
      tags: content.tags,
      links: content.links,
      ...(content.translation !== undefined ? { translation: content.translation } : {}),
    },
    body: content.body,
  };
}

const fold = (text: string) => toSimplifiedChinese(text.toLowerCase());

/**
 * The knowledge base as admins keep it: the database is the source of truth; every version is
 * kept (drafts, publications, removals) and logged with its author; a publication is indexed in
 * the same transaction, so every instance answers with it at its next search. The Markdown folder
 * is imported (a file changed on disk becomes a new version unless the entry changed in the
 * console since the file was last seen: then it is a conflict, kept until someone chooses) and
 * exported for review in git (docs/decisions/knowledge-source-of-truth.md).
 */
export function createKnowledgeBase(deps: {
  store: KnowledgeStore;
  index: KnowledgeIndex;
  embedder: Embedder;
  splitPassages: PassageSplitter;
  /** The official allowlist in force (entries may name only official contacts or their own links). */
  allowlist: () => OfficialAllowlist | undefined;
  /** Tells the helpdesk which links the knowledge base cites (mentionable in answers and replies). */
  setKnowledgeLinks: (urls: string[]) => void;
  record: (event: SecurityEvent) => Promise<void>;
  logger: Logger;
}) {
  const { store, logger } = deps;

  const isLive = (h: EntryHeads): h is EntryHeads & { live: Revision } => h.live !== undefined && h.live.status === 'published';
  const liveContents = (heads: EntryHeads[]) => heads.filter(isLive).map((h) => h.live.content);

  /** The edit's problems, field by field: the file validator on it beside `context`, then its contacts. */
  function checkEdit(candidate: EntryContent, context: EntryContent[]): FieldIssue[] {
    const source = `${CONSOLE_SOURCE}:${candidate.id}`;
    const others = context.filter((c) => c.id !== candidate.id).map((c) => toFile(c, `db:${c.id}`));
    const { problems } = validateEntries([toFile(candidate, source), ...others]);
    const issues = problems.filter((p) => p.source === source).flatMap((p) => p.issues);
    const allowlist = deps.allowlist();
    if (issues.length === 0 && allowlist) {
      const links = [...context, candidate].flatMap((c) => c.links.map((l) => l.url));
      issues.push(...checkEntryContacts(candidate, withKnowledgeLinks(allowlist, links)));
    }
    return issues;
  }

  /** The input as entry content, or the issues of its shape (types are checked again by the validator). */
  function toCandidate(id: string, input: EntryInput): { content?: EntryContent; issues: FieldIssue[] } {
    const issues: FieldIssue[] = [];
    if (input.id !== undefined && input.id !== id)
      issues.push({ field: 'id', code: 'invalid_id', message: `the id in the body (${String(input.id)}) differs from the one in the address (${id})` });
    if (typeof input.body !== 'string')
      issues.push({ field: 'body', code: input.body === undefined ? 'required' : 'invalid_type', message: 'the answer (body) must be Markdown text' });
    const file: RawKnowledgeFile = {
      source: 'input',
      frontMatter: {
        id,
        lang: input.lang,
        title: input.title,
        questions: input.questions ?? [],
        tags: input.tags ?? [],
        links: input.links ?? [],
        ...(input.translation !== undefined && input.translation !== null && input.translation !== '' ? { translation: input.translation } : {}),
      },
      body: typeof input.body === 'string' ? input.body : '',
    };
    // Types and limits of the fields alone; the edit's context (the translation it names among
    // them) is checked by checkEdit. Alone, a named translation is always missing: the file is
    // checked without it, and the name put back.
    const { entries, problems } = validateEntries([file]);
    issues.push(
      ...problems.flatMap((p) => p.issues).filter((i) => i.code !== 'translation_missing' && !(i.field === 'body' && typeof input.body !== 'string')),
    );
    const translation = (file.frontMatter as { translation?: unknown }).translation;
    let entry = entries[0];
    if (!entry && issues.length === 0 && typeof translation === 'string') {
      const { translation: _, ...rest } = file.frontMatter as Record<string, unknown>;
      const alone = validateEntries([{ ...file, frontMatter: rest }]).entries[0];
      entry = alone ? { ...alone, translation } : undefined;
    }
    if (!entry && issues.length === 0) issues.push({ field: 'file', code: 'invalid_type', message: 'not an entry' });
    if (issues.length > 0 || !entry) {
      // A translation naming a missing entry is reported by checkEdit with the others; keep shape issues only.
      return { issues };
    }
    return { content: toEntryContent(entry), issues };
  }

  /** Each entry's translation state, from the published versions and the declared sync points. */
  async function translationStates(heads: EntryHeads[]): Promise<Map<string, TranslationView>> {
    const live = new Map(heads.filter(isLive).map((h) => [h.live.content.id, h.live]));
    const partnerOf = new Map<string, string>();
    for (const r of live.values()) {
      const t = r.content.translation;
      if (t && live.get(t)?.content.lang !== undefined && live.get(t)?.content.lang !== r.content.lang) {
        partnerOf.set(r.content.id, t);
        if (!partnerOf.has(t)) partnerOf.set(t, r.content.id);
      }
    }
    const points = await store.syncPoints([...partnerOf.keys()]);
    const byEntry = new Map<string, typeof points>();
    for (const p of points) byEntry.set(p.entryId, [...(byEntry.get(p.entryId) ?? []), p]);
    const views = new Map<string, TranslationView>();
    for (const h of heads) {
      const id = h.head.content.id;
      const partner = partnerOf.get(id);
      const mine = live.get(id);
      const theirs = partner ? live.get(partner) : undefined;
      if (!partner || !mine || !theirs) {
        views.set(id, { id: h.head.content.translation ?? partner ?? null, state: 'missing', version: null });
        continue;
      }
      // The latest declared sync between the two: (my version, their version) then.
      let sync: { mine: number; theirs: number; logIdx: number } | undefined;
      for (const p of byEntry.get(id) ?? []) if (!sync || p.logIdx > sync.logIdx) sync = { mine: p.version, theirs: p.translationSync, logIdx: p.logIdx };
      for (const p of byEntry.get(partner) ?? []) if (!sync || p.logIdx > sync.logIdx) sync = { mine: p.translationSync, theirs: p.version, logIdx: p.logIdx };
      let state: TranslationState;
      if (!sync) state = theirs.logIdx > mine.logIdx ? 'outdated' : 'ok';
      else {
        const iChanged = mine.version > sync.mine;
        const theyChanged = theirs.version > sync.theirs;
        state = iChanged && theyChanged ? 'both_changed' : theyChanged ? 'outdated' : 'ok';
      }
      views.set(id, { id: partner, state, version: theirs.version });
    }
    return views;
  }

  function toSummary(h: EntryHeads, translation: TranslationView, conflict: boolean): EntrySummary {
    const { head } = h;
    const live = isLive(h) ? h.live : null;
    return {
      id: head.content.id,
      lang: head.content.lang,
      title: head.content.title,
      tags: head.content.tags,
      questions: head.content.questions.length,
      status: live ? 'published' : head.status === 'removed' ? 'removed' : 'draft',
      version: head.version,
      liveVersion: live?.version ?? null,
      hasDraft: head.status === 'draft' && live !== null,
      updatedAt: head.createdAt,
      updatedBy: head.author,
      translation,
      conflict,
    };
  }

  /** Links of the published entries to the helpdesk (answers and replies may name them). */
  async function refreshLinks(heads?: EntryHeads[]): Promise<void> {
    const all = heads ?? (await store.heads());
    deps.setKnowledgeLinks(liveContents(all).flatMap((c) => c.links.map((l) => l.url)));
  }

  /** Commits, then brings the helpdesk's link list up to date. */
  async function commit(change: KnowledgeCommit): Promise<Revision[]> {
    const written = await store.commit(change);
    await refreshLinks().catch((error) => logger.warn({ err: error }, 'knowledge links not refreshed'));
    return written;
  }

  async function recordContactIssues(issues: FieldIssue[], source: string): Promise<void> {
    const contacts = issues.filter((i) => i.code === 'unlisted_contact' || i.code === 'asks_for_secret');
    if (contacts.length > 0)
      await deps.record({ type: 'knowledge_contact_rejected', channel: 'knowledge', detail: { reason: source, count: contacts.length } });
  }

  /** The index's entry for a published version. */
  const toIndexed = (content: EntryContent, version: number, source: string): VersionedEntry => ({ ...content, source, version });
  const sourceOf = (entryId: string, states: FileState[]) => states.find((s) => s.entryId === entryId)?.source ?? CONSOLE_SOURCE;

  /**
   * A new version of an entry, checked (stale start, validation, nothing changed), with the index
   * change that goes with it; undefined when it would change nothing.
   */
  async function planSave(
    id: string,
    content: EntryContent,
    options: SaveOptions,
    heads: EntryHeads[],
  ): Promise<{ revision: NewRevision; upserts: VersionedEntry[]; created: boolean } | { unchanged: Revision }> {
    const current = heads.find((h) => h.head.content.id === id);
    if (options.expected === 'new' && current && current.head.status !== 'removed') throw new VersionConflictError(id, 'exists', current.head);
    if (typeof options.expected === 'number' && current?.head.version !== options.expected) throw new VersionConflictError(id, 'stale', current?.head);
    const context = options.publish ? liveContents(heads) : heads.filter((h) => h.head.status !== 'removed').map((h) => h.head.content);
    const issues = checkEdit(content, context);
    if (issues.length > 0) {
      await recordContactIssues(issues, `${CONSOLE_SOURCE}:${id}`);
      throw new EntryValidationError(issues);
    }
    const hash = toEntryHash(content);
    const sync = options.translationSync ?? null;
    if (current) {
      const { head } = current;
      const sameAsHead = head.contentHash === hash && (options.translationSync === undefined || head.translationSync === sync);
      if (sameAsHead && head.status === (options.publish ? 'published' : 'draft')) return { unchanged: head };
    }
    const version = (current?.head.version ?? 0) + 1;
    const revision: NewRevision = {
      content,
      version,
      status: options.publish ? 'published' : 'draft',
      contentHash: hash,
      translationSync: sync,
      author: options.by.name,
      origin: options.by.origin,
      restoredFrom: options.restoredFrom ?? null,
      expectedHead: current?.head.version ?? null,
    };
    const states = options.publish ? await store.fileStates() : [];
    return {
      revision,
      upserts: options.publish ? [toIndexed(content, version, sourceOf(id, states))] : [],
      created: !current || current.head.status === 'removed',
    };
  }

  /** The removal of a published entry, checked (stale start, another entry naming it as its translation). */
  function planRemove(id: string, options: { by: ChangeAuthor; expected?: number }, heads: EntryHeads[]): { revision: NewRevision } | { unchanged: Revision } {
    const found = heads.find((h) => h.head.content.id === id);
    if (!found) throw new VersionConflictError(id, 'stale', undefined);
    if (typeof options.expected === 'number' && found.head.version !== options.expected) throw new VersionConflictError(id, 'stale', found.head);
    if (!isLive(found)) return { unchanged: found.head };
    const namedBy = liveContents(heads).filter((c) => c.translation === id && c.id !== id);
    if (namedBy.length > 0) {
      throw new EntryValidationError([
        {
          field: 'translation',
          code: 'translation_missing',
          message: `${namedBy.map((c) => c.id).join(', ')} names it as its translation: change or remove that first`,
        },
      ]);
    }
    return {
      revision: {
        content: found.live.content,
        version: found.head.version + 1,
        status: 'removed',
        contentHash: found.live.contentHash,
        translationSync: null,
        author: options.by.name,
        origin: options.by.origin,
        restoredFrom: null,
        expectedHead: found.head.version,
      },
    };
  }

  async function saveContent(id: string, content: EntryContent, options: SaveOptions, extra: Omit<KnowledgeCommit, 'revisions' | 'index'> = {}) {
    const heads = await store.heads();
    const plan = await planSave(id, content, options, heads);
    if ('unchanged' in plan) return { id, version: plan.unchanged.version, created: false, changed: false };
    const upserts = await prepareUpserts(plan.upserts, deps);
    const [written] = await commit({ revisions: [plan.revision], index: { upserts, removals: [] }, ...extra });
    return { id, version: written?.version ?? plan.revision.version, created: plan.created, changed: true };
  }

  async function entryOrThrow(id: string): Promise<EntryHeads> {
    const [found] = await store.heads([id]);
    if (!found) throw new VersionConflictError(id, 'stale', undefined);
    return found;
  }

  /** Files read from the folder against the stored state: what to import, remove, or hold as a conflict. */
  async function planImport(files: RawKnowledgeFile[]) {
    const allowlist = deps.allowlist();
    const screened = allowlist ? rejectUnlistedContacts(files, allowlist) : { files, rejected: [] };
    for (const r of screened.rejected) {
      await deps.record({ type: 'knowledge_contact_rejected', channel: 'knowledge', detail: { reason: r.source, count: r.contacts.length } });
    }
    const heads = await store.heads();
    const byId = new Map(heads.map((h) => [h.head.content.id, h]));
    const fileIds = new Set(screened.files.flatMap((f) => ('error' in f ? [] : [String((f.frontMatter as { id?: unknown } | null)?.id ?? '')])));
    // Entries made in the console are part of the knowledge base too: a file may name one as its translation.
    const others = liveContents(heads)
      .filter((c) => !fileIds.has(c.id))
      .map((c) => toFile(c, `db:${c.id}`));
    const { entries, problems } = validateEntries([...screened.files, ...others]);
    const fromFiles = entries.filter((e) => !e.source.startsWith('db:'));
    const fileProblems = problems.filter((p) => !p.source.startsWith('db:'));
    const [states, conflicts, hashes] = await Promise.all([store.fileStates(), store.conflicts(), store.hashes(fromFiles.map((e) => e.id))]);
    const stateOf = new Map(states.map((s) => [s.entryId, s]));
    const conflictOf = new Map(conflicts.map((c) => [c.entryId, c]));
    const report: ImportReport = { added: [], updated: [], removed: [], unchanged: 0, stale: [], conflicts: [], problems: fileProblems };
    const revisions: NewRevision[] = [];
    const upserts: VersionedEntry[] = [];
    const removals: string[] = [];
    const setStates: FileState[] = [];
    const removeStates: string[] = [];
    const setConflicts: Array<Omit<FileConflict, 'detectedAt'>> = [];
    const removeConflicts: string[] = [];
    const author = (source: string): ChangeAuthor => ({ name: `files:${source}`, origin: 'files' });

    for (const entry of fromFiles) {
      const content = toEntryContent(entry);
      const hash = toEntryHash(content);
      const state = stateOf.get(entry.id);
      const current = byId.get(entry.id);
      const conflict = conflictOf.get(entry.id);
      if (conflict && conflict.fileHash === hash) {
        report.conflicts.push(entry.id);
        continue;
      }
      if (conflict) removeConflicts.push(entry.id);
      if (state && state.contentHash === hash) {
        if (state.source !== entry.source) setStates.push({ ...state, source: entry.source });
        report.unchanged++;
        continue;
      }
      const head = current?.head;
      if (head && head.status !== 'removed' && head.contentHash === hash) {
        setStates.push({ entryId: entry.id, source: entry.source, contentHash: hash, version: head.version });
        report.unchanged++;
        continue;
      }
      if (head && hashes.some((h) => h.entryId === entry.id && h.contentHash === hash && h.version < head.version)) {
        report.stale.push(entry.id);
        continue;
      }
      if (!head || (state && state.version === head.version)) {
        const version = (head?.version ?? 0) + 1;
        const by = author(entry.source);
        revisions.push({
          content,
          version,
          status: 'published',
          contentHash: hash,
          translationSync: null,
          author: by.name,
          origin: by.origin,
          restoredFrom: null,
          expectedHead: head?.version ?? null,
        });
        upserts.push(toIndexed(content, version, entry.source));
        setStates.push({ entryId: entry.id, source: entry.source, contentHash: hash, version });
        (head && head.status !== 'removed' ? report.updated : report.added).push(entry.id);
        continue;
      }
      setConflicts.push({
        entryId: entry.id,
        source: entry.source,
        kind: state ? 'changed' : 'both_new',
        fileHash: hash,
        file: content,
        headVersion: head.version,
      });
      report.conflicts.push(entry.id);
    }

    // Files that are gone: their entries go too, unless changed in the console since.
    const problemSources = new Set(fileProblems.map((p) => p.source));
    const present = new Set(fromFiles.map((e) => e.id));
    for (const state of states) {
      if (present.has(state.entryId) || problemSources.has(state.source)) continue;
      const head = byId.get(state.entryId)?.head;
      if (!head || head.status === 'removed') {
        removeStates.push(state.entryId);
        continue;
      }
      const conflict = conflictOf.get(state.entryId);
      if (conflict?.kind === 'deleted') {
        report.conflicts.push(state.entryId);
        continue;
      }
      if (state.version === head.version) {
        const by = author(state.source);
        revisions.push({
          content: head.content,
          version: head.version + 1,
          status: 'removed',
          contentHash: head.contentHash,
          translationSync: null,
          author: by.name,
          origin: by.origin,
          restoredFrom: null,
          expectedHead: head.version,
        });
        removals.push(state.entryId);
        removeStates.push(state.entryId);
        report.removed.push(state.entryId);
      } else {
        setConflicts.push({ entryId: state.entryId, source: state.source, kind: 'deleted', fileHash: null, file: null, headVersion: head.version });
        report.conflicts.push(state.entryId);
      }
    }

    // Both sides of a pair changed in the files at once: written together, they are in sync.
    const published = new Map(revisions.filter((r) => r.status === 'published').map((r) => [r.content.id, r]));
    for (const r of published.values()) {
      const other = r.content.translation ? published.get(r.content.translation) : undefined;
      if (other && other.content.translation === r.content.id) r.translationSync = other.version;
    }
    return {
      report,
      change: {
        revisions,
        upserts,
        removals,
        fileStates: { set: setStates, remove: removeStates },
        conflicts: { set: setConflicts, remove: removeConflicts.filter((id) => !setConflicts.some((c) => c.entryId === id)) },
      },
    };
  }

  return {
    /** Entries (latest versions) with their state, filtered by language, tag, status and text. */
    async list(filter: { lang?: Language; tag?: string; status?: EntrySummary['status']; text?: string } = {}): Promise<EntrySummary[]> {
      const heads = await store.heads();
      const [states, conflicts] = await Promise.all([translationStates(heads), store.conflicts()]);
      const conflicted = new Set(conflicts.map((c) => c.entryId));
      const text = filter.text?.trim() ? fold(filter.text.trim()) : undefined;
      return heads
        .filter((h) => !filter.lang || h.head.content.lang === filter.lang)
        .filter((h) => !filter.tag || h.head.content.tags.includes(filter.tag))
        .filter((h) => {
          if (!text) return true;
          const c = h.head.content;
          return [c.id, c.title, ...c.questions, ...c.tags, c.body].some((t) => fold(t).includes(text));
        })
        .map((h) => toSummary(h, states.get(h.head.content.id) ?? { id: null, state: 'missing', version: null }, conflicted.has(h.head.content.id)))
        .filter((s) => !filter.status || s.status === filter.status)
        .sort((a, b) => a.id.localeCompare(b.id));
    },

    /** One entry with its latest and published versions, translation state, file state and conflict. */
    async get(id: string): Promise<EntryView | undefined> {
      const heads = await store.heads();
      const found = heads.find((h) => h.head.content.id === id);
      if (!found) return undefined;
      const [states, conflicts, files] = await Promise.all([translationStates(heads), store.conflicts(), store.fileStates()]);
      const conflict = conflicts.find((c) => c.entryId === id) ?? null;
      return {
        ...toSummary(found, states.get(id) ?? { id: null, state: 'missing', version: null }, conflict !== null),
        head: found.head,
        live: isLive(found) ? found.live : null,
        fileState: files.find((f) => f.entryId === id) ?? null,
        fileConflict: conflict,
      };
    },

    /** The problems an edit would have if saved now (as a draft, or published). */
    async validate(id: string, input: EntryInput, publish: boolean): Promise<FieldIssue[]> {
      const candidate = toCandidate(id, input);
      if (!candidate.content) return candidate.issues;
      const heads = await store.heads();
      const context = publish ? liveContents(heads) : heads.filter((h) => h.head.status !== 'removed').map((h) => h.head.content);
      return checkEdit(candidate.content, context);
    },

    /**
     * Saves an entry as a draft or publishes it (a new version; nothing when it is unchanged).
     * Throws EntryValidationError with the issues field by field, VersionConflictError when it
     * changed since `expected`.
     */
    async save(id: string, input: EntryInput, options: SaveOptions): Promise<{ id: string; version: number; created: boolean; changed: boolean }> {
      const candidate = toCandidate(id, input);
      if (!candidate.content) throw new EntryValidationError(candidate.issues);
      return saveContent(id, candidate.content, options);
    },

    /** Publishes the entry's draft (its latest version) as it is. */
    async publish(id: string, options: { by: ChangeAuthor; expected?: number }) {
      const found = await entryOrThrow(id);
      if (found.head.status !== 'draft') {
        return { id, version: found.head.version, created: false, changed: false };
      }
      return saveContent(id, found.head.content, {
        by: options.by,
        publish: true,
        expected: options.expected ?? found.head.version,
        translationSync: found.head.translationSync,
      });
    },

    /** Takes a published entry out of the answers (a new version marked removed; its history stays). */
    async remove(id: string, options: { by: ChangeAuthor; expected?: number }) {
      const plan = planRemove(id, options, await store.heads());
      if ('unchanged' in plan) return { id, version: plan.unchanged.version, changed: false };
      await commit({ revisions: [plan.revision], index: { upserts: [], removals: [id] } });
      return { id, version: plan.revision.version, changed: true };
    },

    /** An earlier version saved again as the latest (a draft, or published), checked like any edit. */
    async restore(id: string, version: number, options: { by: ChangeAuthor; expected?: number; publish: boolean }) {
      const history = await store.history(id);
      const old = history.find((r) => r.version === version);
      if (!old) throw new VersionConflictError(id, 'stale', history.at(-1));
      return saveContent(id, old.content, {
        by: { name: options.by.name, origin: 'restore' },
        publish: options.publish,
        expected: options.expected ?? history.at(-1)?.version,
        restoredFrom: version,
      });
    },

    history: (id: string) => store.history(id),

    conflicts: () => store.conflicts(),

    /**
     * Settles a file conflict: `file` makes the file's content the entry's next version (or removes
     * the entry, when the file was deleted); `console` keeps the console's version and records the
     * file as seen (the next export writes the console's version to it).
     */
    async resolveConflict(id: string, use: 'file' | 'console', options: { by: ChangeAuthor; expected?: number }) {
      const conflict = (await store.conflicts()).find((c) => c.entryId === id);
      if (!conflict) throw new VersionConflictError(id, 'stale', undefined);
      const found = await entryOrThrow(id);
      if (typeof options.expected === 'number' && found.head.version !== options.expected) throw new VersionConflictError(id, 'stale', found.head);
      const done = { remove: [id], set: [] };
      if (use === 'console') {
        await commit({
          revisions: [],
          fileStates: conflict.fileHash
            ? { set: [{ entryId: id, source: conflict.source, contentHash: conflict.fileHash, version: found.head.version }], remove: [] }
            : { set: [], remove: [id] },
          conflicts: done,
        });
        return { id, version: found.head.version, changed: false };
      }
      if (!conflict.file) {
        const plan = planRemove(id, { by: options.by, expected: found.head.version }, await store.heads());
        const fileStates = { set: [], remove: [id] };
        if ('unchanged' in plan) {
          await commit({ revisions: [], fileStates, conflicts: done });
          return { id, version: plan.unchanged.version, changed: false };
        }
        await commit({ revisions: [plan.revision], index: { upserts: [], removals: [id] }, fileStates, conflicts: done });
        return { id, version: plan.revision.version, changed: true };
      }
      const hash = conflict.fileHash ?? toEntryHash(conflict.file);
      const heads = await store.heads();
      const plan = await planSave(id, conflict.file, { by: options.by, publish: true, expected: found.head.version }, heads);
      const version = 'unchanged' in plan ? plan.unchanged.version : plan.revision.version;
      const fileStates = { set: [{ entryId: id, source: conflict.source, contentHash: hash, version }], remove: [] };
      if ('unchanged' in plan) {
        await commit({ revisions: [], fileStates, conflicts: done });
        return { id, version, changed: false };
      }
      const upserts = await prepareUpserts(
        plan.upserts.map((u) => ({ ...u, source: conflict.source })),
        deps,
      );
      await commit({ revisions: [plan.revision], index: { upserts, removals: [] }, fileStates, conflicts: done });
      return { id, version, changed: true };
    },

    /**
     * Imports the Markdown folder (read by the caller): new and changed files become published
     * versions, deleted files remove their entries, unless the entry changed in the console since
     * the file was last seen (a conflict). A file that holds an older version of its entry is left
     * alone. Problems are returned, not thrown; an invalid file's entry stays as it was.
     */
    async importFiles(files: RawKnowledgeFile[]): Promise<ImportReport> {
      for (let attempt = 0; ; attempt++) {
        const { report, change } = await planImport(files);
        const upserts = await prepareUpserts(change.upserts, deps);
        const empty =
          change.revisions.length === 0 &&
          change.fileStates.set.length + change.fileStates.remove.length + change.conflicts.set.length + change.conflicts.remove.length === 0;
        if (empty) return report;
        try {
          await commit({
            revisions: change.revisions,
            index: { upserts, removals: change.removals },
            fileStates: change.fileStates,
            conflicts: change.conflicts,
          });
          return report;
        } catch (error) {
          // The console (or another instance) changed an entry between reading and writing: plan again.
          if (error instanceof VersionConflictError && attempt < 3) continue;
          throw error;
        }
      }
    },

    /** What `kb:export` writes: every published entry, and the files of entries removed since. */
    async exportPlan(): Promise<ExportPlan> {
      const [heads, states, conflicts] = await Promise.all([store.heads(), store.fileStates(), store.conflicts()]);
      const stateOf = new Map(states.map((s) => [s.entryId, s]));
      const conflicted = new Set(conflicts.map((c) => c.entryId));
      const plan: ExportPlan = { write: [], remove: [], skipped: [] };
      for (const h of heads) {
        const id = h.head.content.id;
        const state = stateOf.get(id);
        if (conflicted.has(id)) {
          plan.skipped.push({ entryId: id, reason: 'its file conflicts with the console: settle it in the console first' });
          continue;
        }
        if (isLive(h)) {
          const { live } = h;
          if (state && state.contentHash === live.contentHash && state.version === live.version) continue;
          plan.write.push({
            entryId: id,
            source: state?.source ?? `${live.content.lang}/${id}.md`,
            content: live.content,
            version: live.version,
            hash: live.contentHash,
            knownHash: state?.contentHash ?? null,
          });
        } else if (state) {
          plan.remove.push({ entryId: id, source: state.source, knownHash: state.contentHash });
        }
      }
      return plan;
    },

    /** Records what the export wrote and deleted, so that the next import sees no change. */
    async markExported(done: { written: ExportItem[]; removed: string[] }): Promise<void> {
      if (done.written.length === 0 && done.removed.length === 0) return;
      await store.commit({
        revisions: [],
        fileStates: {
          set: done.written.map((w) => ({ entryId: w.entryId, source: w.source, contentHash: w.hash, version: w.version })),
          remove: done.removed,
        },
      });
    },

    /**
     * At start: entries indexed before the history was kept get their current version recorded
     * (and logged); then the index is brought in line with the published versions (a new chunking
     * or embedder re-indexes them, keeping their versions), and the helpdesk learns their links.
     */
    async prepare(): Promise<{ adopted: number; reindexed: number }> {
      const old = await store.unrevisioned();
      if (old.length > 0) {
        const ids = new Set(old.map((o) => o.id));
        const versionOf = new Map(old.map((o) => [o.id, o.version]));
        await store.commit({
          revisions: old.map((o) => {
            const content = toEntryContent(o);
            // A pair adopted together is taken to be in sync.
            const partner = o.translation && ids.has(o.translation) ? versionOf.get(o.translation) : undefined;
            return {
              content,
              version: o.version,
              status: 'published',
              contentHash: toEntryHash(content),
              translationSync: partner ?? null,
              author: o.source === CONSOLE_SOURCE ? 'system' : `files:${o.source}`,
              origin: 'adopted',
              restoredFrom: null,
              expectedHead: null,
            };
          }),
          fileStates: {
            set: old
              .filter((o) => o.source.endsWith('.md'))
              .map((o) => ({ entryId: o.id, source: o.source, contentHash: toEntryHash(toEntryContent(o)), version: o.version })),
            remove: [],
          },
        });
        logger.info({ adopted: old.length }, 'knowledge entries adopted into the history');
      }
      const heads = await store.heads();
      const states = await store.fileStates();
      const report = await syncKnowledge(
        heads.filter(isLive).map((h) => toIndexed(h.live.content, h.live.version, sourceOf(h.live.content.id, states))),
        { index: deps.index, embedder: deps.embedder, splitPassages: deps.splitPassages },
      );
      await refreshLinks(heads);
      return { adopted: old.length, reindexed: report.added.length + report.updated.length + report.removed.length };
    },

    /**
     * Follows changes published by other instances: their links reach this instance's helpdesk
     * (answers pick up new versions by themselves, through the index's generation).
     */
    follow(intervalMs: number): { stop(): void } {
      let seen: string | undefined;
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        store
          .generation()
          .then(async (generation) => {
            if (generation !== seen) {
              await refreshLinks();
              seen = generation;
            }
          })
          .catch((error) => logger.warn({ err: error }, 'knowledge follow failed'))
          .finally(() => {
            running = false;
          });
      }, intervalMs);
      timer.unref();
      return { stop: () => clearInterval(timer) };
    },

    /** Published entries as the index holds them (for look-ups by the console). */
    published: (): Promise<StoredEntry[]> => deps.index.listEntries(),
  };
}

export type KnowledgeBase = ReturnType<typeof createKnowledgeBase>;
