import { createWakeLoop } from '../lib/wake-loop.js';
import type { Logger } from '../ports.js';
import type { HandoffDesk } from './create-handoff-desk.js';

/**
 * Without Slack, handoffs are still opened (the customer told the wait) and unclaimed ones reminded
 * on a timer; agents answer through the admin API. With Slack, its outbox sweep does this instead.
 */
export function startDeskSweeps(desk: HandoffDesk, logger: Logger, pollMs: number) {
  const sweeps = createWakeLoop({
    name: 'handoff sweep',
    intervalMs: pollMs,
    logger,
    async run() {
      await desk.openEscalations();
      await desk.remindUnclaimed();
    },
  });
  sweeps.start();
  return {
    wake: () => void sweeps.wake(),
    stop: () => sweeps.stop(),
  };
}
