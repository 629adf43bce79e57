import type { SecretType } from './detect-secrets.js';

/**
 * Kinds of security event. None carries a secret: a secret event says which kinds were removed,
 * a denial says what was refused and why.
 */
export type SecurityEventType =
  | 'secret_removed'
  | 'access_denied'
  | 'rate_limited'
  | 'message_truncated'
  | 'outbound_blocked'
  | 'knowledge_contact_rejected';

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
