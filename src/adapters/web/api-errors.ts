import type { Context, ErrorHandler, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { validator } from 'hono/validator';
import { z } from 'zod';
import { HelpdeskError, RateLimitedError } from '../../core/index.js';

/**
 * The one error shape of every JSON API the product serves: `{error: {code, message, …}}` with a
 * stable `code` for programs and a `message` written for the person who reads it.
 */
export function apiError(status: ContentfulStatusCode, code: string, message: string, extra: Record<string, unknown> = {}): HTTPException {
  return new HTTPException(status, { message, cause: { code, ...extra } });
}

/** How the helpdesk's typed errors reach HTTP; the others are failures of ours (500). */
const STATUS_OF: Partial<Record<HelpdeskError['code'], ContentfulStatusCode>> = {
  conversation_not_found: 404,
  forbidden: 403,
  invalid_input: 400,
};

/** Hono's own refusals carry no code: named by their status. */
const CODE_OF_STATUS: Partial<Record<number, string>> = { 400: 'invalid_json', 413: 'payload_too_large', 415: 'unsupported_media_type' };

/**
 * The error handler of a JSON API app: refusals (HTTPException, the helpdesk's typed errors, rate
 * limits) become their status with the error shape; anything else is reported to `onUnexpected`
 * and answered 500 without details.
 */
export function apiErrorHandler(
  onUnexpected: (error: unknown) => void,
  options: {
    /** Statuses of the app's own helpdesk error codes, besides the common ones. */
    statusOf?: Partial<Record<HelpdeskError['code'], ContentfulStatusCode>>;
    /** The app's own error types, answered before the common ones (undefined: not one of them). */
    answer?: (error: Error, c: Context) => Response | undefined;
  } = {},
): ErrorHandler {
  const statusOf = { ...STATUS_OF, ...options.statusOf };
  return (error, c) => {
    const own = options.answer?.(error, c);
    if (own) return own;
    if (error instanceof RateLimitedError) {
      return c.json({ error: { code: 'rate_limited', message: error.userMessage } }, 429, { 'retry-after': String(error.retryAfterSeconds) });
    }
    if (error instanceof HTTPException) {
      const cause = (error.cause ?? {}) as { code?: string };
      const code = cause.code ?? CODE_OF_STATUS[error.status] ?? 'error';
      return c.json({ error: { ...cause, code, message: error.message } }, error.status as ContentfulStatusCode);
    }
    if (error instanceof z.ZodError) {
      return c.json({ error: { code: 'invalid_request', message: describeIssues(error.issues) } }, 400);
    }
    if (error instanceof HelpdeskError) {
      const status = statusOf[error.code];
      if (status) return c.json({ error: { code: error.code, message: error.userMessage } }, status);
    }
    onUnexpected(error);
    return c.json({ error: { code: 'internal_error', message: 'Something went wrong on our side. Please try again.' } }, 500);
  };
}

function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown field(s): ${i.keys.join(', ')}`;
      return i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message;
    })
    .join('; ');
}

/** A value checked against `schema`; a mismatch is a 400 naming each problem. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw apiError(400, 'invalid_request', describeIssues(result.error.issues));
  return result.data;
}

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * The JSON body checked against `schema` (Hono's validator; read with `c.req.valid('json')`). A body
 * that is not declared JSON is refused with 415 first (Hono's validator would read it as `{}`); an
 * empty JSON body stands for `{}`, so that every field of it may be left out.
 */
export function jsonBody<T>(schema: z.ZodType<T>) {
  const requireJson: MiddlewareHandler = async (c, next) => {
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]?.trim() ?? '';
    if (!JSON_MEDIA_TYPE.test(mediaType)) throw apiError(415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.');
    // The validator reads the body through Hono's cache of the text read here (which holds promises
    // at run time, whatever its declared type says).
    if ((await c.req.text()).trim() === '') (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve('{}');
    await next();
  };
  const check = validator('json', (value) => parseOr400(schema, value));
  return [requireJson, check] as const;
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(c: Context): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
}
