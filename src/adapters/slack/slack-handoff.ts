import { randomUUID } from 'node:crypto';
import { App, LogLevel, type Logger as BoltLogger, SocketModeReceiver } from '@slack/bolt';
import {
  backoffMs,
  sleep,
  buildHandoffSummary,
  type Conversation,
  createKeyedRunner,
  type ChannelOutbox,
  type CustomerChannel,
  type SentMessage,
  type Helpdesk,
  type HandoffDesk,
  type HandoffStore,
  type HandoffWithConversation,
  type Logger,
  type OutboundBlockReason,
  type Turn,
} from '../../core/index.js';
import { FetchReceiver } from './fetch-receiver.js';
import { ACTION_CLAIM, ACTION_HAND_BACK, ACTION_RESOLVE, toQueueText, toRootMessage, toThreadMessage } from './slack-messages.js';

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

const BATCH = 10;
const TURN_PAGE = 200;
/** How long the agent group's members are taken as known before asking Slack again. */
const AGENT_GROUP_TTL_MS = 60_000;

/** What an agent is told when the outbound guard kept their message from the customer. */
export function toBlockedNotice(result: { reasons: OutboundBlockReason[]; contacts: string[] }): string {
  const why: Record<OutboundBlockReason, string> = {
    asks_for_secret: 'it asks the customer for a secret (password, 2FA code, recovery phrase or private key). Support never asks for these.',
    asks_for_payment: 'it asks the customer to pay (a fee or deposit to unlock, unfreeze or verify an account). Support never does; scammers do.',
    unlisted_contact: `it names a contact that is not official (${result.contacts.map((c) => `\`${c.replace(/`/g, "'")}\``).join(', ')}). Name only the official channels or the knowledge base's links.`,
  };
  return `:no_entry: Not sent to the customer: ${result.reasons.map((r) => why[r]).join(' Also, ')} It is kept in the record as an internal note.`;
}

function toBoltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const write = (fn: (obj: object, msg?: string) => void) => (...msg: unknown[]) => fn({ source: 'bolt' }, msg.map(String).join(' '));
  return {
    debug: write(logger.debug.bind(logger)),
    info: write(logger.info.bind(logger)),
    warn: write(logger.warn.bind(logger)),
    error: write(logger.error.bind(logger)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

/** Retry delay for a failed Web API call: Slack's Retry-After when given, else exponential back-off. */
/**
 * Errors Slack gives as final (invalid_auth, a revoked or wrong app-level token, a 4xx) end a
 * Socket Mode client for good, and when that happens during a reconnect nobody hears of it: the
 * client's reconnect timer drops the rejection. Its `start` is wrapped so that such a failure is
 * logged as an error and retried every `retryMs`, until the token works again or the helpdesk stops.
 */
function keepReconnecting(client: SocketModeReceiver['client'], stopped: () => boolean, retryMs: number, logger: Logger): void {
  const start = client.start.bind(client);
  const keepTrying = async (): Promise<Awaited<ReturnType<typeof start>> | undefined> => {
    for (;;) {
      try {
        return await start();
      } catch (error) {
        if (stopped()) return undefined;
        logger.error({ err: (error as Error).message, retryInMs: retryMs }, 'Slack refused the Socket Mode connection (is SLACK_APP_TOKEN still valid?); retrying');
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        if (stopped()) return undefined;
      }
    }
  };
  client.start = keepTrying as typeof client.start;
}

function retryDelayMs(error: unknown, attempts: number, options: SlackHandoffOptions): number {
  const e = error as { code?: string; retryAfter?: number; data?: { error?: string } };
  if (e.code === 'slack_webapi_rate_limited_error' && typeof e.retryAfter === 'number') return Math.max(options.retryBaseMs, e.retryAfter * 1000);
  return backoffMs(attempts, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs });
}

/**
 * Human handoff in Slack: a thread per conversation in the support channel, mirrored from the
 * conversation's turns through a durable outbox (the `handoff` row's cursors), and agents' replies,
 * notes, edits and button clicks turned into desk operations.
 */
export function createSlackHandoff(deps: {
  helpdesk: Pick<Helpdesk, 'turns' | 'recordSecurityEvent'>;
  desk: HandoffDesk;
  handoffs: HandoffStore;
  logger: Logger;
  options: SlackHandoffOptions;
  /** Where customers' files (screenshots) are fetched from, to upload them into the thread. */
  customerChannels?: Partial<Record<Conversation['channel'], CustomerChannel>>;
  /**
   * The durable outbox holding the threads to redact after an erasure (channel `slack`, method
   * `redact_thread`, payload `{ channel, thread, marker }`): each sweep works them off.
   */
  redactions?: ChannelOutbox;
  now?: () => Date;
}) {
  const { helpdesk, desk, handoffs, logger, options } = deps;
  const now = deps.now ?? (() => new Date());
  const owner = `slack-${randomUUID()}`;
  const receiver = options.appToken ? undefined : new FetchReceiver({
        signingSecret: options.signingSecret,
        logger,
        onDenied: (reason: string) => {
          void helpdesk.recordSecurityEvent({ type: 'access_denied', channel: 'slack', detail: { reason } });
        },
        ...(options.ackTimeoutMs ? { ackTimeoutMs: options.ackTimeoutMs } : {}) });
  const clientOptions = {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    // The outbox retries; the client must fail fast instead of sleeping through 429s for minutes.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  };
  // Socket Mode opens its connection, again after each of Slack's disconnects, with
  // apps.connections.open through a client of its own. Unlike the outbox's, that call must be
  // retried: when it fails during a reconnect, @slack/socket-mode gives up for good (an unhandled
  // rejection), and the helpdesk would hear nothing more from Slack.
  const socketReceiver = options.appToken
    ? new SocketModeReceiver({
        appToken: options.appToken,
        logger: toBoltLogger(logger),
        installerOptions: {
          clientOptions: {
            ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
            retryConfig: { retries: 1000, factor: 2, minTimeout: Math.min(options.retryBaseMs, options.retryMaxMs), maxTimeout: options.retryMaxMs },
          },
        },
      })
    : undefined;
  if (socketReceiver) keepReconnecting(socketReceiver.client, () => stopped, options.retryMaxMs, logger);
  const app = new App({
    token: options.botToken,
    receiver: receiver ?? (socketReceiver as SocketModeReceiver),
    ...(options.appToken ? { signingSecret: options.signingSecret } : {}),
    clientOptions,
    deferInitialization: true,
    logger: toBoltLogger(logger),
  });
  const names = new Map<string, string>();
  // Slack events of one conversation are handled in the order they arrived (a click on Claim, then
  // a reply typed right after it), whatever their own look-ups take.
  const inOrder = createKeyedRunner();

  async function agentOf(userId: string): Promise<{ id: string; name: string }> {
    const cached = names.get(userId);
    if (cached) return { id: userId, name: cached };
    try {
      const info = await app.client.users.info({ user: userId });
      const user = info.user as { name?: string; real_name?: string; profile?: { display_name?: string; real_name?: string } } | undefined;
      const name = user?.profile?.display_name || user?.profile?.real_name || user?.real_name || user?.name || userId;
      names.set(userId, name);
      return { id: userId, name };
    } catch (error) {
      logger.warn({ err: error, userId }, 'users.info failed; using the user id as name');
      return { id: userId, name: userId };
    }
  }

  const threadLink = (record: { deskChannel: string | null; deskThread: string | null }) =>
    options.workspaceUrl && record.deskChannel && record.deskThread
      ? `${options.workspaceUrl.replace(/\/$/, '')}/archives/${record.deskChannel}/p${record.deskThread.replace('.', '')}`
      : undefined;

  let agents: { members: Set<string>; at: number } | undefined;
  let agentsLoading: Promise<Set<string> | undefined> | undefined;
  /**
   * Whether a Slack user counts as an agent: anyone without SLACK_AGENT_GROUP, else a member of
   * that group (usergroups.users.list, asked again after a minute; when Slack does not answer, the
   * last known members; never known: nobody).
   */
  async function isAgent(userId: string): Promise<boolean> {
    const group = options.agentGroup;
    if (!group) return true;
    if (!agents || Date.now() - agents.at > AGENT_GROUP_TTL_MS) {
      agentsLoading ??= app.client.usergroups.users
        .list({ usergroup: group })
        .then((result) => {
          agents = { members: new Set(result.users ?? []), at: Date.now() };
          return agents.members;
        })
        .catch((error: unknown) => {
          logger.warn({ err: (error as Error).message, group }, 'usergroups.users.list failed; using the agents known before');
          return agents?.members;
        })
        .finally(() => {
          agentsLoading = undefined;
        });
      await agentsLoading;
    }
    return agents?.members.has(userId) ?? false;
  }

  /** Refuses a Slack user who is not an agent: recorded, and told why. */
  async function refuseNonAgent(userId: string, channel: string, threadTs: string | undefined, route: string): Promise<boolean> {
    if (await isAgent(userId)) return false;
    void helpdesk.recordSecurityEvent({ type: 'access_denied', channel: 'slack', detail: { reason: 'slack_not_agent', route } });
    await warn(channel, userId, threadTs, ':no_entry: Only members of the support agents\' user group can act on customer conversations; nothing was sent.');
    return true;
  }

  async function warn(channel: string, user: string, threadTs: string | undefined, text: string) {
    await app.client.chat
      .postEphemeral({ channel, user, text, ...(threadTs ? { thread_ts: threadTs } : {}) })
      .catch((error) => logger.warn({ err: error }, 'ephemeral warning failed'));
  }

  // ---- agents' messages in threads ----
  /**
   * The handoff of a thread. A root is visible in Slack a moment before its ts is saved (this or
   * another instance is between chat.postMessage and saveMirror): a reply that quick would be lost,
   * so an unknown thread is looked up again a few times before the message is taken as unrelated.
   */
  async function findThread(channel: string, threadTs: string) {
    for (let attempt = 0; ; attempt++) {
      const record = await handoffs.findByThread(channel, threadTs);
      if (record || attempt >= 5) return record;
      await sleep(backoffMs(attempt, { baseMs: 50, maxMs: 50 * 2 ** 10 }));
    }
  }

  app.event('message', async ({ event }) => {
    const e = event as unknown as Record<string, any>;
    if (e.channel !== options.supportChannel) return;
    if (e.subtype === 'message_changed') {
      const message = e.message ?? {};
      if (message.bot_id || !message.user || !message.thread_ts || message.thread_ts === message.ts) return;
      const record = await handoffs.findByThread(e.channel, message.thread_ts);
      if (!record) return;
      if (message.text === e.previous_message?.text) return; // unfurls and other non-edits
      if (await refuseNonAgent(message.user, e.channel, message.thread_ts, 'message_changed')) return;
      const internal = /^\s*note:/i.test(message.text ?? '') || /^\s*note:/i.test(e.previous_message?.text ?? '');
      const edited = await desk.edit(record.conversationId, {
        agent: await agentOf(message.user),
        text: message.text ?? '',
        internal,
        externalKey: `slack:edit:${e.channel}:${message.ts}:${message.edited?.ts ?? e.ts}`,
        desk: { tool: 'slack', ts: e.ts, editOf: message.ts },
      });
      if (edited.status === 'blocked') await warn(e.channel, message.user, message.thread_ts, toBlockedNotice(edited));
      return;
    }
    if (e.subtype === 'message_deleted') {
      const previous = e.previous_message ?? {};
      if (!previous.thread_ts || previous.bot_id) return;
      // A non-agent's message was never relayed: its deletion is nothing to note.
      if (!previous.user || !(await isAgent(previous.user))) return;
      const record = await handoffs.findByThread(e.channel, previous.thread_ts);
      if (!record) return;
      // Deleting in Slack removes nothing from the record; the deletion itself is noted.
      await desk.note(record.conversationId, {
        agent: { id: previous.user ?? 'slack', name: previous.user ?? 'Slack' },
        text: `[message deleted in Slack; the record keeps it] ${previous.text ?? ''}`,
        externalKey: `slack:delete:${e.channel}:${e.deleted_ts ?? previous.ts}`,
        desk: { tool: 'slack', ts: e.ts, editOf: previous.ts },
      });
      return;
    }
    if (e.subtype && e.subtype !== 'file_share' && e.subtype !== 'thread_broadcast') return;
    if (e.bot_id || !e.user || !e.thread_ts || e.thread_ts === e.ts) return;
    const record = await findThread(e.channel, e.thread_ts);
    if (!record) return;
    if (await refuseNonAgent(e.user, e.channel, e.thread_ts, 'message')) return;
    await inOrder.run(record.conversationId, () => relayAgentMessage(e, record.conversationId));
    wake();
  });

  /** An agent's message in a thread: a note ("note: …") or a reply to the customer. */
  async function relayAgentMessage(e: Record<string, any>, conversationId: string): Promise<void> {
    const agent = await agentOf(e.user);
    const text = String(e.text ?? '');
    const origin = { agent, externalKey: `slack:msg:${e.channel}:${e.ts}`, desk: { tool: 'slack', ts: e.ts as string } };
    const note = /^\s*note:\s*/i.exec(text);
    if (note) {
      await desk.note(conversationId, { ...origin, text: text.slice(note[0].length) });
      return;
    }
    const result = await desk.reply(conversationId, { ...origin, text });
    if (result.status === 'blocked') await warn(e.channel, e.user, e.thread_ts, toBlockedNotice(result));
  }

  // ---- buttons ----
  const button = (name: string, run: typeof desk.claim) =>
    app.action(name, async ({ ack, body, action }) => {
      await ack();
      const a = action as { value?: string; action_ts?: string };
      const b = body as { user: { id: string }; channel?: { id: string }; message?: { ts: string; thread_ts?: string } };
      if (!a.value) return;
      // Handoff buttons act only from the support channel; anything else is refused and recorded.
      if (b.channel?.id !== options.supportChannel) {
        void helpdesk.recordSecurityEvent({ type: 'access_denied', channel: 'slack', detail: { reason: 'slack_action_outside_support_channel', route: name } });
        return;
      }
      if (await refuseNonAgent(b.user.id, b.channel.id, b.message?.ts, name)) return;
      const conversationId = a.value;
      const result = await inOrder.run(conversationId, async () =>
        run(conversationId, {
          agent: await agentOf(b.user.id),
          externalKey: `slack:action:${name}:${a.action_ts ?? b.message?.ts}:${b.user.id}`,
          desk: { tool: 'slack', ...(b.message?.ts ? { ts: b.message.ts } : {}) },
        }),
      );
      if (result.status === 'claimed_by_other') await warn(b.channel?.id ?? options.supportChannel, b.user.id, b.message?.ts, `Already claimed by ${result.by}.`);
      if (result.status === 'not_open') await warn(b.channel?.id ?? options.supportChannel, b.user.id, b.message?.ts, 'This conversation is no longer with humans.');
      wake();
    });
  button(ACTION_CLAIM, desk.claim);
  button(ACTION_RESOLVE, desk.resolve);
  button(ACTION_HAND_BACK, desk.handBack);

  // ---- slash command ----
  app.command(options.command, async ({ ack, command }) => {
    // The queue names customers: it is shown only in the support channel.
    if (command.channel_id !== options.supportChannel) {
      void helpdesk.recordSecurityEvent({ type: 'access_denied', channel: 'slack', detail: { reason: 'slack_command_outside_support_channel' } });
      await ack({ response_type: 'ephemeral', text: `Use ${options.command} in the support channel.` });
      return;
    }
    if (!(await isAgent(command.user_id))) {
      void helpdesk.recordSecurityEvent({ type: 'access_denied', channel: 'slack', detail: { reason: 'slack_not_agent', route: options.command } });
      await ack({ response_type: 'ephemeral', text: `${options.command} is for members of the support agents' user group.` });
      return;
    }
    const open = await desk.listOpen();
    await ack({ response_type: 'ephemeral', text: toQueueText(open, now(), threadLink) });
  });

  app.error(async (error) => {
    logger.error({ err: error }, 'slack handler failed');
  });

  // ---- outbox: mirror turns into threads ----
  /**
   * Exactly once across crashes: a post is marked in flight before it is made and carries message
   * metadata naming the conversation (and turn); a post still marked in flight when the mirror
   * resumes (this instance after a lost answer, or another one after a crash) may already be in
   * Slack, so it is looked up there first and only posted when it is not.
   */
  const ROOT_EVENT = 'helpdesk_handoff';
  const TURN_EVENT = 'helpdesk_turn';

  type Posted = { ts?: string; metadata?: { event_type?: string; event_payload?: Record<string, unknown> } };
  async function findPosted(pages: (cursor: string | undefined) => Promise<{ messages?: Posted[]; response_metadata?: { next_cursor?: string } }>, matches: (m: Posted) => boolean) {
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      const result = await pages(cursor);
      const found = result.messages?.find(matches);
      if (found?.ts) return found.ts;
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  /** The root of a conversation's thread if an earlier attempt posted it (searched from shortly before the escalation). */
  const findPostedRoot = (channel: string, record: HandoffWithConversation['record']) =>
    findPosted(
      (cursor) =>
        app.client.conversations.history({
          channel,
          oldest: String(Math.floor(record.escalatedAt.getTime() / 1000) - 600),
          include_all_metadata: true,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        }) as never,
      (m) => m.metadata?.event_type === ROOT_EVENT && m.metadata.event_payload?.conversation_id === record.conversationId,
    );

  /** A turn's thread reply if an earlier attempt posted it. */
  const findPostedTurn = (channel: string, thread: string, conversationId: string, seq: number) =>
    findPosted(
      (cursor) => app.client.conversations.replies({ channel, ts: thread, include_all_metadata: true, limit: 200, ...(cursor ? { cursor } : {}) }) as never,
      (m) => m.metadata?.event_type === TURN_EVENT && m.metadata.event_payload?.conversation_id === conversationId && Number(m.metadata.event_payload?.seq) === seq,
    );

  /** Files worth showing agents (not stickers), with the title that also finds them again in the thread. */
  const filesOf = (turn: Turn) =>
    turn.role === 'customer' && !turn.data.internal
      ? (turn.data.attachments ?? []).filter((a) => a.fileId && a.type !== 'sticker' && a.type !== 'other')
      : [];
  const fileTitle = (seq: number, index: number, name: string) => `Customer file ${seq}.${index + 1} · ${name}`;

  /**
   * Uploads the customer's files of a turn into the thread (files.uploadV2), each once: marked in
   * flight first, and looked up by its title when the mark is found after an interruption. A file
   * the channel will never give (too big, expired) is named in the thread instead.
   */
  async function uploadFiles(conversation: Conversation, turn: Turn, channel: string, thread: string, resumeAt: number | undefined) {
    const files = filesOf(turn);
    const source = deps.customerChannels?.[conversation.channel];
    if (files.length === 0 || !source?.fetchFile) return;
    for (const [index, attachment] of files.entries()) {
      if (resumeAt !== undefined && index < resumeAt) continue;
      const prefix = fileTitle(turn.seq, index, '');
      if (resumeAt === index) {
        const found = await findPosted(
          (cursor) => app.client.conversations.replies({ channel, ts: thread, limit: 200, ...(cursor ? { cursor } : {}) }) as never,
          (m) => ((m as { files?: Array<{ title?: string }> }).files ?? []).some((f) => f.title?.startsWith(prefix)),
        );
        if (found) continue;
      }
      await handoffs.saveMirror(conversation.id, owner, { mirrorInflight: `file:${turn.seq}:${index}` });
      const file = await source.fetchFile(attachment);
      if ('unavailable' in file) {
        await app.client.chat.postMessage({ channel, thread_ts: thread, text: `:warning: ${prefix}could not be fetched from ${conversation.channel}: ${file.unavailable}`, unfurl_links: false });
        continue;
      }
      await app.client.filesUploadV2({
        channel_id: channel,
        thread_ts: thread,
        file: Buffer.from(file.data),
        filename: file.fileName,
        title: fileTitle(turn.seq, index, file.fileName),
      });
    }
  }

  async function mirror({ record, conversation }: HandoffWithConversation): Promise<boolean> {
    let thread = record.deskThread;
    const channel = record.deskChannel ?? options.supportChannel;
    const inflight = record.mirrorInflight;
    try {
      if (!thread && inflight?.startsWith('root:')) {
        const found = await findPostedRoot(channel, record);
        if (found) {
          thread = found;
          logger.info({ conversationId: conversation.id }, 'slack thread root found after an interrupted post; not posted again');
          await handoffs.saveMirror(conversation.id, owner, { deskChannel: channel, deskThread: thread, mirrorInflight: null });
        }
      }
      if (!thread || record.rootDirty) {
        const history = await helpdesk.turns(conversation.id, Math.max(0, record.openedSeq - 40), TURN_PAGE);
        const summary = buildHandoffSummary(conversation, history.filter((t) => t.seq <= record.openedSeq));
        const root = toRootMessage(summary, thread ? record : undefined);
        if (!thread) {
          await handoffs.saveMirror(conversation.id, owner, { mirrorInflight: `root:${record.openedSeq}` });
          const posted = await app.client.chat.postMessage({
            channel,
            text: root.text,
            blocks: root.blocks as never,
            unfurl_links: false,
            metadata: { event_type: ROOT_EVENT, event_payload: { conversation_id: conversation.id } },
          });
          thread = posted.ts as string;
          await handoffs.saveMirror(conversation.id, owner, { deskChannel: (posted.channel as string) ?? channel, deskThread: thread, rootDirty: false, mirrorInflight: null });
        } else {
          await app.client.chat.update({ channel, ts: thread, text: root.text, blocks: root.blocks as never });
          await handoffs.saveMirror(conversation.id, owner, { rootDirty: false });
        }
      }
      let after = record.relayedSeq;
      for (;;) {
        const turns = await helpdesk.turns(conversation.id, after, TURN_PAGE);
        if (turns.length === 0) break;
        for (const turn of turns) {
          const text = toThreadMessage(turn, { reminderGroup: options.reminderGroup, unclaimedMinutes: Math.round(options.unclaimedAfterMs / 60_000) });
          const marker = `turn:${turn.seq}`;
          // `file:<seq>:<i>` in flight: the text of this turn and its files before i are in Slack.
          const fileInflight = inflight?.startsWith(`file:${turn.seq}:`) ? Number(inflight.split(':')[2]) : undefined;
          const already = fileInflight !== undefined || (text && inflight === marker ? await findPostedTurn(channel, thread, conversation.id, turn.seq) : undefined);
          if (text && !already) {
            await handoffs.saveMirror(conversation.id, owner, { mirrorInflight: marker });
            await app.client.chat.postMessage({
              channel,
              thread_ts: thread,
              text,
              unfurl_links: false,
              metadata: { event_type: TURN_EVENT, event_payload: { conversation_id: conversation.id, seq: turn.seq } },
            });
          } else if (already && fileInflight === undefined) {
            logger.info({ conversationId: conversation.id, seq: turn.seq }, 'slack thread reply found after an interrupted post; not posted again');
          }
          await uploadFiles(conversation, turn, channel, thread, fileInflight);
          after = turn.seq;
          await handoffs.saveMirror(conversation.id, owner, { relayedSeq: after, mirrorInflight: null });
        }
      }
      await handoffs.releaseMirror(conversation.id, owner);
      return true;
    } catch (error) {
      const delay = retryDelayMs(error, record.attempts, options);
      logger.warn({ err: (error as Error).message, conversationId: conversation.id, retryInMs: delay }, 'slack post failed; kept in the outbox');
      await handoffs.releaseMirror(conversation.id, owner, { retryInMs: delay, error: String((error as Error).message ?? error) });
      return false;
    }
  }

  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;

  /** One sweep: open new handoffs, remind, mirror what is behind, deliver what the customer lacks. */
  async function sweep(): Promise<void> {
    await desk.openEscalations();
    await desk.remindUnclaimed();
    for (;;) {
      const leased = await handoffs.leaseMirror(owner, options.leaseMs, BATCH);
      if (leased.length === 0) break;
      let failed = false;
      for (const item of leased) failed = !(await mirror(item)) || failed;
      // Slack is failing: the next sweep (poll or wake) tries again once the retry is due.
      if (failed) break;
    }
    await redactErased();
  }

  let own: { userId?: string; botId?: string } | undefined;

  /**
   * Threads of erased conversations: every message the bot posted there (the root with the
   * customer's name, mirrored customer messages, bot answers) is replaced by the marker, and every
   * file it uploaded deleted. Messages of agents are theirs: a bot token cannot change them.
   * Idempotent: a redaction interrupted half-way is simply done again.
   */
  async function redactErased(): Promise<void> {
    const outbox = deps.redactions;
    if (!outbox) return;
    let done: SentMessage[] = [];
    for (;;) {
      const claimed = await outbox.claim('slack', BATCH, options.leaseMs, done);
      done = [];
      if (claimed.length === 0) return;
      for (const message of claimed) {
        const { channel, thread, marker } = message.payload as { channel?: string; thread?: string; marker?: string };
        if (message.method !== 'redact_thread' || !channel || !thread) {
          await outbox.markFailed(message.id, `not a redaction: ${message.method}`);
          continue;
        }
        try {
          await redactThread(channel, thread, marker ?? 'Erased.');
          done.push({ id: message.id, at: new Date(), result: null });
        } catch (error) {
          const delay = retryDelayMs(error, message.attempts, options);
          logger.warn({ err: (error as Error).message, retryInMs: delay }, 'slack redaction failed; kept in the outbox');
          await outbox.retryLater(message.id, delay, String((error as Error).message ?? error));
        }
      }
      if (done.length === 0) return;
    }
  }

  async function redactThread(channel: string, thread: string, marker: string): Promise<void> {
    if (!own?.userId) {
      const auth = await app.client.auth.test();
      own = { ...(auth.user_id ? { userId: auth.user_id } : {}), ...(auth.bot_id ? { botId: auth.bot_id } : {}) };
    }
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: marker } }];
    let cursor: string | undefined;
    do {
      const page = await app.client.conversations
        .replies({ channel, ts: thread, limit: 200, ...(cursor ? { cursor } : {}) })
        .catch((error: { data?: { error?: string } }) => {
          // The thread is gone already (deleted in Slack): nothing left to redact.
          if (error.data?.error === 'thread_not_found' || error.data?.error === 'channel_not_found') return undefined;
          throw error;
        });
      if (!page) return;
      for (const m of page.messages ?? []) {
        const mine = (own.botId && m.bot_id === own.botId) || (own.userId && m.user === own.userId);
        if (!mine || !m.ts) continue;
        for (const file of m.files ?? []) {
          if (!file.id) continue;
          await app.client.files.delete({ file: file.id }).catch((error: { data?: { error?: string } }) => {
            if (error.data?.error !== 'file_not_found' && error.data?.error !== 'file_deleted') throw error;
          });
        }
        if (m.text !== marker) await app.client.chat.update({ channel, ts: m.ts, text: marker, blocks });
      }
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
  }

  /** Runs a sweep now (or right after the current one). */
  function wake(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await sweep();
        } catch (error) {
          logger.error({ err: error }, 'slack outbox sweep failed');
        }
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  async function init(): Promise<void> {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await app.init();
        await app.start();
        logger.info({ channel: options.supportChannel, transport: receiver ? 'http' : 'socket' }, 'slack handoff ready');
        return;
      } catch (error) {
        const delay = backoffMs(attempt, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs });
        logger.warn({ err: (error as Error).message, retryInMs: delay }, 'slack not reachable at start-up; retrying');
        await sleep(delay);
      }
    }
  }

  return {
    app,
    /** Handles POST /slack/events (events, interactivity and slash commands). */
    handle(request: Request): Promise<Response> {
      if (!receiver) return Promise.resolve(new Response('socket mode', { status: 404 }));
      return receiver.handle(request);
    },
    wake,
    /** Starts bolt (in the background until Slack answers) and the outbox sweeps. */
    start(): { ready: Promise<void> } {
      stopped = false;
      timer = setInterval(() => void wake(), options.pollMs);
      void wake();
      return { ready: init() };
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
      await app.stop().catch(() => undefined);
    },
  };
}

export type SlackHandoff = ReturnType<typeof createSlackHandoff>;
