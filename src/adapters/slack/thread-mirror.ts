import type { App } from '@slack/bolt';
import {
  buildHandoffSummary,
  type ChannelOutbox,
  type Conversation,
  type CustomerChannel,
  type HandoffRecord,
  type Helpdesk,
  type Logger,
  type SentMessage,
  type Turn,
} from '../../core/index.js';
import { retryDelayMs } from './slack-app.js';
import { toRootMessage, toThreadMessage } from './slack-messages.js';

/** How far a handoff is mirrored into its Slack thread. */
export interface ThreadMirrorState {
  /** The thread (channel id and root ts), once posted. */
  deskChannel: string | null;
  deskThread: string | null;
  /** Turns up to this seq are in the thread. */
  relayedSeq: number;
  /** The thread root must be re-rendered (claimed, resolved, handed back, re-escalated). */
  rootDirty: boolean;
  /**
   * A post that may be in Slack although its answer never came back (a crash or a lost response):
   * `root:<openedSeq>`, `turn:<seq>` or `file:<seq>:<index>`. It is looked up before being posted again.
   */
  mirrorInflight: string | null;
  attempts: number;
  lastError: string | null;
}

export type ThreadMirrorProgress = {
  deskChannel?: string;
  deskThread?: string;
  relayedSeq?: number;
  rootDirty?: boolean;
  /** A post about to be made (a string), or none any more (null). */
  mirrorInflight?: string | null;
};

/** Durable mirror state; only the holder of a handoff's lease works on its thread. */
export interface ThreadMirrorStore {
  findByThread(deskChannel: string, deskThread: string): Promise<{ conversationId: string } | undefined>;
  threadsOf(conversationIds: string[]): Promise<Map<string, { deskChannel: string; deskThread: string }>>;
  /** Leases, for `leaseMs`, handoffs whose thread is behind and due. */
  lease(owner: string, leaseMs: number, limit: number): Promise<Array<{ record: HandoffRecord; mirror: ThreadMirrorState; conversation: Conversation }>>;
  save(conversationId: string, owner: string, progress: ThreadMirrorProgress): Promise<void>;
  /** Ends the lease; after a failure the handoff is due again in `retryInMs`. */
  release(conversationId: string, owner: string, failure?: { retryInMs: number; error: string }): Promise<void>;
}

const BATCH = 10;
const TURN_PAGE = 200;
const ROOT_EVENT = 'helpdesk_handoff';
const TURN_EVENT = 'helpdesk_turn';

/**
 * The conversation's turns mirrored into a Slack thread through a durable outbox (the mirror
 * state's cursors), and the threads of erased conversations redacted.
 *
 * Exactly once across crashes: a post is marked in flight before it is made and carries message
 * metadata naming the conversation (and turn); a post still marked in flight when the mirror
 * resumes (this instance after a lost answer, or another one after a crash) may already be in
 * Slack, so it is looked up there first and only posted when it is not.
 */
