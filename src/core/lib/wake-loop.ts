import type { Logger } from '../ports.js';

export interface WakeLoop {
  /** Runs now, or once more right after the run in progress (wakes during a run coalesce into one). */
  wake(): Promise<void>;
  /** Starts the timer and runs once. */
  start(): void;
  /** Stops the timer and waits for the run in progress; later wakes do nothing. */
  stop(): Promise<void>;
}

/**
 * A background job that runs when woken (new work arrived here) and on a timer (work arrived in
 * another instance, or a retry fell due). One run at a time. `run` may return the delay until its
 * next due work (e.g. the earliest retry), which brings the next timed run forward; the timer never
 * waits longer than `intervalMs`. A failed run is logged; the next wake or tick tries again.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a run that has no next due time is an async function returning nothing
export function createWakeLoop(options: { name: string; intervalMs: number; logger: Logger; run: () => Promise<number | undefined | void> }): WakeLoop {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function schedule(delayMs: number): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void wake(), Math.max(0, Math.min(delayMs, options.intervalMs)));
    timer.unref?.();
  }

  function wake(): Promise<void> {
    if (stopped) return running ?? Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let next: number | undefined;
      do {
        again = false;
        try {
          next = (await options.run()) ?? undefined;
        } catch (error) {
          next = undefined;
          options.logger.error({ err: error }, `${options.name} failed`);
        }
      } while (again && !stopped);
      schedule(next ?? options.intervalMs);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    wake,
    start() {
      if (!stopped) return;
      stopped = false;
      void wake();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
