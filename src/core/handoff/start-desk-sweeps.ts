import type { Logger } from '../ports.js';
import type { HandoffDesk } from './create-handoff-desk.js';

/**
 * Without Slack, handoffs are still opened (the customer told the wait) and unclaimed ones reminded
 * on a timer; agents answer through the admin API. With Slack, its outbox sweep does this instead.
 */
export function startDeskSweeps(desk: HandoffDesk, logger: Logger, pollMs: number) {
  let running: Promise<void> | undefined;
  const sweep = () => {
    running ??= (async () => {
      try {
        await desk.openEscalations();
        await desk.remindUnclaimed();
      } catch (error) {
        logger.error({ err: error }, 'handoff sweep failed');
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void sweep(), pollMs);
  return {
    wake: () => void sweep(),
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
