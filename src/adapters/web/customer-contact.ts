import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { type Conversation, type Helpdesk, isVisibleToCustomer, type Language, type WaitEstimate } from '../../core/index.js';
import { apiError, bearerToken, jsonBody } from './api-errors.js';
import { clientOf } from './client-limits.js';
import { toTurnView } from './web-app.js';

/** RFC 5321's limit on a whole address. */
const MAX_EMAIL_CHARS = 254;
const contactBody = z.object({ email: z.string({ error: 'email must be a string' }).trim().min(3).max(MAX_EMAIL_CHARS, 'email is too long') }).strict();
/** A practical address: one @, no spaces or angle brackets, a domain with a dot and a 2+ letter end. */
const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** Whether someone is on duty now; when not, when the team is back. */
export interface DeskHours {
  open: boolean;
  nextOpening?: Date;
}

/** The desk's hours as the widget reads them, from the wait estimate of an empty queue. */
export function toDeskHours(wait: WaitEstimate): DeskHours {
  return wait.open ? { open: true } : { open: false, nextOpening: wait.nextOpening };
}

const noted = (language: Language, email: string) =>
  language === 'zh'
    ? `已记下您的邮箱 ${email}。客服上班后会处理您的问题，回复会显示在这里，也会发到这个邮箱。`
    : `Noted: ${email}. When our team is back, an agent will pick up your question; the answer will show here and be sent to that address.`;

/**
 * When no agent is on duty: GET /api/desk tells the widget whether the team works now (and when it
 * is back), and POST /api/conversations/:id/contact {email} leaves an address for the answer. The
 * address is validated, goes through the firewall, and is recorded as a customer turn (`contact:
 * 'email'`): sealed under the conversation's key like every customer word, erased with it, and
 * shown to agents in the Slack thread and the conversation's turns. The product sends no e-mail
 * itself; agents answer there (see docs).
 */
export function createCustomerContactRoutes(deps: { helpdesk: Helpdesk; deskHours: () => DeskHours }) {
  const { helpdesk } = deps;
  const app = new Hono();

  app.get('/api/desk', (c) => {
    const hours = deps.deskHours();
    return c.json({ open: hours.open, ...(hours.nextOpening ? { nextOpening: hours.nextOpening.toISOString() } : {}) }, 200, { 'cache-control': 'no-store' });
  });

  // The customer's token is checked before anything of the body is read.
  const customer = createMiddleware<{ Variables: { conversation: Conversation } }>(async (c, next) => {
    c.set('conversation', await helpdesk.authorize(c.req.param('id') ?? '', bearerToken(c), clientOf(c)));
    await next();
  });

  app.post('/api/conversations/:id/contact', customer, ...jsonBody(contactBody), async (c) => {
    const id = c.req.param('id');
    const conversation = c.get('conversation');
    const { email } = c.req.valid('json');
    if (!EMAIL.test(email)) throw apiError(400, 'invalid_email', 'That does not look like an e-mail address.');
    // The address is the customer's text: screened like any; one the firewall had to change is no address.
    const message = helpdesk.screen({ text: email });
    if (message.text !== email || message.screening.secretCount > 0) throw apiError(400, 'invalid_email', 'That does not look like an e-mail address.');
    const result = await helpdesk.recordCustomerTurn({
      conversationId: id,
      kind: 'message',
      message,
      contact: 'email',
      reply: noted(conversation.language, message.text),
    });
    return c.json({ outcome: result.outcome, state: result.conversation.state, turns: result.turns.filter(isVisibleToCustomer).map(toTurnView) }, 201);
  });

  return app;
}
