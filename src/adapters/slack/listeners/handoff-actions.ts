import type { HandoffDesk } from '../../../core/index.js';
import { ACTION_CLAIM, ACTION_HAND_BACK, ACTION_RESOLVE } from '../slack-messages.js';
import type { ListenerContext } from './context.js';

/** The thread root's buttons: Claim, Resolve, Hand back to the bot; from the support channel only, by agents only. */
export function registerHandoffActions(ctx: ListenerContext): void {
  const { app, desk, agents, inOrder, options } = ctx;
  const button = (name: string, run: HandoffDesk['claim']) =>
    app.action(name, async ({ ack, body, action }) => {
      await ack();
      const a = action as { value?: string; action_ts?: string };
      const b = body as { user: { id: string }; channel?: { id: string }; message?: { ts: string; thread_ts?: string } };
      if (!a.value) return;
      if (b.channel?.id !== options.supportChannel) {
        void ctx.helpdesk.recordSecurityEvent({
          type: 'access_denied',
          channel: 'slack',
          detail: { reason: 'slack_action_outside_support_channel', route: name },
        });
        return;
      }
      if (await agents.refuseNonAgent(b.user.id, b.channel.id, b.message?.ts, name)) return;
      const conversationId = a.value;
      const result = await inOrder.run(conversationId, async () =>
        run(conversationId, {
          agent: await agents.agentOf(b.user.id),
          externalKey: `slack:action:${name}:${a.action_ts ?? b.message?.ts}:${b.user.id}`,
          desk: { tool: 'slack', ...(b.message?.ts ? { ts: b.message.ts } : {}) },
        }),
      );
      if (result.status === 'claimed_by_other') await agents.warn(b.channel.id, b.user.id, b.message?.ts, `Already claimed by ${result.by}.`);
      if (result.status === 'not_open') await agents.warn(b.channel.id, b.user.id, b.message?.ts, 'This conversation is no longer with humans.');
      ctx.wake();
    });
  button(ACTION_CLAIM, desk.claim);
  button(ACTION_RESOLVE, desk.resolve);
  button(ACTION_HAND_BACK, desk.handBack);
}
