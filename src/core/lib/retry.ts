/** Exponential back-off: `baseMs` before the first retry, doubling up to `maxMs`. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** The wait before retry number `attempt` (0 = the first retry): base × 2^attempt, capped at max. */
export function backoffMs(attempt: number, backoff: Backoff): number {
  // Past 2^30 the product only overflows toward Infinity; the cap has long been reached.
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** exponent);
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RetryOptions {
  backoff: Backoff;
  /** Tries in all, the first included; absent: until it succeeds or `signal` aborts. */
  attempts?: number;
  /**
   * Whether a failure is worth another try: false gives up at once (the error is thrown); a number
   * is the wait before the next try instead of the back-off (e.g. a server's Retry-After).
   */
  retryIf?: (error: unknown, attempt: number) => boolean | number;
  /** Told of each failure that is retried, with the wait before the next try. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Stops retrying: the last error is thrown. */
  signal?: AbortSignal;
}

/** Runs `fn` until it succeeds; between failed tries waits the back-off (see RetryOptions). */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const verdict = options.retryIf ? options.retryIf(error, attempt) : true;
      const last = options.attempts !== undefined && attempt + 1 >= options.attempts;
      if (verdict === false || last || options.signal?.aborted) throw error;
      const delayMs = typeof verdict === 'number' ? verdict : backoffMs(attempt, options.backoff);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}
