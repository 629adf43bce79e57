import { readFileSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import { z } from 'zod';
import { type Helpdesk, HelpdeskError, isVisibleToCustomer, type Turn } from '../../core/index.js';

import { RateLimitedError } from '../../core/index.js';
import { transcriptPageScript } from './transcript-page/bundle-page.js';
import { type ClientLimitSettings, clientOf, identifyClient } from './client-limits.js';
import { type RequestTiming, timeRequests } from './request-timing.js';
import { closeAfterUnreadBody, inlineStyleHashes, limitBodies, securityHeaders } from './http-guards.js';

const MAX_PAGE = 200;
/** The longest input the official-channel check takes (the widget's form stops there too). */
export const VERIFY_INPUT_MAX_CHARS = 500;

/** What the widget and API clients see of a turn. */
export function toTurnView(turn: Turn) {
  return {
    seq: turn.seq,
    role: turn.role,
    kind: turn.kind,
    text: turn.text,
    language: turn.language,
    createdAt: turn.createdAt.toISOString(),
    ...(turn.data.author ? { author: turn.data.author } : {}),
    citations: turn.data.citations ?? [],
    actions: turn.data.actions ?? [],
    ...(turn.escalation ? { escalation: { reason: turn.escalation.reason, priority: turn.escalation.priority } } : {}),
  };
}

const language = z.enum(['zh', 'en'], { error: 'language must be "zh" or "en"' });
const createBody = z.object({ language: language.optional() }).strict();
const messageBody = z
  .object({
    text: z.string({ error: 'text must be a string' }).optional(),
    action: z.enum(['solved', 'human'], { error: 'action must be "solved" or "human"' }).optional(),
    language: language.optional(),
  })
  .strict()
  .refine((b) => b.text !== undefined || b.action !== undefined || b.language !== undefined, {
    message: 'send "text", "action" or "language"',
  })
  .refine((b) => b.text === undefined || b.text.trim().length > 0, { message: 'text must not be empty' });
const verifyBody = z
  .object({
    input: z.string({ error: 'input must be a string' }).trim().min(1, 'input must not be empty').max(VERIFY_INPUT_MAX_CHARS, 'input is too long'),
    language: language.optional(),
  })
  .strict();
const stateQuery = z.enum(['bot', 'escalated', 'closed'], { error: 'state must be bot, escalated or closed' });
const limitQuery = z.coerce.number({ error: 'limit must be a number' }).int().min(1).max(1000);
const eventTypeQuery = z
  .enum(['secret_removed', 'access_denied', 'rate_limited', 'message_truncated', 'outbound_blocked', 'knowledge_contact_rejected'])
  .optional();
const CONVERSATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A client's key for one message (a UUID, say): printable ASCII without spaces. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const afterQuery = z.coerce.number({ error: 'after must be a number' }).int().min(0).max(2_147_483_647);

class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 413 | 415,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/json')) {
    throw new HttpError(415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.');
  }
  const raw = await c.req.text();
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'invalid_json', 'The body is not valid JSON.');
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const message = result.error.issues
      .map((i) => (i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message))
      .join('; ');
    throw new HttpError(400, 'invalid_request', message);
  }
  return result.data;
}

