import { createWakeLoop } from '../lib/wake-loop.js';
import type { Logger } from '../ports.js';

/** A handoff's state as the feed compares it: open or not, and a mark that changes with any change. */
export interface ChangeMark {
  open: boolean;
  mark: string;
}

export interface InboxSubscription {
  /** The conversations this subscriber has open (their changes are reported even once closed). */
  watch(conversationIds: string[]): void;
  close(): void;
}

/**
 * Live updates for the agents' inbox: one poll of the database per instance (not per browser),
 * every `intervalMs` while anyone listens, and at once when woken (a turn appended here). What
 * another instance changes is seen within `intervalMs`, so several instances on one PostgreSQL
 * agree without a message bus. Listeners hear the ids of conversations whose handoff or turns
 * changed, entered or left the queue; they read what changed themselves.
 */
export function createInboxFeed(deps: { changeMarks: (watched: string[]) => Promise<Map<string, ChangeMark>>; intervalMs: number; logger: Logger }) {
  const subscribers = new Set<{ watched: Set<string>; listener: (ids: string[]) => void }>();
  let marks: Map<string, ChangeMark> | undefined;
  let started = false;

  async function tick(): Promise<void> {
    if (subscribers.size === 0) {
      marks = undefined;
      return;
    }
    const watched = [...new Set([...subscribers].flatMap((s) => [...s.watched]))];
    const current = await deps.changeMarks(watched);
    const previous = marks;
    marks = current;
    if (!previous) return;
    const changed: string[] = [];
    for (const [id, now] of current) {
      const before = previous.get(id);
      // A conversation first seen because someone opened it has not changed; one new in the queue has.
      if (before ? before.mark !== now.mark : now.open) changed.push(id);
    }
    for (const [id, before] of previous) if (!current.has(id) && before.open) changed.push(id);
    if (changed.length === 0) return;
    for (const s of subscribers) {
      try {
        s.listener(changed);
      } catch (error) {
        deps.logger.warn({ err: error }, 'inbox listener failed');
      }
    }
  }

  const loop = createWakeLoop({ name: 'inbox feed', intervalMs: deps.intervalMs, logger: deps.logger, run: tick });

  return {
    subscribe(listener: (ids: string[]) => void): InboxSubscription {
      const subscriber = { watched: new Set<string>(), listener };
      subscribers.add(subscriber);
      if (!started) {
        started = true;
        loop.start();
      }
      return {
        watch(ids) {
          subscriber.watched = new Set(ids);
          void loop.wake();
        },
        close() {
          subscribers.delete(subscriber);
        },
      };
    },
    /** Looks now (a change was made in this instance). */
    wake(): void {
      if (started && subscribers.size > 0) void loop.wake();
    },
    stop(): Promise<void> {
      subscribers.clear();
      return loop.stop();
    },
  };
}

export type InboxFeed = ReturnType<typeof createInboxFeed>;
