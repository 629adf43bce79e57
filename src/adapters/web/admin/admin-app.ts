import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { apiError, apiErrorHandler } from '../api-errors.js';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { validator } from 'hono/validator';
import { z } from 'zod';
import {
  type AdminAccess,
  can,
  type CustomerFileStore,
  type EntrySummary,
  type EntryView,
  EntryValidationError,
  GAP_SIGNALS,
  type GapReporter,
  type Helpdesk,
  type HelpdeskError,
  type KnowledgeBase,
  LoginLockedError,
  type Permission,
  type Principal,
  type Revision,
  type StatsSource,
  SavedReplyBlockedError,
  VersionConflictError,
} from '../../../core/index.js';
import { createStatsRoutes } from '../stats-routes.js';
import { toTurnView } from '../web-app.js';
import { registerInboxRoutes } from './inbox-routes.js';
import { addCustomerFileRoutes } from './customer-file-routes.js';

/** The session cookie: HttpOnly, SameSite=Strict, sent to the admin API only, Secure behind HTTPS. */
export const SESSION_COOKIE = 'helpdesk_console';
const COOKIE_PATH = '/api/admin';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const ENTRY_ID = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const MAX_HIT_TEST_CHARS = 2000;

type Env = { Variables: { principal: Principal } };

const STATUS_OF: Partial<Record<HelpdeskError['code'], ContentfulStatusCode>> = {
  unauthenticated: 401,
  login_failed: 401,
  forbidden: 403,
  invalid_input: 400,
  account_exists: 409,
  account_not_found: 404,
  entry_not_found: 404,
  conflict_not_found: 404,
  version_conflict: 409,
  knowledge_invalid: 422,
  conversation_not_found: 404,
  reply_not_found: 404,
  reply_exists: 409,
};

/** Parses with a zod schema; unknown fields and wrong types are a 400 naming the fields. */
function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const message = result.error.issues
    .map((i) => (i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : `${i.path.join('.') || 'body'}: ${i.message}`))
    .join('; ');
  throw apiError(400, 'invalid_request', message);
}

/** A JSON body checked by a schema (Hono's validator; a body that is not JSON is a 415). */
const jsonBody = <T>(schema: z.ZodType<T>) =>
  validator('json', (value, c) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') throw apiError(415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.');
    return parseWith(schema, value);
  });

const loginBody = z.object({ user: z.string().min(1).max(64), password: z.string().min(1).max(200) }).strict();
/** The contract's fields (the validator checks their content); `translationSync` is optional. */
const entryBody = z
  .object({
    lang: z.unknown(),
    title: z.unknown(),
    questions: z.unknown().optional(),
    tags: z.unknown().optional(),
    links: z.unknown().optional(),
    translation: z.unknown().optional(),
    body: z.unknown(),
    id: z.unknown().optional(),
    translationSync: z.number().int().min(1).nullable().optional(),
  })
  .strict();
const restoreBody = z.object({ version: z.number().int().min(1), publish: z.boolean().default(false) }).strict();
const resolveBody = z.object({ use: z.enum(['file', 'console']) }).strict();
const hitTestBody = z
  .object({
    text: z.string().trim().min(1, 'text must not be empty').max(MAX_HIT_TEST_CHARS, `at most ${MAX_HIT_TEST_CHARS} characters`),
    language: z.enum(['zh', 'en']).optional(),
  })
  .strict();
const listQuery = z.object({
  lang: z.enum(['zh', 'en']).optional(),
  tag: z.string().max(60).optional(),
  q: z.string().max(200).optional(),
  status: z.enum(['published', 'draft', 'removed']).optional(),
});
const gapsQuery = z.object({
  days: z.coerce.number().int().min(1).max(365).optional(),
  language: z.enum(['zh', 'en']).optional(),
  signal: z.enum(GAP_SIGNALS as [string, ...string[]]).optional(),
});

function entryIdOf(c: Context): string {
  const id = c.req.param('id') ?? '';
  if (!ENTRY_ID.test(id)) throw apiError(404, 'entry_not_found', `No entry "${id.slice(0, 130)}".`);
  return id;
}

/** `If-Match: "3"` (a version), `If-None-Match: *` (create only), or neither. */
function expectedOf(c: Context): number | 'new' | undefined {
  if (c.req.header('if-none-match')?.trim() === '*') return 'new';
  const header = c.req.header('if-match');
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) throw apiError(400, 'invalid_request', 'If-Match must be the entry\'s version, e.g. "3".');
  return Number(match[1]);
}

