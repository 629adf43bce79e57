import { createHash } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * Bodies on routes outside /api (the Telegram webhook, Slack events): Telegram updates and Slack
 * payloads are a few kilobytes; anything far larger is not theirs.
 */
export const WEBHOOK_BODY_LIMIT_BYTES = 1_000_000;

/**
 * Limits every request body before anything reads it: by Content-Length when given, else while
 * the (chunked) body streams in, buffering at most the limit. `/api/*` gets `apiBytes`, every
 * other route `WEBHOOK_BODY_LIMIT_BYTES`, so a signature or secret is never checked over a body
 * of any size.
 */
export function limitBodies(
  apiBytes: number,
  tooLarge: (c: Context, limit: number) => Response | Promise<Response>,
  /** Routes that take more (file uploads): a POST whose path matches gets its own limit. */
  larger: ReadonlyArray<{ path: RegExp; bytes: number }> = [],
): MiddlewareHandler {
  const api = limitBody(apiBytes, (c) => tooLarge(c, apiBytes));
  const other = limitBody(WEBHOOK_BODY_LIMIT_BYTES, (c) => tooLarge(c, WEBHOOK_BODY_LIMIT_BYTES));
  const uploads = larger.map((l) => ({ path: l.path, limit: limitBody(l.bytes, (c) => tooLarge(c, l.bytes)) }));
  return (c, next) => {
    const upload = c.req.method === 'POST' ? uploads.find((u) => u.path.test(c.req.path)) : undefined;
    if (upload) return upload.limit(c, next);
    return c.req.path.startsWith('/api/') ? api(c, next) : other(c, next);
  };
}

/**
 * Hono's bodyLimit, with the Content-Length case decided from the headers alone: its own first
 * step reads `c.req.raw.body`, which makes the Node adapter build a web stream for the body, and
 * a handler then can no longer read the body straight from the socket (0.3 ms per Telegram update
 * at 150/s). Without a Content-Length (chunked), the body is counted as it streams in, by Hono's.
 */
function limitBody(maxSize: number, onError: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  const streamed = bodyLimit({ maxSize, onError });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) return Number.parseInt(length || '0', 10) > maxSize ? onError(c) : next();
    return streamed(c, next);
  };
}

/**
 * An answer given before the request's body was read to its end (413, a refused token or
 * signature) closes the connection. Otherwise the server would answer "keep-alive", then drop
 * the socket while the rest of the body was still arriving, and the client's next request on that
 * socket would fail.
 */
export function closeAfterUnreadBody(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    // bodyUsed first: asking for `body` after a handler read it straight from the socket builds a stream.
    const unread = c.res.status === 413 || (!c.req.raw.bodyUsed && c.req.raw.body !== null);
    if (unread) setHeader(c, 'connection', 'close');
  };
}

/** Sets a header on the response, also when the handler returned one with immutable headers. */
function setHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(name, value);
  }
}

/** SHA-256 sources for the inline <style> blocks of a page, for its Content-Security-Policy. */
export function inlineStyleHashes(html: string): string[] {
  return [...html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)].map(
    (m) =>
      `'sha256-${createHash('sha256')
        .update(m[1] ?? '')
        .digest('base64')}'`,
  );
}

/**
 * Security headers. Every answer: X-Content-Type-Options nosniff and Referrer-Policy no-referrer.
 * HTML pages also: a Content-Security-Policy that allows only this origin's scripts, styles and API
 * (plus the page's own inline styles by hash) and `frameAncestors` as the sites that may frame
 * them (`'none'` by default; X-Frame-Options for browsers without CSP when that is 'none' or 'self').
 */
export function securityHeaders(options: { frameAncestors: string; styleHashes: string[] }): MiddlewareHandler {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' ${options.styleHashes.join(' ')}`.trim(),
    // blob: for the preview of a screenshot the customer is about to send.
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    `frame-ancestors ${options.frameAncestors}`,
  ].join('; ');
  const frameOptions = options.frameAncestors === "'none'" ? 'DENY' : options.frameAncestors === "'self'" ? 'SAMEORIGIN' : undefined;
  return async (c, next) => {
    await next();
    setHeader(c, 'x-content-type-options', 'nosniff');
    setHeader(c, 'referrer-policy', 'no-referrer');
    if ((c.res.headers.get('content-type') ?? '').startsWith('text/html')) {
      setHeader(c, 'content-security-policy', csp);
      if (frameOptions) setHeader(c, 'x-frame-options', frameOptions);
    }
  };
}