export function createThreadMirror(deps: {
  app: App;
  helpdesk: Pick<Helpdesk, 'turns'>;
  mirrors: ThreadMirrorStore;
  logger: Logger;
  owner: string;
  options: { supportChannel: string; reminderGroup?: string; unclaimedAfterMs: number; leaseMs: number; retryBaseMs: number; retryMaxMs: number };
  /** Where customers' files (screenshots) are fetched from, to upload them into the thread. */
  customerChannels?: Partial<Record<Conversation['channel'], CustomerChannel>>;
  /** Threads to redact after an erasure (channel `slack`, method `redact_thread`, payload `{ channel, thread, marker }`). */
  redactions?: ChannelOutbox;
}) {
  const { app, helpdesk, mirrors, logger, owner, options } = deps;

  type Posted = { ts?: string; metadata?: { event_type?: string; event_payload?: Record<string, unknown> } };
  async function findPosted(
    pages: (cursor: string | undefined) => Promise<{ messages?: Posted[]; response_metadata?: { next_cursor?: string } }>,
    matches: (m: Posted) => boolean,
  ) {
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
  const findPostedRoot = (channel: string, record: HandoffRecord) =>
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
      (m) =>
        m.metadata?.event_type === TURN_EVENT && m.metadata.event_payload?.conversation_id === conversationId && Number(m.metadata.event_payload?.seq) === seq,
    );

  /** Files worth showing agents (not stickers), with the title that also finds them again in the thread. */
  const filesOf = (turn: Turn) =>
    turn.role === 'customer' && !turn.data.internal ? (turn.data.attachments ?? []).filter((a) => a.fileId && a.type !== 'sticker' && a.type !== 'other') : [];
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
      await mirrors.save(conversation.id, owner, { mirrorInflight: `file:${turn.seq}:${index}` });
      const file = await source.fetchFile(attachment);
      if ('unavailable' in file) {
        await app.client.chat.postMessage({
          channel,
          thread_ts: thread,
          text: `:warning: ${prefix}could not be fetched from ${conversation.channel}: ${file.unavailable}`,
          unfurl_links: false,
        });
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

  /** Brings one leased thread up to date; false when Slack failed (the handoff is due again later). */
  async function mirror({ record, mirror: state, conversation }: Awaited<ReturnType<ThreadMirrorStore['lease']>>[number]): Promise<boolean> {
    let thread = state.deskThread;
    const channel = state.deskChannel ?? options.supportChannel;
    const inflight = state.mirrorInflight;
    try {
      if (!thread && inflight?.startsWith('root:')) {
        const found = await findPostedRoot(channel, record);
        if (found) {
          thread = found;
          logger.info({ conversationId: conversation.id }, 'slack thread root found after an interrupted post; not posted again');
          await mirrors.save(conversation.id, owner, { deskChannel: channel, deskThread: thread, mirrorInflight: null });
        }
      }
      if (!thread || state.rootDirty) {
        const history = await helpdesk.turns(conversation.id, Math.max(0, record.openedSeq - 40), TURN_PAGE);
        const summary = buildHandoffSummary(
          conversation,
          history.filter((t) => t.seq <= record.openedSeq),
        );
        const root = toRootMessage(summary, thread ? record : undefined);
        if (!thread) {
          await mirrors.save(conversation.id, owner, { mirrorInflight: `root:${record.openedSeq}` });
          const posted = await app.client.chat.postMessage({
            channel,
            text: root.text,
            blocks: root.blocks as never,
            unfurl_links: false,
            metadata: { event_type: ROOT_EVENT, event_payload: { conversation_id: conversation.id } },
          });
          thread = posted.ts as string;
          await mirrors.save(conversation.id, owner, {
            deskChannel: (posted.channel as string) ?? channel,
            deskThread: thread,
            rootDirty: false,
            mirrorInflight: null,
          });
        } else {
          await app.client.chat.update({ channel, ts: thread, text: root.text, blocks: root.blocks as never });
          await mirrors.save(conversation.id, owner, { rootDirty: false });
        }
      }
      let after = state.relayedSeq;
      for (;;) {
        const turns = await helpdesk.turns(conversation.id, after, TURN_PAGE);
        if (turns.length === 0) break;
        for (const turn of turns) {
          const text = toThreadMessage(turn, { reminderGroup: options.reminderGroup, unclaimedMinutes: Math.round(options.unclaimedAfterMs / 60_000) });
          const marker = `turn:${turn.seq}`;
          // `file:<seq>:<i>` in flight: the text of this turn and its files before i are in Slack.
          const fileInflight = inflight?.startsWith(`file:${turn.seq}:`) ? Number(inflight.split(':')[2]) : undefined;
          const already =
            fileInflight !== undefined || (text && inflight === marker ? await findPostedTurn(channel, thread, conversation.id, turn.seq) : undefined);
          if (text && !already) {
            await mirrors.save(conversation.id, owner, { mirrorInflight: marker });
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
          await mirrors.save(conversation.id, owner, { relayedSeq: after, mirrorInflight: null });
        }
      }
      await mirrors.release(conversation.id, owner);
      return true;
    } catch (error) {
      const delay = retryDelayMs(error, state.attempts, options);
      logger.warn({ err: (error as Error).message, conversationId: conversation.id, retryInMs: delay }, 'slack post failed; kept in the outbox');
      await mirrors.release(conversation.id, owner, { retryInMs: delay, error: String((error as Error).message ?? error) });
      return false;
    }
  }

  /** Mirrors every thread that is behind and due, a batch at a time; stops at the first batch Slack fails. */
  async function catchUp(): Promise<void> {
    for (;;) {
      const leased = await mirrors.lease(owner, options.leaseMs, BATCH);
      if (leased.length === 0) return;
      let failed = false;
      for (const item of leased) failed = !(await mirror(item)) || failed;
      // Slack is failing: the next sweep (poll or wake) tries again once the retry is due.
      if (failed) return;
    }
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

  return { catchUp, redactErased };
}