const toRevisionJson = (r: Revision) => ({
  version: r.version,
  status: r.status,
  author: r.author,
  origin: r.origin,
  createdAt: r.createdAt.toISOString(),
  contentHash: r.contentHash,
  translationSync: r.translationSync,
  restoredFrom: r.restoredFrom,
  logIndex: r.logIdx,
  entry: { ...r.content, translation: r.content.translation ?? null },
});

const toSummaryJson = (s: EntrySummary) => ({ ...s, updatedAt: s.updatedAt.toISOString() });

const toEntryJson = (v: EntryView) => ({
  ...toSummaryJson(v),
  head: toRevisionJson(v.head),
  live: v.live ? toRevisionJson(v.live) : null,
  file: v.fileState,
  fileConflict: v.fileConflict ? { ...v.fileConflict, detectedAt: v.fileConflict.detectedAt.toISOString() } : null,
});

function isHttps(c: Context): boolean {
  const forwarded = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  return forwarded === 'https' || new URL(c.req.url).protocol === 'https:';
}

/** The client's address as the Node server saw it (the socket), for the sign-in limit. */
function socketAddress(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'unknown';
}

/**
 * The staff console's JSON API under /api/admin: sign-in and sessions, the knowledge base
 * (entries, drafts, publication, history, restore, file conflicts), hit testing and the gap
 * report. Every route checks a permission of the caller's role (a session cookie with its CSRF
 * token on changes, or the admin token as a bearer for automation). Transport only: the rules are
 * core's.
 */