function bearer(c: Context): string | undefined {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

const STATUS_OF: Partial<Record<HelpdeskError['code'], 400 | 403 | 404>> = {
  conversation_not_found: 404,
  forbidden: 403,
  invalid_input: 400,
};

/** The web channel: the JSON API the widget talks to (the widget itself: widget-routes.ts). Transport only. */
export function createWebApp(deps: {
  helpdesk: Helpdesk;
  bodyLimitBytes: number;
  health: () => Promise<Record<string, unknown>>;
  /** Whether this instance can serve (GET /readyz): each part `ok` or what is wrong with it. */
  readiness?: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  onError: (error: unknown) => void;
  /** CSP frame-ancestors of the HTML pages: who may show them in a frame (default 'none'). */
  frameAncestors?: string;
  /** How to tell clients apart and, when given, the limits per client (see client-limits.ts). */
  clients?: { trustProxy: ClientLimitSettings['trustProxy']; limits?: Omit<ClientLimitSettings, 'trustProxy'>; warn: (message: string) => void };
  /** Told of every request (method, route pattern, status, duration), e.g. for metrics. */
  observeRequest?: (timing: RequestTiming) => void;
}) {
  const { helpdesk } = deps;
  const transcriptPage = readFileSync(new URL('./transcript-page/index.html', import.meta.url), 'utf8');
  const app = new Hono();

  if (deps.observeRequest) app.use('*', timeRequests(deps.observeRequest));
  app.use('*', securityHeaders({ frameAncestors: deps.frameAncestors ?? "'none'", styleHashes: inlineStyleHashes(transcriptPage) }));
  app.use('*', closeAfterUnreadBody());
  app.use('/api/*', cors({ origin: '*', allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'], allowMethods: ['GET', 'POST'] }));
  app.use('*', identifyClient({ trustProxy: deps.clients?.trustProxy, limits: deps.clients?.limits, record: helpdesk.recordSecurityEvent, warn: deps.clients?.warn ?? (() => undefined) }));
  // Every route, the webhooks mounted later included: no body is read beyond its limit.
  app.use(
    '*',
    limitBodies(deps.bodyLimitBytes, (_c, limit) => {
      throw new HttpError(413, 'payload_too_large', `The body is larger than ${limit} bytes.`);
    }),
  );

  // Liveness: the process serves HTTP (restart it if not). Readiness: it can do its work now (send
  // it traffic only then); a database outage makes it unready, never unhealthy.
  app.get('/healthz', async (c) => c.json({ status: 'ok', ...(await deps.health()) }));
  app.get('/readyz', async (c) => {
    const readiness = deps.readiness ? await deps.readiness() : { ready: true, checks: {} };
    return c.json({ status: readiness.ready ? 'ready' : 'not_ready', checks: readiness.checks }, readiness.ready ? 200 : 503, {
      'cache-control': 'no-store',
    });
  });

  app.post('/api/conversations', async (c) => {
    const body = parse(createBody, await readJson(c));
    const started = await helpdesk.startConversation({ channel: 'web', language: body.language, withToken: true });
    return c.json(
      {
        id: started.conversation.id,
        token: started.token,
        language: started.conversation.language,
        state: started.conversation.state,
        turns: started.turns.map(toTurnView),
      },
      201,
    );
  });

  // Ids are UUIDs: anything else is a bad request, answered before touching the database.
  app.use('/api/conversations/:id/*', async (c, next) => {
    if (!CONVERSATION_ID.test(c.req.param('id') ?? '')) {
      throw new HttpError(400, 'invalid_request', 'The conversation id is not valid (expected a UUID).');
    }
    await next();
  });

  // Anti-impersonation: "is this handle / link / e-mail / phone number official?" (the widget's form).
  app.post('/api/verify-channel', async (c) => {
    const body = parse(verifyBody, await readJson(c));
    const result = helpdesk.checkOfficialChannel(body.input, body.language ?? 'en');
    if (!result) throw new HttpError(404, 'not_configured', 'No official channels are configured.');
    const { check } = result;
    return c.json({
      official: check.official,
      kind: check.kind,
      normalized: check.normalized,
      ...(check.matched ? { matched: check.matched } : {}),
      ...(check.imitates ? { imitates: check.imitates } : {}),
      message: result.reply,
    });
  });

  app.get('/api/official-channels', (c) => {
    const lang = c.req.query('language') === 'zh' ? 'zh' : 'en';
    const allowlist = helpdesk.officialAllowlist();
    return c.json({
      channels: allowlist?.display ?? { urls: [], telegramHandles: [], emails: [], phones: [] },
      message: helpdesk.officialChannelsLine(lang),
    });
  });

  // Admin: only with ADMIN_TOKEN; every denial is recorded by core.
  app.get('/api/admin/conversations', async (c) => {
    await helpdesk.authorizeAdmin(bearer(c), 'GET /api/admin/conversations', clientOf(c));
    const state = parse(stateQuery, c.req.query('state') ?? 'escalated');
    const list = await helpdesk.listConversations(state);
    return c.json({
      conversations: list.map((v) => ({
        id: v.id,
        channel: v.channel,
        language: v.language,
        state: v.state,
        priority: v.priority,
        escalationReason: v.escalationReason,
        lastSeq: v.lastSeq,
        createdAt: v.createdAt.toISOString(),
        updatedAt: v.updatedAt.toISOString(),
      })),
    });
  });

  app.get('/api/admin/security-events', async (c) => {
    await helpdesk.authorizeAdmin(bearer(c), 'GET /api/admin/security-events', clientOf(c));
    const type = parse(eventTypeQuery, c.req.query('type'));
    const limit = parse(limitQuery, c.req.query('limit') ?? '100');
    const events = await helpdesk.securityEvents.list({ ...(type ? { type } : {}), limit });
    return c.json({ events: events.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })) });
  });

  app.post('/api/conversations/:id/messages', async (c) => {
    const id = c.req.param('id');
    await helpdesk.authorize(id, bearer(c), clientOf(c));
    const body = parse(messageBody, await readJson(c));
    // A request sent again with the same key (the answer was lost, the client retried) is stored
    // once; the repeat is answered with the turns stored the first time.
    const key = c.req.header('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new HttpError(400, 'invalid_request', 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.');
    }
    const result = await helpdesk.handleCustomerInput({
      conversationId: id,
      // The widget's only free text field, through the firewall before anything else sees it.
      ...(body.text !== undefined ? { message: helpdesk.screen({ text: body.text }) } : {}),
      ...(body.action !== undefined ? { action: body.action } : {}),
      ...(body.language !== undefined ? { language: body.language } : {}),
      ...(key !== undefined ? { externalKey: `web:${id}:${key}` } : {}),
    });
    const replayed = result.outcome === 'duplicate' ? { 'idempotent-replayed': 'true' } : undefined;
    // A repeat's turns are read back: agents' internal notes written since stay out of them.
    const turns = result.turns.filter(isVisibleToCustomer).map(toTurnView);
    return c.json({ outcome: result.outcome, state: result.conversation.state, turns }, 201, replayed);
  });

  app.get('/api/conversations/:id/messages', async (c) => {
    const id = c.req.param('id');
    const conversation = await helpdesk.authorize(id, bearer(c), clientOf(c));
    const after = parse(afterQuery, c.req.query('after') ?? '0');
    const turns = await helpdesk.turns(id, after, MAX_PAGE);
    // Agents' internal notes are part of the record, not of the customer's view.
    return c.json({ state: conversation.state, language: conversation.language, turns: turns.filter(isVisibleToCustomer).map(toTurnView) });
  });

  // The verifiable turn log: what anyone needs to check a transcript, and the customer's own.
  app.get('/log/public-key', (c) => {
    if (!helpdesk.turnLog) return c.json({ error: { code: 'not_available', message: 'No turn log here.' } }, 501);
    return c.text(`${helpdesk.turnLog.publicKey}\n`);
  });
  app.get('/log/checkpoint', async (c) => {
    const note = await helpdesk.turnLog?.latestCheckpoint();
    if (!note) return c.json({ error: { code: 'not_found', message: 'No checkpoint has been issued yet.' } }, 404);
    return c.text(note, 200, { 'cache-control': 'no-store' });
  });
  app.get('/verify-transcript', (c) => c.html(transcriptPage));
  app.get('/verify-transcript.js', async (c) => c.body(await transcriptPageScript(), 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  app.get('/api/conversations/:id/transcript', async (c) => {
    const id = c.req.param('id');
    const conversation = await helpdesk.authorize(id, bearer(c), clientOf(c));
    if (!helpdesk.turnLog) return c.json({ error: { code: 'not_available', message: 'Transcripts are not available here.' } }, 501);
    const lang = c.req.query('lang');
    const { bundle, readable } = await helpdesk.transcript(id, lang === 'zh' || lang === 'en' ? lang : conversation.language);
    const name = `transcript-${id}`;
    if (c.req.query('format') === 'text') {
      return c.body(readable, 200, { 'content-type': 'text/plain; charset=utf-8', 'content-disposition': `attachment; filename="${name}.txt"` });
    }
    // The bundle alone: every field of it is covered by verification; what it says is read through the verifier.
    return c.body(`${JSON.stringify(bundle, null, 2)}\n`, 200, {
      'content-type': 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="${name}.json"`,
    });
  });

  app.notFound((c) =>
 c.json({ error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}.` } }, 404));

  app.onError((error, c) => {
    if (error instanceof RateLimitedError) {
      return c.json({ error: { code: 'rate_limited', message: error.userMessage } }, 429, {
        'retry-after': String(error.retryAfterSeconds),
      });
    }
    if (error instanceof HttpError) {
      return c.json({ error: { code: error.code, message: error.message } }, error.status);
    }
    if (error instanceof HelpdeskError) {
      const status = STATUS_OF[error.code];
      if (status) return c.json({ error: { code: error.code, message: error.userMessage } }, status);
    }
    deps.onError(error);
    return c.json({ error: { code: 'internal_error', message: 'Something went wrong on our side. Please try again.' } }, 500);
  });

  return app;
}
