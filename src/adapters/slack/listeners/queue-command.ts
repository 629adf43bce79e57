import { toQueueText } from '../slack-messages.js';
import type { ListenerContext } from './context.js';

/** The slash command (/helpdesk): the open queue with links to the threads, for agents in the support channel. */
export function registerQueueCommand(ctx: ListenerContext): void {
  const { app, desk, agents, mirrors, options } = ctx;
  app.command(options.command, async ({ ack, command }) => {
    // The queue names customers: it is shown only in the support channel.
    if (command.channel_id !== options.supportChannel) {
      void ctx.helpdesk.recordSecurityEvent({ type: 'access_denied', channel: 'slack', detail: { reason: 'slack_command_outside_support_channel' } });
      await ack({ response_type: 'ephemeral', text: `Use ${options.command} in the support channel.` });
      return;
    }
    if (!(await agents.isAgent(command.user_id))) {
      void ctx.helpdesk.recordSecurityEvent({ type: 'access_denied', channel: 'slack', detail: { reason: 'slack_not_agent', route: options.command } });
      await ack({ response_type: 'ephemeral', text: `${options.command} is for members of the support agents' user group.` });
      return;
    }
    const open = await desk.listOpen();
    const threads = options.workspaceUrl
      ? await mirrors.threadsOf(open.map((h) => h.conversation.id))
      : new Map<string, { deskChannel: string; deskThread: string }>();
    const link = (conversationId: string) => {
      const t = threads.get(conversationId);
      return options.workspaceUrl && t ? `${options.workspaceUrl.replace(/\/$/, '')}/archives/${t.deskChannel}/p${t.deskThread.replace('.', '')}` : undefined;
    };
    await ack({ response_type: 'ephemeral', text: toQueueText(open, ctx.now(), (record) => link(record.conversationId)) });
  });
}
