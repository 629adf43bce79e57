import type { Logger, RawKnowledgeFile } from '../../core/index.js';
import { backoffMs } from '../../core/index.js';
import { readKnowledgeFiles, watchKnowledgeFiles } from './read-knowledge-files.js';

/** What an import reports, as logged. */
interface SyncSummary {
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: number;
  problems: unknown[];
  conflicts?: string[];
}

/** First wait before a failed sync (the database away, say) is tried again; doubles up to the last. */
const RETRY_MS = [5_000, 60_000] as const;

/**
 * Syncs the knowledge folder into the index at start and whenever a file changes. Syncs never
 * overlap: a change during a sync schedules exactly one more. A failed sync is tried again, later
 * and later, until one succeeds: a change made while the database was away is not lost.
 */
export function createKnowledgeSync(deps: {
  /** Imports the folder's files (the knowledge base's importFiles, or the helpdesk's syncKnowledge). */
  importFiles: (files: RawKnowledgeFile[]) => Promise<SyncSummary>;
  dir: string;
  logger: Logger;
  retryMs?: readonly [number, number];
}) {
  const { dir, logger } = deps;
  const [firstRetryMs, maxRetryMs] = deps.retryMs ?? RETRY_MS;
  let running: Promise<void> = Promise.resolve();
  let queued = false;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;
  let stopped = false;

  async function syncOnce() {
    const started = Date.now();
    const report = await deps.importFiles(await readKnowledgeFiles(dir));
    logger.info(
      {
        added: report.added.length,
        updated: report.updated.length,
        removed: report.removed.length,
        unchanged: report.unchanged,
        problems: report.problems.length,
        ...(report.conflicts ? { conflicts: report.conflicts.length } : {}),
        ms: Date.now() - started,
      },
      'knowledge base synced',
    );
    return report;
  }

  function schedule() {
    if (queued || stopped) return;
    queued = true;
    clearTimeout(retry);
    running = running.then(async () => {
      queued = false;
      try {
        await syncOnce();
        failures = 0;
      } catch (error) {
        const delayMs = backoffMs(failures, { baseMs: firstRetryMs, maxMs: maxRetryMs });
        failures += 1;
        logger.error({ err: error, retryInMs: delayMs }, 'knowledge sync failed; trying again');
        if (!stopped) retry = setTimeout(schedule, delayMs);
      }
    });
  }

  return {
    syncNow: syncOnce,
    watch: () => {
      stopped = false;
      const unwatch = watchKnowledgeFiles(dir, schedule);
      return () => {
        stopped = true;
        clearTimeout(retry);
        unwatch();
      };
    },
    idle: () => running,
  };
}
