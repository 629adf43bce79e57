import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { cors } from 'hono/cors';
import { z } from 'zod';
import { type Conversation, type Helpdesk, isVisibleToCustomer, type Turn } from '../../core/index.js';
import { apiError, apiErrorHandler, bearerToken, jsonBody, parseOr400 } from './api-errors.js';
import { transcriptPageScript } from './transcript-page/bundle-page.js';
import { type ClientLimitSettings, clientOf, identifyClient } from './client-limits.js';
import { type RequestTiming, timeRequests } from './request-timing.js';
import { MAX_UPLOAD_BYTES, UPLOAD_BODY_LIMIT_BYTES, UPLOAD_PATH } from './upload-limits.js';
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
    ...(turn.data.choices ? { choices: turn.data.choices.map((c) => ({ entryId: c.entryId, title: c.title })), noneLabel: turn.data.noneLabel ?? '' } : {}),
    ...(turn.data.handoff ? { handoff: turn.data.handoff } : {}),
    ...(turn.data.contact ? { contact: turn.data.contact } : {}),
    // Files the customer sent (their names as the firewall left them); staff fetch web files by id.
    ...(turn.data.attachments?.length
      ? {
          attachments: turn.data.attachments.map((a) => ({
            type: a.type,
            fileId: a.fileId,
            ...(a.fileName ? { fileName: a.fileName } : {}),
            ...(a.mimeType ? { mediaType: a.mimeType } : {}),
            ...(a.fileSize !== undefined ? { size: a.fileSize } : {}),
          })),
        }
      : {}),
    ...(turn.escalation ? { escalation: { reason: turn.escalation.reason, priority: turn.escalation.priority } } : {}),
  };
}

const language = z.enum(['zh', 'en'], { error: 'language must be "zh" or "en"' });
const createBody = z.object({ language: language.optional() }).strict();
/**
 * "/lang zh" typed into the widget: the same request as its language switch, read here like
 * Telegram's /lang, so that core receives a language rather than text to parse.
 */
const LANG_COMMAND = /^\s*\/lang\s+(zh|en)\s*$/i;
const typedLanguage = (text: string | undefined) => {
  const m = text === undefined ? null : LANG_COMMAND.exec(text);
  return m ? ((m[1] as string).toLowerCase() as 'zh' | 'en') : undefined;
};

const messageBody = z
  .object({
    text: z.string({ error: 'text must be a string' }).optional(),
    action: z.enum(['solved', 'human', 'bot'], { error: 'action must be "solved", "human" or "bot"' }).optional(),
    /** A pick among the choices the bot offered: an entry id, or null for "None of these". */
    choice: z
      .object(
        { entryId: z.string({ error: 'choice.entryId must be a string or null' }).min(1).max(200).nullable() },
        { error: 'choice must be {"entryId": string | null}' },
      )
      .strict()
      .optional(),
    language: language.optional(),
  })
  .strict()
  .refine((b) => b.text !== undefined || b.action !== undefined || b.choice !== undefined || b.language !== undefined, {
    message: 'send "text", "action", "choice" or "language"',
  })
  .refine((b) => [b.text, b.action, b.choice].filter((v) => v !== undefined).length <= 1, {
    message: 'send one of "text", "action" and "choice"',
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
  app.use(
    '*',
    identifyClient({
      trustProxy: deps.clients?.trustProxy,
      limits: deps.clients?.limits,
      record: helpdesk.recordSecurityEvent,
      warn: deps.clients?.warn ?? (() => undefined),
    }),
  );
  // Every route, the webhooks mounted later included: no body is read beyond its limit.
  app.use(
    '*',
    limitBodies(
      deps.bodyLimitBytes,
      (c, limit) => {
        if (UPLOAD_PATH.test(c.req.path)) throw apiError(413, 'file_too_large', `The image is larger than ${MAX_UPLOAD_BYTES / (1024 * 1024)} MB.`);
        throw apiError(413, 'payload_too_large', `The body is larger than ${limit} bytes.`);
      },
      [{ path: UPLOAD_PATH, bytes: UPLOAD_BODY_LIMIT_BYTES }],
    ),
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

  app.post('/api/conversations', ...jsonBody(createBody), async (c) => {
    const body = c.req.valid('json');
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
      throw apiError(400, 'invalid_request', 'The conversation id is not valid (expected a UUID).');
    }
    await next();
  });

  // Anti-impersonation: "is this handle / link / e-mail / phone number official?" (the widget's form).
  app.post('/api/verify-channel', ...jsonBody(verifyBody), async (c) => {
    const body = c.req.valid('json');
    const result = helpdesk.checkOfficialChannel(body.input, body.language ?? 'en');
    if (!result) throw apiError(404, 'not_configured', 'No official channels are configured.');
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
    await helpdesk.authorizeAdmin(bearerToken(c), 'GET /api/admin/conversations', clientOf(c));
    const state = parseOr400(stateQuery, c.req.query('state') ?? 'escalated');
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
    await helpdesk.authorizeAdmin(bearerToken(c), 'GET /api/admin/security-events', clientOf(c));
    const type = parseOr400(eventTypeQuery, c.req.query('type'));
    const limit = parseOr400(limitQuery, c.req.query('limit') ?? '100');
    const events = await helpdesk.securityEvents.list({ ...(type ? { type } : {}), limit });
    return c.json({ events: events.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })) });
  });

  // The customer's token is checked before anything of the body is read.
  const customer = createMiddleware<{ Variables: { conversation: Conversation } }>(async (c, next) => {
    c.set('conversation', await helpdesk.authorize(c.req.param('id') ?? '', bearerToken(c), clientOf(c)));
    await next();
  });

  app.post('/api/conversations/:id/messages', customer, ...jsonBody(messageBody), async (c) => {
    const id = c.req.param('id');
    const body = c.req.valid('json');
    // A request sent again with the same key (the answer was lost, the client retried) is stored
    // once; the repeat is answered with the turns stored the first time.
    const key = c.req.header('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw apiError(400, 'invalid_request', 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.');
    }
    const typed = body.action === undefined ? typedLanguage(body.text) : undefined;
    const result = await helpdesk.handleCustomerInput({
      conversationId: id,
      // The widget's only free text field, through the firewall before anything else sees it.
      ...(body.text !== undefined ? { message: helpdesk.screen({ text: body.text }) } : {}),
      ...(body.action !== undefined ? { action: body.action } : {}),
      ...(body.choice !== undefined ? { choice: { entryId: body.choice.entryId } } : {}),
      ...(body.language !== undefined ? { language: body.language } : {}),
      ...(typed !== undefined ? { command: { kind: 'set_language' as const, language: typed } } : {}),
      ...(key !== undefined ? { externalKey: `web:${id}:${key}` } : {}),
    });
    const replayed = result.outcome === 'duplicate' ? { 'idempotent-replayed': 'true' } : undefined;
    // A repeat's turns are read back: agents' internal notes written since stay out of them.
    const turns = result.turns.filter(isVisibleToCustomer).map(toTurnView);
    return c.json({ outcome: result.outcome, state: result.conversation.state, turns }, 201, replayed);
  });

  app.get('/api/conversations/:id/messages', customer, async (c) => {
    const id = c.req.param('id');
    const conversation = c.get('conversation');
    const after = parseOr400(afterQuery, c.req.query('after') ?? '0');
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
  app.get('/api/conversations/:id/transcript', customer, async (c) => {
    const id = c.req.param('id');
    const conversation = c.get('conversation');
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

  app.notFound((c) => c.json({ error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}.` } }, 404));

  app.onError(apiErrorHandler(deps.onError));

  return app;
}