export function createAdminApp(deps: {
  access: AdminAccess;
  knowledge: KnowledgeBase;
  gaps: GapReporter;
  helpdesk: Pick<Helpdesk, 'hitTest' | 'recordSecurityEvent'>;
  /** The dashboard's figures (GET /api/admin/stats). */
  stats: StatsSource;
  /** Customers' uploaded files, for agents (see customer-file-routes.ts). */
  files?: CustomerFileStore;
  onError: (error: unknown) => void;
  /** The client's address for the sign-in limit; default: the socket's. */
  clientOf?: (c: Context) => string;
  /** The agents' inbox (absent: its routes are not mounted). */
  inbox?: Pick<Parameters<typeof registerInboxRoutes>[1], 'inbox' | 'feed' | 'savedReplies'>;
}) {
  const { access, knowledge } = deps;
  const clientOf = deps.clientOf ?? socketAddress;
  const app = new Hono<Env>();

  const sessionCookie = (c: Context, token: string, expiresAt: Date) =>
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: COOKIE_PATH, secure: isHttps(c), expires: expiresAt });
  const clearCookie = (c: Context) => deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: isHttps(c) });

  /** Who asks: the admin token (bearer) or a session; changes by a session need its CSRF token. */
  const signedIn = createMiddleware<Env>(async (c, next) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (bearer) {
      const principal = access.authenticateToken(bearer);
      if (!principal) {
        await deps.helpdesk.recordSecurityEvent({
          type: 'access_denied',
          channel: 'admin',
          detail: { route: `${c.req.method} ${c.req.routePath}`, reason: 'wrong_admin_token' },
        });
        throw apiError(401, 'unauthenticated', 'Admin token required.');
      }
      c.set('principal', principal);
      return next();
    }
    let session: Awaited<ReturnType<AdminAccess['authenticateSession']>>;
    try {
      session = await access.authenticateSession(getCookie(c, SESSION_COOKIE));
    } catch (error) {
      if (getCookie(c, SESSION_COOKIE) !== undefined) clearCookie(c);
      throw error;
    }
    if (!SAFE_METHODS.has(c.req.method) && !access.checkCsrf(session.csrfToken, c.req.header('x-csrf-token'))) {
      await deps.helpdesk.recordSecurityEvent({
        type: 'access_denied',
        channel: 'admin',
        detail: { route: `${c.req.method} ${c.req.routePath}`, reason: 'csrf_token' },
      });
      throw apiError(403, 'csrf_failed', "The request lacks this session's CSRF token: reload the console.");
    }
    c.set('principal', session.principal);
    return next();
  });

  const requires = (permission: Permission) =>
    createMiddleware<Env>(async (c, next) => {
      const principal = c.get('principal');
      if (!can(principal.role, permission)) {
        await deps.helpdesk.recordSecurityEvent({
          type: 'access_denied',
          channel: 'admin',
          detail: { route: `${c.req.method} ${c.req.routePath}`, reason: `role_${principal.role}` },
        });
        throw apiError(403, 'forbidden', `The ${principal.role} role may not do this.`);
      }
      return next();
    });

  const author = (c: Context<Env>) => {
    const principal = c.get('principal');
    return { name: principal.name, origin: principal.via === 'token' ? ('api' as const) : ('console' as const) };
  };
  const principalJson = (p: Principal) => ({ user: { name: p.name, role: p.role }, permissions: p.permissions });

  app.post('/api/admin/login', jsonBody(loginBody), async (c) => {
    const body = c.req.valid('json');
    const result = await access.login({ user: body.user, password: body.password, client: clientOf(c) });
    sessionCookie(c, result.token, result.expiresAt);
    return c.json({
      ...principalJson(result.principal),
      csrfToken: result.csrfToken,
      expiresAt: result.expiresAt.toISOString(),
      idleMinutes: access.settings.idleMs / 60_000,
    });
  });

  app.post('/api/admin/logout', async (c) => {
    await access.logout(getCookie(c, SESSION_COOKIE));
    clearCookie(c);
    return c.body(null, 204);
  });

  app.get('/api/admin/session', async (c) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const byToken = bearer ? access.authenticateToken(bearer) : undefined;
    if (byToken) return c.json({ ...principalJson(byToken), csrfToken: null, expiresAt: null });
    let session: Awaited<ReturnType<AdminAccess['authenticateSession']>>;
    try {
      session = await access.authenticateSession(getCookie(c, SESSION_COOKIE));
    } catch (error) {
      if (getCookie(c, SESSION_COOKIE) !== undefined) clearCookie(c);
      throw error;
    }
    return c.json({
      ...principalJson(session.principal),
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt.toISOString(),
      idleMinutes: access.settings.idleMs / 60_000,
    });
  });

  app.use('/api/admin/kb/*', signedIn);
  app.use('/api/admin/stats', signedIn);
  app.route('/', createStatsRoutes({ stats: deps.stats, guard: requires('stats.read') }));
  if (deps.inbox) registerInboxRoutes(app, { ...deps.inbox, access, signedIn, requires, sessionCookie: SESSION_COOKIE });

  app.get('/api/admin/kb/entries', requires('kb.read'), async (c) => {
    const query = parseWith(listQuery, c.req.query());
    const entries = await knowledge.list({ lang: query.lang, tag: query.tag, status: query.status, text: query.q });
    const all = query.lang || query.tag || query.q || query.status ? await knowledge.list() : entries;
    return c.json({ entries: entries.map(toSummaryJson), tags: [...new Set(all.flatMap((e) => e.tags))].sort() });
  });

  app.get('/api/admin/kb/entries/:id', requires('kb.read'), async (c) => {
    const view = await knowledge.get(entryIdOf(c));
    if (!view) throw apiError(404, 'entry_not_found', `No entry "${c.req.param('id')}".`);
    c.header('ETag', `"${view.version}"`);
    return c.json(toEntryJson(view));
  });

  const saveRoute = (publish: boolean) => async (c: Context<Env>) => {
    const id = entryIdOf(c);
    const { translationSync, ...input } = parseWith(
      entryBody,
      await c.req.json().catch(() => {
        throw apiError(400, 'invalid_json', 'The body is not valid JSON.');
      }),
    );
    const result = await knowledge.save(id, input, { by: author(c), publish, expected: expectedOf(c), translationSync });
    c.header('ETag', `"${result.version}"`);
    return c.json({ id: result.id, version: result.version }, result.created ? 201 : 200);
  };
  const requireJson = createMiddleware<Env>(async (c, next) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') throw apiError(415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.');
    return next();
  });
  app.put('/api/admin/kb/entries/:id', requires('kb.edit'), requireJson, saveRoute(true));
  app.put('/api/admin/kb/entries/:id/draft', requires('kb.edit'), requireJson, saveRoute(false));

  app.post('/api/admin/kb/entries/:id/validate', requires('kb.read'), requireJson, async (c) => {
    const id = entryIdOf(c);
    const { translationSync: _, ...input } = parseWith(
      entryBody,
      await c.req.json().catch(() => {
        throw apiError(400, 'invalid_json', 'The body is not valid JSON.');
      }),
    );
    return c.json({ issues: await knowledge.validate(id, input, c.req.query('publish') === '1') });
  });

  app.post('/api/admin/kb/entries/:id/publish', requires('kb.edit'), async (c) => {
    const expected = expectedOf(c);
    const result = await knowledge.publish(entryIdOf(c), { by: author(c), expected: typeof expected === 'number' ? expected : undefined });
    c.header('ETag', `"${result.version}"`);
    return c.json({ id: result.id, version: result.version });
  });

  app.delete('/api/admin/kb/entries/:id', requires('kb.edit'), async (c) => {
    const expected = expectedOf(c);
    const result = await knowledge.remove(entryIdOf(c), { by: author(c), expected: typeof expected === 'number' ? expected : undefined });
    return c.json({ id: result.id, version: result.version });
  });

  app.get('/api/admin/kb/entries/:id/history', requires('kb.read'), async (c) => {
    const revisions = await knowledge.history(entryIdOf(c));
    if (revisions.length === 0) throw apiError(404, 'entry_not_found', `No entry "${c.req.param('id')}".`);
    return c.json({ revisions: revisions.map(toRevisionJson) });
  });

  app.post('/api/admin/kb/entries/:id/restore', requires('kb.edit'), jsonBody(restoreBody), async (c) => {
    const body = c.req.valid('json');
    const expected = expectedOf(c);
    const result = await knowledge.restore(entryIdOf(c), body.version, {
      by: author(c),
      expected: typeof expected === 'number' ? expected : undefined,
      publish: body.publish,
    });
    c.header('ETag', `"${result.version}"`);
    return c.json({ id: result.id, version: result.version });
  });

  app.get('/api/admin/kb/conflicts', requires('kb.read'), async (c) => {
    const conflicts = await knowledge.conflicts();
    return c.json({ conflicts: conflicts.map((x) => ({ ...x, detectedAt: x.detectedAt.toISOString() })) });
  });

  app.post('/api/admin/kb/conflicts/:id/resolve', requires('kb.edit'), jsonBody(resolveBody), async (c) => {
    const expected = expectedOf(c);
    const result = await knowledge.resolveConflict(entryIdOf(c), c.req.valid('json').use, {
      by: author(c),
      expected: typeof expected === 'number' ? expected : undefined,
    });
    return c.json({ id: result.id, version: result.version });
  });

  app.post('/api/admin/kb/hit-test', requires('kb.test'), jsonBody(hitTestBody), async (c) => {
    const body = c.req.valid('json');
    const result = await deps.helpdesk.hitTest(body.text, { language: body.language });
    const published = new Map((await knowledge.published()).map((e) => [e.id, e]));
    return c.json({
      question: result.question,
      language: result.language,
      results: result.results.map((r) => ({
        id: r.entryId,
        score: r.score,
        topic: r.topic,
        version: r.version,
        title: published.get(r.entryId)?.title ?? null,
        lang: published.get(r.entryId)?.lang ?? null,
      })),
      confidence: result.confidence,
      threshold: result.threshold,
      decision: result.decision,
      why: result.why,
      reply: result.reply.map(toTurnView),
    });
  });

  app.get('/api/admin/kb/gaps', requires('kb.gaps'), async (c) => {
    const query = parseWith(gapsQuery, c.req.query());
    const report = await deps.gaps.report({ days: query.days, language: query.language, signal: query.signal as (typeof GAP_SIGNALS)[number] | undefined });
    return c.json({
      since: report.since.toISOString(),
      until: report.until.toISOString(),
      days: report.days,
      questions: report.questions,
      clusters: report.clusters.map((k) => ({
        ...k,
        firstSeen: k.firstSeen.toISOString(),
        lastSeen: k.lastSeen.toISOString(),
        examples: k.examples.map((e) => ({ ...e, at: e.at.toISOString() })),
      })),
    });
  });

  if (deps.files) addCustomerFileRoutes(app, { files: deps.files, signedIn, allowed: requires('files.read') });

  app.onError(
    apiErrorHandler(deps.onError, {
      statusOf: STATUS_OF,
      answer: (error, c) => {
        if (error instanceof LoginLockedError) {
          return c.json({ error: { code: error.code, message: error.userMessage, retryAfterSeconds: error.retryAfterSeconds } }, 429, {
            'retry-after': String(error.retryAfterSeconds),
          });
        }
        if (error instanceof EntryValidationError) {
          return c.json({ error: { code: 'invalid_entry', message: error.userMessage, issues: error.issues } }, 422);
        }
        if (error instanceof SavedReplyBlockedError) {
          return c.json({ error: { code: error.code, message: error.userMessage, reasons: error.reasons, contacts: error.contacts } }, 422);
        }
        if (error instanceof VersionConflictError) {
          const code = error.reason === 'exists' ? 'duplicate_id' : 'version_conflict';
          return c.json({ error: { code, message: error.userMessage, current: error.current ? toRevisionJson(error.current) : null } }, 409);
        }
        return undefined;
      },
    }),
  );

  return app;
}
