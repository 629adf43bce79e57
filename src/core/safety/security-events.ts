import type { SecretType } from './detect-secrets.js';

/**
 * Kinds of security event. None carries a secret: a secret event says which kinds were removed,
 * a denial says what was refused and why.
 */
export type SecurityEventType = 'secret_removed' | 'access_denied' | 'rate_limited' | 'message_truncated' | 'outbound_blocked' | 'knowledge_contact_rejected';

export interface SecurityEvent {
  type: SecurityEventType;
  /** web, telegram, slack, admin … */
  channel?: string | null;
  conversationId?: string | null;
  /** Small structured facts: secret kinds, the refused route, a reason code. Never a secret. */
  detail: {
    secretTypes?: SecretType[];
    count?: number;
    reason?: string;
    route?: string;
    /** The client's address (HTTP), for refusals: an IPv4 address or an IPv6 /64 prefix. */
    client?: string;
    [key: string]: unknown;
  };
}

export interface RecordedSecurityEvent extends SecurityEvent {
  id: number;
  createdAt: Date;
}

/** Append-only record of security events. Implementations: PostgreSQL table, in-memory default. */
export interface SecurityEventLog {
  record(event: SecurityEvent): Promise<void>;
  list(options?: { type?: SecurityEventType; conversationId?: string; limit?: number }): Promise<RecordedSecurityEvent[]>;
}

export function createMemorySecurityEventLog(): SecurityEventLog {
  const events: RecordedSecurityEvent[] = [];
  return {
    async record(event) {
      events.push({ ...event, id: events.length + 1, createdAt: new Date() });
    },
    async list(options = {}) {
      return events
        .filter((e) => (!options.type || e.type === options.type) && (!options.conversationId || e.conversationId === options.conversationId))
        .slice(-(options.limit ?? 100))
        .reverse();
    },
  };
}

/** Refusals: counted per client and window, not stored one row each. */
const AGGREGATED: ReadonlySet<SecurityEventType> = new Set(['access_denied', 'rate_limited']);
const MAX_ROUTES = 10;

interface Bucket {
  event: SecurityEvent;
  count: number;
  reasons: Map<string, number>;
  routes: Set<string>;
  conversations: Set<string>;
  from: Date;
  to: Date;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Records refusals (access denied, rate limited) as one event per kind, channel and client per
 * window, with their count, reasons and routes: a client guessing tokens or flooding a webhook
 * adds one row a window, not one per request. The window's event is written when the window
 * ends, when the log is listed or flushed, or early when more than `maxBuckets` clients are being
 * counted. Other events are recorded at once.
 */
export function createAggregatingEventLog(
  store: SecurityEventLog,
  options: { windowMs: number; maxBuckets?: number; onError?: (error: unknown) => void; now?: () => Date },
): SecurityEventLog & { flush(): Promise<void> } {
  const now = options.now ?? (() => new Date());
  const maxBuckets = options.maxBuckets ?? 10_000;
  const buckets = new Map<string, Bucket>();

  async function write(key: string): Promise<void> {
    const bucket = buckets.get(key);
    if (!bucket) return;
    buckets.delete(key);
    clearTimeout(bucket.timer);
    const reasons = [...bucket.reasons].sort((a, b) => b[1] - a[1]);
    const conversations = [...bucket.conversations];
    const { reason: _reason, route: _route, ...rest } = bucket.event.detail;
    await store.record({
      type: bucket.event.type,
      channel: bucket.event.channel ?? null,
      conversationId: conversations.length === 1 ? conversations[0] : null,
      detail: {
        ...rest,
        count: bucket.count,
        ...(reasons[0] ? { reason: reasons[0][0] } : {}),
        ...(reasons.length > 1 ? { reasons: Object.fromEntries(reasons) } : {}),
        ...(bucket.routes.size > 0 ? { route: [...bucket.routes][0] } : {}),
        ...(bucket.routes.size > 1 ? { routes: [...bucket.routes] } : {}),
        ...(conversations.length > 1 ? { conversations: conversations.length } : {}),
        from: bucket.from.toISOString(),
        to: bucket.to.toISOString(),
      },
    });
  }

  const writeSafely = (key: string) => write(key).catch((error: unknown) => options.onError?.(error));

  async function flush(): Promise<void> {
    await Promise.all([...buckets.keys()].map(writeSafely));
  }

  return {
    async record(event) {
      if (!AGGREGATED.has(event.type)) return store.record(event);
      const key = JSON.stringify([event.type, event.channel ?? null, event.detail.client ?? null, event.detail.client ? null : (event.conversationId ?? null)]);
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= maxBuckets) await writeSafely(buckets.keys().next().value as string);
        const at = now();
        bucket = {
          event,
          count: 0,
          reasons: new Map(),
          routes: new Set(),
          conversations: new Set(),
          from: at,
          to: at,
          timer: setTimeout(() => void writeSafely(key), options.windowMs),
        };
        bucket.timer.unref?.();
        buckets.set(key, bucket);
      }
      bucket.count += 1;
      bucket.to = now();
      const reason = event.detail.reason ?? 'unspecified';
      bucket.reasons.set(reason, (bucket.reasons.get(reason) ?? 0) + 1);
      if (event.detail.route && bucket.routes.size < MAX_ROUTES) bucket.routes.add(event.detail.route);
      if (event.conversationId) bucket.conversations.add(event.conversationId);
    },
    async list(listOptions) {
      await flush();
      return store.list(listOptions);
    },
    flush,
  };
}
