/** Sliding-window limit per key (a conversation, a client address): at most `limit` events per `windowMs`. */
export interface RateLimiter {
  /** Counts an attempt if it is allowed; if not, says how long until one would be. */
  take(key: string): { allowed: boolean; retryAfterMs: number };
  /** Counts an event whatever the count (a refused request); true when the key is now at its limit. */
  add(key: string): boolean;
  /** Whether an attempt would be allowed now, without counting it. */
  check(key: string): { allowed: boolean; retryAfterMs: number };
  /** Keys held in memory (idle keys are swept). */
  size(): number;
}

export interface RateLimitSettings {
  limit: number;
  windowMs: number;
}

/** The window is kept as this many counts of equal slices: exact to a tenth of the window. */
const SLICES = 10;
/** Keys kept at most; beyond, the oldest are dropped (the global limits still apply). */
const DEFAULT_MAX_KEYS = 100_000;

interface Counts {
  /** Events per slice, by absolute slice number modulo SLICES. */
  slices: number[];
  /** Absolute number of the newest slice counted. */
  last: number;
}

/**
 * In memory, per process: right for one instance; several instances behind a balancer each apply
 * the limit. Memory is bounded: a key costs SLICES counts, idle keys are swept as time passes, and
 * at most `maxKeys` are held.
 */
export function createRateLimiter(settings: RateLimitSettings, now: () => number = Date.now, maxKeys = DEFAULT_MAX_KEYS): RateLimiter {
  const sliceMs = Math.max(1, Math.ceil(settings.windowMs / SLICES));
  const keys = new Map<string, Counts>();
  let nextSweep = 0;

  /** Drops every key whose window holds nothing any more (once a window: it visits every key). */
  function sweep(current: number): void {
    for (const [key, counts] of keys) if (counts.last <= current - SLICES) keys.delete(key);
  }

  /** The key's counts moved on to `current`: slices older than the window are emptied. */
  function countsOf(key: string, current: number, create: boolean): Counts | undefined {
    let counts = keys.get(key);
    if (!counts) {
      if (!create) return undefined;
      // Full: the key created longest ago goes (a Map iterates in insertion order).
      if (keys.size >= maxKeys) keys.delete(keys.keys().next().value as string);
      counts = { slices: new Array<number>(SLICES).fill(0), last: current };
      keys.set(key, counts);
      return counts;
    }
    for (let s = Math.max(counts.last + 1, current - SLICES + 1); s <= current; s++) counts.slices[s % SLICES] = 0;
    counts.last = Math.max(counts.last, current);
    return counts;
  }

  function verdict(counts: Counts | undefined, current: number, t: number): { allowed: boolean; retryAfterMs: number } {
    if (!counts) return { allowed: settings.limit > 0, retryAfterMs: 0 };
    let total = counts.slices.reduce((a, b) => a + b, 0);
    if (total < settings.limit) return { allowed: true, retryAfterMs: 0 };
    // The oldest slices leave the window first: wait until enough of them have.
    for (let s = current - SLICES + 1; s <= current; s++) {
      total -= counts.slices[((s % SLICES) + SLICES) % SLICES] as number;
      if (total < settings.limit) return { allowed: false, retryAfterMs: Math.max(1, (s + SLICES) * sliceMs - t) };
    }
    return { allowed: false, retryAfterMs: settings.windowMs };
  }

  function at(): { t: number; current: number } {
    const t = now();
    const current = Math.floor(t / sliceMs);
    if (t >= nextSweep) {
      nextSweep = t + settings.windowMs;
      sweep(current);
    }
    return { t, current };
  }

  return {
    take(key) {
      const { t, current } = at();
      const counts = countsOf(key, current, true) as Counts;
      const result = verdict(counts, current, t);
      if (result.allowed) counts.slices[current % SLICES] = (counts.slices[current % SLICES] as number) + 1;
      return result;
    },
    add(key) {
      const { t, current } = at();
      const counts = countsOf(key, current, true) as Counts;
      counts.slices[current % SLICES] = (counts.slices[current % SLICES] as number) + 1;
      return !verdict(counts, current, t).allowed;
    },
    check(key) {
      const { t, current } = at();
      return verdict(countsOf(key, current, false), current, t);
    },
    size: () => keys.size,
  };
}
