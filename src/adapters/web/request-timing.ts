import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';

/** One request: the route pattern that answered it (e.g. "/api/conversations/:id/messages"), never the raw path. */
export interface RequestTiming {
  method: string;
  route: string;
  status: number;
  seconds: number;
}

/**
 * Reports each request's duration and status with the pattern of the route that answered it. A
 * request no route matched (answered by the not-found handler after the middlewares) is reported
 * as "unmatched": raw paths carry ids and would make one series per conversation.
 */
export function timeRequests(observe: (timing: RequestTiming) => void): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const matched = matchedRoutes(c)[c.req.routeIndex];
      // Middlewares are registered for every method ("ALL"): one that is the last to run, answering 404, matched nothing of its own.
      const unmatched = !matched || (matched.method === 'ALL' && c.res.status === 404);
      observe({ method: c.req.method, route: unmatched ? 'unmatched' : matched.path, status: c.res.status, seconds: (performance.now() - started) / 1000 });
    }
  };
}
