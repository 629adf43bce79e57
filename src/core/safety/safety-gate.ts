import { createHash, timingSafeEqual } from 'node:crypto';
import { HelpdeskError } from '../errors.js';
import type { Language, ScreeningReport } from '../model.js';
import type { Logger, NewTurn } from '../ports.js';
import { createFirewall } from './firewall.js';
import { checkOfficialChannel, type OfficialAllowlist, type OfficialChannelCheck, toContactKind, withKnowledgeLinks } from './official-channels.js';
import { CONTACT_REMOVED, findContacts, reviewOutbound, type OutboundReview } from './outbound-guard.js';
import { createRateLimiter, type RateLimitSettings } from './rate-limiter.js';
import { toOfficialChannelReply, toOfficialChannelsLine, toRateLimitReply, toSecretWarning, toTruncationNotice } from './safety-messages.js';
import { createAggregatingEventLog, createMemorySecurityEventLog, type SecurityEvent, type SecurityEventLog } from './security-events.js';

/** Safety settings of a helpdesk; main.ts builds them from configuration. */
export interface HelpdeskSafety {
  /** Official contacts. Without it, outbound contact filtering is off (a warning is logged). */
  allowlist?: OfficialAllowlist;
  /** Per-customer message limit; default 20 messages per minute. */
  rateLimit?: RateLimitSettings;
  /** Where security events go; default in memory. */
  events?: SecurityEventLog;
  /** Token for admin endpoints and commands; without it they are closed. */
  adminToken?: string;
  /** Refusals are recorded as one event per kind, client and this window (default a minute). */
  refusalWindowMs?: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = { limit: 20, windowMs: 60_000 };

/** Thrown when a customer sends faster than the limit; `userMessage` is the polite reply. */
export class RateLimitedError extends HelpdeskError {
  constructor(
    readonly retryAfterSeconds: number,
    userMessage: string,
  ) {
    super('invalid_input', `rate limit exceeded; retry after ${retryAfterSeconds} s`, userMessage);
    this.name = 'RateLimitedError';
  }
}

const ASKS_OFFICIAL =
  /\b(official|legit|legitimate|real|genuine|fake|scam|impersonat\w*|verify|trust(?:ed)?|yours)\b|官方|真的|真假|是真|是假|假的|骗子|騙子|诈骗|詐騙|可信|核实|核實|是不是你们|是你们的/i;

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/**
 * The safety layer core applies on every channel: inbound firewall (normalize, mask secrets,
 * truncate: see firewall.ts), per-customer rate limit, outbound review, official-channel checks, admin access,
 * and the record of security events.
 */
export function createSafetyGate(options: { exchangeName: string; maxMessageChars: number; safety: HelpdeskSafety | undefined; logger: Logger }) {
  const { exchangeName, maxMessageChars, logger } = options;
  const safety = options.safety ?? {};
  const configured = safety.allowlist;
  let allowlist = configured;
  const events = createAggregatingEventLog(safety.events ?? createMemorySecurityEventLog(), {
    windowMs: safety.refusalWindowMs ?? 60_000,
    onError: (error) => logger.error({ err: error }, 'security event not recorded'),
  });
  const limiter = createRateLimiter(safety.rateLimit ?? DEFAULT_RATE_LIMIT);
  const adminHash = safety.adminToken ? sha256(safety.adminToken) : undefined;
  if (!configured) logger.warn({}, 'no official allowlist configured: outbound contact filtering is off');

  async function record(event: SecurityEvent): Promise<void> {
    try {
      await events.record(event);
    } catch (error) {
      // A failing event store must not block the customer; the log line carries no secret.
      logger.error({ err: error, type: event.type }, 'security event not recorded');
    }
  }

  return {
    events,
    record,
    get allowlist(): OfficialAllowlist | undefined {
      return allowlist;
    },
    /** Knowledge-base links become mentionable (not "official") after each sync. */
    setKnowledgeLinks(links: string[]): void {
      if (configured) allowlist = withKnowledgeLinks(configured, links);
    },

    /** The inbound secret firewall (see firewall.ts). */
    firewall: createFirewall({ maxMessageChars }),

    /** The bot turns that follow a screened customer turn at once: the secret warning, the truncation notice. */
    toNotices(screening: ScreeningReport, language: Language): NewTurn[] {
      const notices: NewTurn[] = [];
      if (screening.secretTypes.length > 0) {
        notices.push({
          role: 'bot',
          kind: 'notice',
          text: toSecretWarning(language, screening.secretTypes, exchangeName, screening.acrossMessages),
          language,
        });
      }
      if (screening.truncated) {
        notices.push({
          role: 'bot',
          kind: 'notice',
          text: toTruncationNotice(language, maxMessageChars, screening.originalLength),
          language,
        });
      }
      return notices;
    },

    async recordScreening(screening: ScreeningReport, conversationId: string, channel: string): Promise<void> {
      if (screening.secretTypes.length > 0) {
        await record({
          type: 'secret_removed',
          channel,
          conversationId,
          detail: {
            secretTypes: screening.secretTypes,
            count: screening.secretCount,
            ...(screening.acrossMessages ? { acrossMessages: true } : {}),
          },
        });
      }
      if (screening.truncated) {
        await record({ type: 'message_truncated', channel, conversationId, detail: { count: screening.originalLength } });
      }
    },

    /** Per-customer rate limit; throws RateLimitedError with a polite reply in the customer's language. */
    async enforceRateLimit(key: string, conversationId: string, channel: string, language: Language): Promise<void> {
      const verdict = limiter.take(key);
      if (verdict.allowed) return;
      const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      await record({ type: 'rate_limited', channel, conversationId, detail: { reason: 'messages_per_window' } });
      throw new RateLimitedError(seconds, toRateLimitReply(language, seconds));
    },

    /**
     * Reviews a bot or agent text. Without an allowlist contacts are not checked.
     * `links`: the cited entries' own links, mentionable even before this instance learnt of them.
     */
    review(text: string, links: string[] = []): OutboundReview {
      return reviewOutbound(text, allowlist && links.length > 0 ? withKnowledgeLinks(allowlist, links) : allowlist);
    },

    checkChannel(input: string, language: Language): { check: OfficialChannelCheck; reply: string } | undefined {
      if (!allowlist) return undefined;
      const check = checkOfficialChannel(input, allowlist);
      return { check, reply: toOfficialChannelReply(language, input, check, allowlist, exchangeName) };
    },

    /** "Is @someone official?" typed in a chat: the contact it asks about, if it asks. */
    toChannelQuestion(text: string): string | undefined {
      if (!allowlist || !ASKS_OFFICIAL.test(text)) return undefined;
      const contacts = findContacts(text).filter((c) => !c.value.includes(CONTACT_REMOVED));
      if (contacts.length !== 1) return undefined;
      const contact = contacts[0];
      return contact && toContactKind(contact.value).kind !== 'unknown' ? contact.value : undefined;
    },

    officialChannelsLine(language: Language): string {
      return allowlist ? toOfficialChannelsLine(language, allowlist, exchangeName) : '';
    },

    /** Checks the admin token in constant time; records (per client, see security-events) and throws on a denial. */
    async authorizeAdmin(token: string | undefined, route: string, client?: string): Promise<void> {
      const ok = adminHash !== undefined && token !== undefined && timingSafeEqual(adminHash, sha256(token));
      if (ok) return;
      await record({
        type: 'access_denied',
        channel: 'admin',
        detail: {
          route,
          reason: adminHash === undefined ? 'admin_disabled' : token ? 'wrong_admin_token' : 'missing_admin_token',
          ...(client ? { client } : {}),
        },
      });
      throw new HelpdeskError('forbidden', `admin access denied on ${route}`, 'Admin token required.');
    },
  };
}

export type SafetyGate = ReturnType<typeof createSafetyGate>;
