import type { App } from '@slack/bolt';
import type { HandoffDesk, Helpdesk, KeyedRunner } from '../../../core/index.js';
import type { SlackAgents } from '../slack-agents.js';
import type { ThreadMirrorStore } from '../thread-mirror.js';

/** What the Slack listeners act with. */
export interface ListenerContext {
  app: App;
  helpdesk: Pick<Helpdesk, 'recordSecurityEvent'>;
  desk: HandoffDesk;
  agents: SlackAgents;
  mirrors: Pick<ThreadMirrorStore, 'findByThread' | 'threadsOf'>;
  /** Slack events of one conversation run in the order they arrived (a click on Claim, then a reply typed right after it). */
  inOrder: KeyedRunner;
  /** The thread mirror has work: a desk turn to post, a root to re-render. */
  wake: () => void;
  now: () => Date;
  options: { supportChannel: string; command: string; workspaceUrl?: string };
}
