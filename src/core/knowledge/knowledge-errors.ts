import { HelpdeskError } from '../errors.js';
import type { Revision } from './knowledge-store.js';
import type { FieldIssue } from './validate-entries.js';

/**
 * The entry changed since the version the caller started from (`stale`), or exists already when
 * the caller meant to create it (`exists`). `current` is its latest version now, so that the
 * caller can show both and nothing is lost.
 */
export class VersionConflictError extends HelpdeskError {
  constructor(
    readonly entryId: string,
    readonly reason: 'stale' | 'exists',
    readonly current: Revision | undefined,
  ) {
    super(
      'version_conflict',
      `entry ${entryId}: ${reason === 'exists' ? 'exists already' : `changed (now version ${current?.version ?? 'none'})`}`,
      reason === 'exists'
        ? `An entry with the id "${entryId}" exists already.`
        : `Someone else saved "${entryId}" meanwhile (now version ${current?.version ?? '?'}). Your text is kept: compare and save again.`,
    );
    this.name = 'VersionConflictError';
  }
}

/** An entry that fails validation, field by field (the same validator as for files). */
export class EntryValidationError extends HelpdeskError {
  constructor(readonly issues: FieldIssue[]) {
    super('knowledge_invalid', `invalid entry: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, 'The entry has errors: see each field.');
    this.name = 'EntryValidationError';
  }
}
