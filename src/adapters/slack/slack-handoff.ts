import { randomUUID } from 'node:crypto';
import {
  type ChannelOutbox,
  type Conversation,
  type CustomerChannel,
  createKeyedRunner,
  createWakeLoop,
  type HandoffDesk,
  type Helpdesk,
  type Logger,
} from '../../core/index.js';
import type { ListenerContext } from './listeners/context.js';
import { registerHandoffActions } from './listeners/handoff-actions.js';
import { registerMessageEvents } from './listeners/message-events.js';
import { registerQueueCommand } from './listeners/queue-command.js';
import { createSlackAgents } from './slack-agents.js';
import { createSlackApp } from './slack-app.js';
import { createThreadMirror, type ThreadMirrorStore } from './thread-mirror.js';

export interface SlackHandoffOptions {
  botToken: string;
  signingSecret: string;
  /** Channel id of the support channel where threads are posted. */
  supportChannel: string;
  /** Web API base URL (default Slack's). */
  apiUrl?: string;
  /** Socket Mode app-level token (xapp-…); without it, events come over HTTP to `handle`. */
  appToken?: string;
  /** User group pinged when a conversation stays unclaimed. */
  reminderGroup?: string;
  /**
   * User group whose members are the agents; without it, anyone in the support channel is. Others'
   * thread messages, buttons and /helpdesk are refused (and recorded).
   */
  agentGroup?: string;
  /** Slash command name, e.g. "/helpdesk". */
  command: string;
  unclaimedAfterMs: number;
  /** How often the outbox is swept (other instances' escalations, retries after failures). */
  pollMs: number;
  leaseMs: number;
  /** First retry delay after a failed Slack call without Retry-After; doubles up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Workspace URL used to link threads from `/helpdesk` (e.g. https://acme.slack.com). */
  workspaceUrl?: string;
  ackTimeoutMs?: number;
}

/**
 * Human handoff in Slack: a thread per conversation in the support channel, mirrored from the
 * conversation's turns (thread-mirror.ts), and agents' replies, notes, edits, button clicks and the
 * slash command turned into desk operations (listeners/). One sweep at a time opens new handoffs,
 * sends reminders, mirrors what is behind and redacts erased threads: when woken (work arrived
 * here) and every `pollMs` (work arrived in another instance, or a retry fell due).
 */
export function createSlackHandoff(deps: {
  helpdesk: Pick<Helpdesk, 'turns' | 'recordSecurityEvent'>;
  desk: HandoffDesk;
  mirrors: ThreadMirrorStore;
  logger: Logger;
  options: SlackHandoffOptions;
  /** Where customers' files (screenshots) are fetched from, to upload them into the thread. */
  customerChannels?: Partial<Record<Conversation['channel'], CustomerChannel>>;
  /** The durable outbox holding the threads to redact after an erasure. */
  redactions?: ChannelOutbox;
  now?: () => Date;
}) {
  const { helpdesk, desk, logger, options } = deps;
  const slack = createSlackApp(options, logger, (reason) => {
    void helpdesk.recordSecurityEvent({ type: 'access_denied', channel: 'slack', detail: { reason } });
  });
  const { app } = slack;
  const threads = createThreadMirror({
    app,
    helpdesk,
    mirrors: deps.mirrors,
    logger,
    owner: `slack-${randomUUID()}`,
    options,
    ...(deps.customerChannels ? { customerChannels: deps.customerChannels } : {}),
    ...(deps.redactions ? { redactions: deps.redactions } : {}),
  });
  const sweeps = createWakeLoop({
    name: 'slack outbox sweep',
    intervalMs: options.pollMs,
    logger,
    async run() {
      await desk.openEscalations();
      await desk.remindUnclaimed();
      await threads.catchUp();
      await threads.redactErased();
    },
  });
  const context: ListenerContext = {
    app,
    helpdesk,
    desk,
    agents: createSlackAgents({ app, helpdesk, logger, agentGroup: options.agentGroup }),
    mirrors: deps.mirrors,
    inOrder: createKeyedRunner(),
    wake: () => void sweeps.wake(),
    now: deps.now ?? (() => new Date()),
    options,
  };
  registerMessageEvents(context);
  registerHandoffActions(context);
  registerQueueCommand(context);
  app.error(async (error) => {
    logger.error({ err: error }, 'slack handler failed');
  });

  return {
    app,
    /** Handles POST /slack/events (events, interactivity and slash commands). */
    handle: slack.handle,
    /** Runs a sweep now (or right after the current one). */
    wake: sweeps.wake,
    /** Starts bolt (in the background until Slack answers) and the outbox sweeps. */
    start(): { ready: Promise<void> } {
      sweeps.start();
      return {
        ready: slack.start().then((started) => {
          if (started) logger.info({ channel: options.supportChannel, transport: slack.transport }, 'slack handoff ready');
        }),
      };
    },
    async stop(): Promise<void> {
      await sweeps.stop();
      await slack.stop();
    },
  };
}

export type SlackHandoff = ReturnType<typeof createSlackHandoff>;
