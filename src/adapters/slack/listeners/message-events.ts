import { backoffMs, sleep } from '../../../core/index.js';
import { toBlockedNotice } from '../slack-messages.js';
import type { ListenerContext } from './context.js';

const NOTE = /^\s*note:\s*/i;

/**
 * Agents' messages in the support channel's threads: a reply goes to the customer, "note: …" stays
 * internal, an edit is recorded as an edit (and re-sent when it was a reply), a deletion is noted
 * (the record keeps what was said). Messages of non-agents are refused and recorded.
 */
export function registerMessageEvents(ctx: ListenerContext): void {
  const { app, desk, agents, mirrors, inOrder, options } = ctx;

  /**
   * The conversation of a thread. A root is visible in Slack a moment before its ts is saved (this
   * or another instance is between chat.postMessage and saving it): a reply that quick would be
   * lost, so an unknown thread is looked up again a few times before the message is taken as unrelated.
   */
  async function findThread(channel: string, threadTs: string) {
    for (let attempt = 0; ; attempt++) {
      const found = await mirrors.findByThread(channel, threadTs);
      if (found || attempt >= 5) return found;
      await sleep(backoffMs(attempt, { baseMs: 50, maxMs: 50 * 2 ** 10 }));
    }
  }

  app.event('message', async ({ event }) => {
    const e = event as unknown as Record<string, any>;
    if (e.channel !== options.supportChannel) return;
    if (e.subtype === 'message_changed') return edited(e);
    if (e.subtype === 'message_deleted') return deleted(e);
    if (e.subtype && e.subtype !== 'file_share' && e.subtype !== 'thread_broadcast') return;
    if (e.bot_id || !e.user || !e.thread_ts || e.thread_ts === e.ts) return;
    const thread = await findThread(e.channel, e.thread_ts);
    if (!thread) return;
    if (await agents.refuseNonAgent(e.user, e.channel, e.thread_ts, 'message')) return;
    await inOrder.run(thread.conversationId, () => relay(e, thread.conversationId));
    ctx.wake();
  });

  /** An agent's message in a thread: a note ("note: …") or a reply to the customer. */
  async function relay(e: Record<string, any>, conversationId: string): Promise<void> {
    const agent = await agents.agentOf(e.user);
    const text = String(e.text ?? '');
    const origin = { agent, externalKey: `slack:msg:${e.channel}:${e.ts}`, desk: { tool: 'slack', ts: e.ts as string } };
    const note = NOTE.exec(text);
    if (note) {
      await desk.note(conversationId, { ...origin, text: text.slice(note[0].length) });
      return;
    }
    const result = await desk.reply(conversationId, { ...origin, text });
    if (result.status === 'blocked') await agents.warn(e.channel, e.user, e.thread_ts, toBlockedNotice(result));
  }

  async function edited(e: Record<string, any>): Promise<void> {
    const message = e.message ?? {};
    if (message.bot_id || !message.user || !message.thread_ts || message.thread_ts === message.ts) return;
    const thread = await mirrors.findByThread(e.channel, message.thread_ts);
    if (!thread) return;
    if (message.text === e.previous_message?.text) return; // unfurls and other non-edits
    if (await agents.refuseNonAgent(message.user, e.channel, message.thread_ts, 'message_changed')) return;
    const internal = NOTE.test(message.text ?? '') || NOTE.test(e.previous_message?.text ?? '');
    const result = await desk.edit(thread.conversationId, {
      agent: await agents.agentOf(message.user),
      text: message.text ?? '',
      internal,
      externalKey: `slack:edit:${e.channel}:${message.ts}:${message.edited?.ts ?? e.ts}`,
      desk: { tool: 'slack', ts: e.ts, editOf: message.ts },
    });
    if (result.status === 'blocked') await agents.warn(e.channel, message.user, message.thread_ts, toBlockedNotice(result));
  }

  async function deleted(e: Record<string, any>): Promise<void> {
    const previous = e.previous_message ?? {};
    if (!previous.thread_ts || previous.bot_id) return;
    // A non-agent's message was never relayed: its deletion is nothing to note.
    if (!previous.user || !(await agents.isAgent(previous.user))) return;
    const thread = await mirrors.findByThread(e.channel, previous.thread_ts);
    if (!thread) return;
    // Deleting in Slack removes nothing from the record; the deletion itself is noted.
    await desk.note(thread.conversationId, {
      agent: { id: previous.user ?? 'slack', name: previous.user ?? 'Slack' },
      text: `[message deleted in Slack; the record keeps it] ${previous.text ?? ''}`,
      externalKey: `slack:delete:${e.channel}:${e.deleted_ts ?? previous.ts}`,
      desk: { tool: 'slack', ts: e.ts, editOf: previous.ts },
    });
  }
}
