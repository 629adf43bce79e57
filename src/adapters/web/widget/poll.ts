import type { ConversationState } from './api.js';

/** How often the widget asks for new turns (an agent's reply reaches the customer this way). */
export const POLL_INTERVAL_MS = 3000;

export interface PollingState {
  hasConversation: boolean;
  /** A conversation is being created or resumed. */
  starting: boolean;
  /** The page is not visible (another tab, minimised). */
  hidden: boolean;
  conversationState: ConversationState | null;
  embedded: boolean;
  /** The embedded panel is open (always true on the full page). */
  open: boolean;
}

/**
 * Whether a poll is worth its request: not before a conversation exists, not once it is closed,
 * and on a hidden page or a closed embedded panel only while a human agent may reply (their reply
 * changes the tab's title and raises the unread badge).
 */
export function shouldPoll(s: PollingState): boolean {
  if (!s.hasConversation || s.starting) return false;
  if (s.conversationState === 'closed') return false;
  if (s.hidden) return s.conversationState === 'escalated';
  if (s.embedded && !s.open && s.conversationState !== 'escalated') return false;
  return true;
}

/** Calls tick on every interval and at once when the window regains focus or the page becomes visible. */
export function schedulePolling(tick: () => void, intervalMs = POLL_INTERVAL_MS): void {
  window.setInterval(tick, intervalMs);
  window.addEventListener('focus', tick);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') tick();
  });
}
