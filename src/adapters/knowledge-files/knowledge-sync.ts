import type { Helpdesk, Logger } from '../../core/index.js';
import { readKnowledgeFiles, watchKnowledgeFiles } from './read-knowledge-files.js';

/**
 * Syncs the knowledge folder into the index at start and whenever a file changes. Syncs never
 * overlap: a change during a sync schedules exactly one more.
 */
export function createKnowledgeSync(deps: { helpdesk: Helpdesk; dir: string; logger: Logger }) {
  const { helpdesk, dir, logger } = deps;
  let running: Promise<void> = Promise.resolve();
  let queued = false;

  async function syncOnce() {
    const started = Date.now();
    const report = await helpdesk.syncKnowledge(await readKnowledgeFiles(dir));
    logger.info(
      {
        added: report.added.length,
        updated: report.updated.length,
        removed: report.removed.length,
        unchanged: report.unchanged,
        problems: report.problems.length,
        ms: Date.now() - started,
      },
      'knowledge base synced',
    );
    return report;
  }

  function schedule() {
    if (queued) return;
    queued = true;
    running = running.then(async () => {
      queued = false;
      try {
        await syncOnce();
      } catch (error) {
        logger.error({ err: error }, 'knowledge sync failed');
      }
    });
  }

  return {
    syncNow: syncOnce,
    watch: () => watchKnowledgeFiles(dir, schedule),
    idle: () => running,
  };
}
