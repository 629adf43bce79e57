import type { Context, Hono, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { AdminAccess, AgentInbox, InboxAction, InboxFeed, InboxItem, Permission, Principal, SavedReplies, SavedReply, Turn } from '../../../core/index.js';
import { toBlockedMessage } from '../admin-handoff-routes.js';
import { apiError, parseOr400 } from '../api-errors.js';
import { toTurnView } from '../web-app.js';
import { imageTypeOf } from '../image-type.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A live stream says it is alive this often (proxies drop silent connections) and checks the session. */
const PING_MS = 20_000;
/** After a dropped stream, the browser reconnects after this long. */
const RECONNECT_MS = 2_000;

const actionBody = z
  .object({
    /** One per action where the agent made it (a click, a send): the same key again changes nothing. */
    key: z
      .string()
      .trim()
      .min(8)
      .max(100)
      .regex(/^[A-Za-z0-9._:-]+$/, 'key: letters, digits, ".", "_", ":" or "-"'),
    text: z.string().max(8000).optional(),
  })
  .strict();
const replyBody = z.object({ title: z.string().max(200), language: z.enum(['zh', 'en']), body: z.string().max(10_000) }).strict();
const replyUpdate = replyBody.extend({ version: z.number().int().min(1) }).strict();
const searchQuery = z.object({ q: z.string().max(200).optional() });
const afterQuery = z.coerce.number().int().min(0).max(2_147_483_647);

type Env = { Variables: { principal: Principal } };

/** A turn as the inbox shows it: what customers see plus what only agents see (notes, files, what the bot tried). */
export function toInboxTurnView(turn: Turn) {
  return {
    ...toTurnView(turn),
    internal: Boolean(turn.data.internal),
    ...(turn.data.desk?.tool ? { via: turn.data.desk.tool } : {}),
    ...(turn.data.attachments?.length
      ? {
          files: turn.data.attachments.map((a) => ({ type: a.type, fileName: a.fileName ?? null, mimeType: a.mimeType ?? null, fileSize: a.fileSize ?? null })),
        }
      : {}),
    ...(turn.data.retrieval
      ? {
          retrieval: {
            confidence: turn.data.retrieval.confidence,
            candidates: turn.data.retrieval.candidates.slice(0, 3).map((c) => ({ entryId: c.entryId, score: c.score })),
          },
        }
      : {}),
    ...(turn.data.erasedBy !== undefined ? { erased: true } : {}),
  };
}

const toItemJson = (item: InboxItem) => ({
  ...item,
  waitingSince: item.waitingSince.toISOString(),
  preview: item.preview ? { ...item.preview, at: item.preview.at.toISOString() } : null,
});

const toReplyJson = (r: SavedReply) => ({ ...r, updatedAt: r.updatedAt.toISOString() });

function conversationIdOf(c: Context): string {
  const id = c.req.param('id') ?? '';
  if (!UUID.test(id)) throw apiError(404, 'conversation_not_found', 'Conversation not found.');
  return id;
}

async function jsonOf<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw apiError(415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.');
  const body = await c.req.json().catch(() => {
    throw apiError(400, 'invalid_json', 'The body is not valid JSON.');
  });
  return parseOr400(schema, body);
}

/**
 * The agents' inbox under /api/admin/inbox, on the admin app (its sign-in, CSRF and permission
 * checks): the queue and search, a conversation, the desk's actions, saved replies, and a stream of
 * server-sent events saying which conversations changed. Transport only: the rules are core's.
 */
export function registerInboxRoutes(
  app: Hono<Env>,
  deps: {
    inbox: AgentInbox;
    feed: InboxFeed;
    savedReplies: SavedReplies;
    access: AdminAccess;
    signedIn: MiddlewareHandler<Env>;
    requires: (permission: Permission) => MiddlewareHandler<Env>;
    sessionCookie: string;
  },
): void {
  const { inbox, feed, savedReplies, requires } = deps;
  app.use('/api/admin/inbox/*', deps.signedIn);
  const agentOf = (c: Context<Env>) => {
    const principal = c.get('principal');
    return { id: `console:${principal.name}`, name: principal.name };
  };

  app.get('/api/admin/inbox/queue', requires('inbox.work'), async (c) => {
    const query = parseOr400(searchQuery, c.req.query());
    const items = await inbox.queue({ search: query.q });
    return c.json({ items: items.map(toItemJson), search: query.q?.trim() || null });
  });

  app.get('/api/admin/inbox/conversations/:id', requires('inbox.work'), async (c) => {
    const view = await inbox.conversation(conversationIdOf(c));
    if (!view) throw apiError(404, 'conversation_not_found', 'This conversation never reached the agents.');
    return c.json({
      item: toItemJson(view.item),
      summary: view.summary,
      turns: view.turns.map(toInboxTurnView),
      tried: view.tried,
      files: view.files.map((f) => ({ ...f, at: f.at.toISOString() })),
    });
  });

  app.get('/api/admin/inbox/conversations/:id/turns', requires('inbox.work'), async (c) => {
    const after = parseOr400(afterQuery, c.req.query('after') ?? '0');
    const turns = await inbox.turns(conversationIdOf(c), after);
    return c.json({ turns: turns.map(toInboxTurnView) });
  });

  const actions: InboxAction[] = ['claim', 'reply', 'note', 'resolve', 'hand-back'];
  for (const action of actions) {
    app.post(`/api/admin/inbox/conversations/:id/${action}`, requires('inbox.work'), async (c) => {
      const id = conversationIdOf(c);
      const body = await jsonOf(c, actionBody);
      const result = await inbox.act(action, id, { agent: agentOf(c), key: body.key, text: body.text });
      feed.wake();
      switch (result.status) {
        case 'done':
          return c.json({ status: 'done', turns: result.turns.map(toInboxTurnView) });
        case 'duplicate':
          return c.json({ status: 'duplicate', turns: [] });
        case 'blocked':
          return c.json(
            {
              status: 'blocked',
              error: { code: 'reply_blocked', reasons: result.reasons, contacts: result.contacts, message: toBlockedMessage(result.reasons) },
            },
            422,
          );
        case 'not_open':
          return c.json({ status: 'not_open', error: { code: 'not_open', message: 'This conversation is no longer with the agents.' } }, 409);
        case 'claimed_by_other':
          return c.json({ status: 'claimed_by_other', error: { code: 'claimed_by_other', message: `Already claimed by ${result.by}.`, by: result.by } }, 409);
      }
    });
  }

  app.get('/api/admin/inbox/conversations/:id/files/:seq/:index', requires('inbox.work'), async (c) => {
    const seq = Number(c.req.param('seq'));
    const index = Number(c.req.param('index'));
    if (!Number.isSafeInteger(seq) || seq < 1 || !Number.isSafeInteger(index) || index < 0 || index > 100) {
      throw apiError(404, 'file_not_found', 'There is no such file.');
    }
    const file = await inbox.file(conversationIdOf(c), seq, index);
    if (!file) throw apiError(404, 'file_not_found', 'There is no such file.');
    if ('unavailable' in file) throw apiError(404, 'file_unavailable', `The file cannot be fetched: ${file.unavailable}`);
    const image = imageTypeOf(file.data);
    const name = file.fileName.replace(/[^\w.\- ]+/g, '_').slice(0, 120) || 'file';
    // Customer bytes: an image the bytes prove is one is shown inline, anything else is a download;
    // never rendered as a page (sandboxed, no sniffing).
    return c.body(Buffer.from(file.data), 200, {
      'content-type': image ?? 'application/octet-stream',
      'content-disposition': `${image ? 'inline' : 'attachment'}; filename="${name}"`,
      'content-security-policy': "default-src 'none'; sandbox",
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, no-store',
    });
  });

  app.get('/api/admin/inbox/events', requires('inbox.work'), (c) => {
    const principal = c.get('principal');
    const token = getCookie(c, deps.sessionCookie);
    const watch = c.req.query('watch');
    return streamSSE(c, async (stream) => {
      const subscription = feed.subscribe((ids) => {
        void stream.writeSSE({ event: 'change', data: JSON.stringify({ ids }) }).catch(() => undefined);
      });
      stream.onAbort(() => subscription.close());
      if (watch && UUID.test(watch)) subscription.watch([watch]);
      await stream.writeSSE({ event: 'ready', data: '{}', retry: RECONNECT_MS });
      while (!stream.aborted && !stream.closed) {
        await stream.sleep(PING_MS);
        if (stream.aborted || stream.closed) break;
        if (principal.via === 'session' && !(await deps.access.sessionAlive(token))) {
          await stream.writeSSE({ event: 'expired', data: '{}' });
          break;
        }
        await stream.write(': ping\n\n');
      }
      subscription.close();
    });
  });

  app.get('/api/admin/inbox/replies', requires('inbox.work'), async (c) => {
    return c.json({ replies: (await savedReplies.list()).map(toReplyJson) });
  });

  app.post('/api/admin/inbox/replies', requires('inbox.replies'), async (c) => {
    const body = await jsonOf(c, replyBody);
    return c.json(toReplyJson(await savedReplies.create(body, c.get('principal').name)), 201);
  });

  const replyIdOf = (c: Context) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id) || id < 1) throw apiError(404, 'reply_not_found', 'There is no such saved reply.');
    return id;
  };

  app.put('/api/admin/inbox/replies/:id', requires('inbox.replies'), async (c) => {
    const id = replyIdOf(c);
    const { version, ...input } = await jsonOf(c, replyUpdate);
    return c.json(toReplyJson(await savedReplies.update(id, version, input, c.get('principal').name)));
  });

  app.delete('/api/admin/inbox/replies/:id', requires('inbox.replies'), async (c) => {
    await savedReplies.remove(replyIdOf(c));
    return c.body(null, 204);
  });
}
