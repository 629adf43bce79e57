/** Sliding-window limit per key (a customer): at most `limit` accepted events per `windowMs`. */
export interface RateLimiter {
  /** Records an attempt; returns whether it is allowed and, if not, when the next one will be. */
  take(key: string): { allowed: boolean; retryAfterMs: number; firstRefusal: boolean };
}

export interface RateLimitSettings {
  limit: number;
  windowMs: number;
}

/**
 * In-memory, per process: right for one instance; several instances behind a balancer each apply
 * the limit (a customer's conversation is usually served by one of them at a time).
 */
export function createRateLimiter(settings: RateLimitSettings, now: () => number = Date.now): RateLimiter {
  const events = new Map<string, number[]>();
  const refused = new Set<string>();
  let sweeps = 0;
  return {
    take(key) {
      const t = now();
      const since = t - settings.windowMs;
      const recent = (events.get(key) ?? []).filter((at) => at > since);
      // Keep memory bounded: drop idle keys now and then.
      if (++sweeps % 1000 === 0) {
        for (const [k, v] of events) if ((v.at(-1) ?? 0) <= since) events.delete(k);
      }
      if (recent.length >= settings.limit) {
        events.set(key, recent);
        const firstRefusal = !refused.has(key);
        refused.add(key);
        return { allowed: false, retryAfterMs: Math.max(0, (recent[0] as number) + settings.windowMs - t), firstRefusal };
      }
      recent.push(t);
      events.set(key, recent);
      refused.delete(key);
      return { allowed: true, retryAfterMs: 0, firstRefusal: false };
    },
  };
}
