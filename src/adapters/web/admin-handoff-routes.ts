import { Hono } from 'hono';
import { z } from 'zod';
import type { HandoffDesk, Helpdesk, OutboundBlockReason } from '../../core/index.js';
import { apiError, bearerToken, parseOr400 } from './api-errors.js';
import { clientOf } from './client-limits.js';
import { toTurnView } from './web-app.js';

const BLOCKED: Record<OutboundBlockReason, string> = {
  asks_for_secret: 'it asks the customer for a secret (password, 2FA code, recovery phrase or private key).',
  asks_for_payment: 'it asks the customer to pay to unlock, unfreeze or verify an account.',
  unlisted_contact: 'it names a contact that is not an official channel or a knowledge-base link.',
};
/** Why the outbound guard kept an agent's reply from the customer, in words (it is kept as an internal note). */
export function toBlockedMessage(reasons: OutboundBlockReason[]): string {
  return `Not sent to the customer: ${reasons.map((r) => BLOCKED[r]).join(' ')} It is kept as an internal note.`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const afterQuery = z.coerce.number({ error: 'after must be a number' }).int().min(0).max(2_147_483_647);
const actionBody = z.object({
  agent: z.string().trim().min(1).max(80),
  text: z.string().trim().min(1).max(8000).optional(),
  key: z.string().max(200).optional(),
});

/**
 * Agents without Slack: list open handoffs and act on them with the admin token. Every action is a
 * turn naming the agent ("admin:<agent>"), exactly as from Slack. `key` makes a retried POST a no-op.
 * Mounted on the web app, whose error handler answers what these routes throw.
 */
export function createAdminHandoffRoutes(deps: { helpdesk: Helpdesk; desk: HandoffDesk }) {
  const { helpdesk, desk } = deps;
  const app = new Hono();
  // Ids are UUIDs: anything else is a bad request, answered before touching the database.
  app.use('/api/admin/handoffs/:id/*', async (c, next) => {
    if (!UUID.test(c.req.param('id') ?? '')) {
      throw apiError(400, 'invalid_request', 'The conversation id is not valid (expected a UUID).');
    }
    return next();
  });

  app.get('/api/admin/handoffs', async (c) => {
    await helpdesk.authorizeAdmin(bearerToken(c), 'GET /api/admin/handoffs', clientOf(c));
    const open = await desk.listOpen();
    return c.json({
      handoffs: open.map(({ record, conversation }) => ({
        conversationId: conversation.id,
        channel: conversation.channel,
        customerHandle: conversation.customerHandle,
        language: conversation.language,
        priority: conversation.priority,
        reason: conversation.escalationReason,
        waitingSince: record.escalatedAt.toISOString(),
        claimedBy: record.claimedName,
      })),
    });
  });

  app.get('/api/admin/handoffs/:id/turns', async (c) => {
    await helpdesk.authorizeAdmin(bearerToken(c), 'GET /api/admin/handoffs/:id/turns', clientOf(c));
    const after = parseOr400(afterQuery, c.req.query('after') ?? '0');
    const turns = await helpdesk.turns(c.req.param('id'), after, 200);
    return c.json({ turns: turns.map((t) => ({ ...toTurnView(t), internal: Boolean(t.data.internal) })) });
  });

  const actions = ['reply', 'note', 'claim', 'resolve', 'hand-back'] as const;
  for (const action of actions) {
    app.post(`/api/admin/handoffs/:id/${action}`, async (c) => {
      await helpdesk.authorizeAdmin(bearerToken(c), `POST /api/admin/handoffs/:id/${action}`, clientOf(c));
      const body = parseOr400(actionBody, await c.req.json().catch(() => ({})));
      const id = c.req.param('id');
      const origin = {
        agent: { id: `admin:${body.agent}`, name: body.agent },
        externalKey: `admin:${action}:${id}:${body.key ?? crypto.randomUUID()}`,
        desk: { tool: 'admin' },
      };
      if ((action === 'reply' || action === 'note') && !body.text) {
        throw apiError(400, 'invalid_request', 'text is required');
      }
      const result =
        action === 'reply'
          ? await desk.reply(id, { ...origin, text: body.text as string })
          : action === 'note'
            ? await desk.note(id, { ...origin, text: body.text as string })
            : action === 'claim'
              ? await desk.claim(id, origin)
              : action === 'resolve'
                ? await desk.resolve(id, origin)
                : await desk.handBack(id, origin);
      if (result.status === 'blocked') {
        // The outbound guard kept it from the customer (kept as an internal note): say why.
        return c.json(
          {
            status: 'blocked',
            error: {
              code: 'reply_blocked',
              reasons: result.reasons,
              ...(result.contacts.length > 0 ? { contacts: result.contacts } : {}),
              message: toBlockedMessage(result.reasons),
            },
          },
          422,
        );
      }
      const status = result.status === 'done' || result.status === 'duplicate' ? 200 : 409;
      return c.json({ status: result.status, ...('turns' in result ? { turns: result.turns.map(toTurnView) } : {}) }, status);
    });
  }
  return app;
}
