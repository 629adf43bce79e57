import { isIP } from 'node:net';
import { z } from 'zod';
import { parseWorkingHours, type WorkingHours } from './core/index.js';

/** Reads "true"/"false"/"1"/"0"/"yes"/"no" (case-insensitive); anything else is an error, not false. */
const booleanFlag = (fallback: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return fallback;
      if (['true', '1', 'yes', 'on'].includes(value)) return true;
      if (['false', '0', 'no', 'off'].includes(value)) return false;
      ctx.addIssue({ code: 'custom', message: 'expected true or false' });
      return z.NEVER;
    });

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return parsed;
    });

const fraction = (fallback: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return fallback;
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
        ctx.addIssue({ code: 'custom', message: 'expected a number from 0 to 1' });
        return z.NEVER;
      }
      return parsed;
    });

const url = (protocols: string[]) =>
  optionalText.refine(
    (value) => {
      if (value === undefined) return true;
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

/** A comma-separated list; blanks dropped. */
const list = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((value) =>
      (value ?? fallback)
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
    );

/** Every environment variable the product reads. `.env.example` documents each one. */
const envSchema = z.object({
  PORT: integer(3000, 0, 65535),
  HOST: optionalText.default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: optionalText.default('./data'),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  KNOWLEDGE_DIR: optionalText.default('./knowledge'),
  KB_WATCH: booleanFlag(true),
  EXCHANGE_NAME: optionalText.default('ExampleX'),
  ANSWER_THRESHOLD: fraction(0.5),
  MAX_MESSAGE_CHARS: integer(4000, 100, 100_000),
  HTTP_BODY_LIMIT_BYTES: integer(65_536, 1024, 10_000_000),
  // Time to receive one request (headers and body); a slow client holds a socket no longer.
  HTTP_REQUEST_TIMEOUT_MS: integer(30_000, 1000, 600_000),
  // CSP frame-ancestors of the HTML pages (the chat page, /verify-transcript): who may frame them.
  // none and self may be written without their quotes (env files strip them).
  FRAME_ANCESTORS: optionalText
    .default("'none'")
    .transform((v) =>
      v
        .split(/\s+/)
        .map((t) => (/^'?(none|self)'?$/i.test(t) ? `'${t.replace(/'/g, '').toLowerCase()}'` : t))
        .join(' '),
    )
    .refine((v) => v === "'none'" || v.split(' ').every((t) => t === "'self'" || /^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d+)?$/i.test(t)), {
      message: 'expected none, or self and/or origins like https://www.example.com separated by spaces',
    }),
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: url(['http:', 'https:']),
  OPENAI_CHAT_MODEL: optionalText.default('gpt-4o-mini'),
  OPENAI_EMBEDDING_MODEL: optionalText.default('text-embedding-3-small'),
  EMBEDDER: z.enum(['auto', 'local', 'openai']).default('auto'),
  MODEL_TIMEOUT_MS: integer(20_000, 100, 600_000),
  // Turn log: checkpoint origin, signing key (never in the database), publication folder.
  LOG_ORIGIN: optionalText.default('helpdesk.example/turn-log').refine((v) => !/[\s+]/.test(v), { message: 'expected no spaces or "+"' }),
  LOG_SIGNING_KEY: optionalText.refine((v) => v === undefined || v.startsWith('PRIVATE+KEY+'), { message: 'expected a signer key PRIVATE+KEY+name+id+key' }),
  LOG_SIGNING_KEY_FILE: optionalText,
  LOG_CHECKPOINT_DIR: optionalText,
  // Erasure: the master key wrapping every customer's content key (never in the database), and retention.
  CONTENT_MASTER_KEY: optionalText.refine((v) => v === undefined || /^v\d{1,9}:[A-Za-z0-9+/]{43}=(\s*[,\n]\s*v\d{1,9}:[A-Za-z0-9+/]{43}=)*$/.test(v.trim()), {
    message: 'expected v<version>:<base64 of 32 bytes>, several separated by commas',
  }),
  CONTENT_KEY_FILE: optionalText,
  RETENTION_DAYS: integer(0, 0, 36_500),
  LOG_CHECKPOINT_INTERVAL_MS: integer(1000, 100, 3_600_000),
  LOG_SELF_CHECK_INTERVAL_MS: integer(60_000, 1000, 86_400_000),
  // Turn log in Slack (needs Slack below): checkpoints to this channel; integrity alerts go here too (else to the support channel).
  SLACK_LOG_CHANNEL: optionalText.refine((v) => v === undefined || /^[CG][A-Z0-9]{2,}$/.test(v), { message: 'expected a channel id like C0123456789' }),
  SLACK_LOG_INTERVAL_S: integer(600, 1, 86_400),
  // Human handoff: Slack is on when the three SLACK_* below are set; hours and waits always apply.
  SLACK_BOT_TOKEN: optionalText,
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_SUPPORT_CHANNEL: optionalText,
  SLACK_API_URL: url(['http:', 'https:']),
  SLACK_APP_TOKEN: optionalText.refine((v) => v === undefined || v.startsWith('xapp-'), { message: 'expected an app-level token xapp-…' }),
  SLACK_COMMAND: optionalText.default('/helpdesk').refine((v) => /^\/[\w-]+$/.test(v), { message: 'expected a slash command like /helpdesk' }),
  SLACK_REMINDER_GROUP: optionalText,
  SLACK_AGENT_GROUP: optionalText.refine((v) => v === undefined || /^S[A-Z0-9]{2,}$/.test(v), { message: 'expected a user group id like S0123456789' }),
  SLACK_WORKSPACE_URL: url(['https:', 'http:']),
  SLACK_OUTBOX_POLL_MS: integer(1000, 50, 600_000),
  SLACK_RETRY_BASE_MS: integer(1000, 1, 600_000),
  SLACK_RETRY_MAX_MS: integer(300_000, 1, 86_400_000),
  HANDOFF_WORKING_HOURS: optionalText.default('Mon-Fri 09:00-18:00'),
  HANDOFF_TIMEZONE: optionalText.default('UTC'),
  HANDOFF_MINUTES_PER_CONVERSATION: integer(10, 1, 1440),
  HANDOFF_UNCLAIMED_MINUTES: integer(15, 1, 10_080),
  HANDOFF_AGENT_NAME: optionalText,
  // Telegram: on when the bot token is set; long polling unless a webhook URL is given.
  TELEGRAM_BOT_TOKEN: optionalText.refine((v) => v === undefined || /^\d+:[\w-]+$/.test(v), { message: 'expected a BotFather token like 123456:ABC-…' }),
  TELEGRAM_API_ROOT: url(['http:', 'https:']),
  TELEGRAM_WEBHOOK_URL: url(['https:', 'http:']),
  TELEGRAM_WEBHOOK_SECRET: optionalText.refine((v) => v === undefined || /^[A-Za-z0-9_-]{1,256}$/.test(v), {
    message: 'expected 1-256 characters A-Z a-z 0-9 _ -',
  }),
  // Safety: the official contacts the bot may name and /verify confirms, abuse limits, admin access.
  OFFICIAL_URLS: list('https://www.examplex.example,https://support.examplex.example,https://status.examplex.example'),
  OFFICIAL_TELEGRAM_HANDLES: list('@ExampleXSupportBot,@ExampleXAnnouncements'),
  OFFICIAL_EMAILS: list('support@examplex.example'),
  OFFICIAL_PHONES: list(''),
  RATE_LIMIT_MESSAGES: integer(20, 1, 10_000),
  RATE_LIMIT_WINDOW_SECONDS: integer(60, 1, 86_400),
  ADMIN_TOKEN: optionalText.refine((v) => v === undefined || v.length >= 16, { message: 'expected at least 16 characters' }),
  // Prometheus metrics at /metrics: open when unset, else only with this bearer token.
  METRICS_TOKEN: optionalText.refine((v) => v === undefined || v.length >= 16, { message: 'expected at least 16 characters' }),
  // Limits per client address (web API), and which proxies tell the client's address.
  TRUST_PROXY: optionalText.transform((value, ctx): TrustProxy => {
    if (value === undefined || ['false', 'no', 'off', '0'].includes(value.toLowerCase())) return undefined;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops <= 10) return { hops };
    } else {
      const proxies = value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      const valid = (p: string) => {
        const [address, prefix, extra] = p.split('/');
        const family = isIP(address ?? '');
        if (family === 0 || extra !== undefined) return false;
        return prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
      };
      if (proxies.length > 0 && proxies.every(valid)) return { proxies };
    }
    ctx.addIssue({ code: 'custom', message: 'expected false, the number of proxies in front (1-10), or their addresses or networks (10.0.0.0/8,::1)' });
    return z.NEVER;
  }),
  RATE_LIMIT_CLIENT_CONVERSATIONS: integer(30, 1, 1_000_000),
  RATE_LIMIT_CLIENT_MESSAGES: integer(600, 1, 1_000_000),
  RATE_LIMIT_CLIENT_REFUSALS: integer(30, 1, 1_000_000),
  RATE_LIMIT_CLIENT_WINDOW_SECONDS: integer(600, 1, 86_400),
  RATE_LIMIT_GLOBAL_CONVERSATIONS: integer(3000, 1, 10_000_000),
});

/** See TRUST_PROXY in .env.example. */
export type TrustProxy = { hops: number } | { proxies: string[] } | undefined;

/**
 * A value as an error message may show it: secrets hidden whole, and the password of anything
 * URL- or DSN-like (a mistyped DATABASE_URL still carries its credentials) replaced by ***.
 */
export function toShownValue(name: string, raw: string): string {
  if (/KEY|TOKEN|SECRET|PASSWORD/i.test(name)) return '***';
  let shown = raw.replace(/(password\s*=\s*)[^\s&;]+/gi, '$1***');
  // user:password@host, also when mistyped (no //, an unencoded @ or / in the password): all before the last @.
  const at = shown.lastIndexOf('@');
  if (at > 0 && shown.slice(0, at).includes(':')) {
    const scheme = /^[a-z][\w+.-]*:\/*/i.exec(shown)?.[0] ?? '';
    shown = `${scheme}***${shown.slice(at)}`;
  }
  return shown;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The configuration the product runs with: the environment read by `envSchema`, checked across
 * variables and shaped by concern. `Config` is inferred from it, so a setting is declared once.
 */
const configSchema = envSchema.transform((e, ctx) => {
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (e.EMBEDDER === 'openai' && !e.OPENAI_API_KEY) problem('EMBEDDER', '"openai" needs OPENAI_API_KEY to be set');
  let hours: WorkingHours | undefined;
  try {
    hours = parseWorkingHours(e.HANDOFF_WORKING_HOURS, e.HANDOFF_TIMEZONE);
  } catch (error) {
    problem('HANDOFF_WORKING_HOURS / HANDOFF_TIMEZONE', (error as Error).message);
  }
  const slackParts = [e.SLACK_BOT_TOKEN, e.SLACK_SIGNING_SECRET, e.SLACK_SUPPORT_CHANNEL];
  if (slackParts.some(Boolean) && !slackParts.every(Boolean)) {
    problem('SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_SUPPORT_CHANNEL', 'set all three to enable Slack, or none');
  }
  if (e.SLACK_LOG_CHANNEL && !slackParts.every(Boolean)) {
    problem('SLACK_LOG_CHANNEL', 'needs Slack (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_SUPPORT_CHANNEL)');
  }
  if (!hours) return z.NEVER;
  const openai = e.OPENAI_API_KEY
    ? {
        apiKey: e.OPENAI_API_KEY,
        baseUrl: e.OPENAI_BASE_URL,
        chatModel: e.OPENAI_CHAT_MODEL,
        embeddingModel: e.OPENAI_EMBEDDING_MODEL,
        timeoutMs: e.MODEL_TIMEOUT_MS,
      }
    : undefined;
  const slack =
    e.SLACK_BOT_TOKEN && e.SLACK_SIGNING_SECRET && e.SLACK_SUPPORT_CHANNEL
      ? {
          botToken: e.SLACK_BOT_TOKEN,
          signingSecret: e.SLACK_SIGNING_SECRET,
          supportChannel: e.SLACK_SUPPORT_CHANNEL,
          apiUrl: e.SLACK_API_URL,
          appToken: e.SLACK_APP_TOKEN,
          command: e.SLACK_COMMAND,
          reminderGroup: e.SLACK_REMINDER_GROUP,
          /** User group whose members count as agents; undefined: anyone in the support channel. */
          agentGroup: e.SLACK_AGENT_GROUP,
          workspaceUrl: e.SLACK_WORKSPACE_URL,
          pollMs: e.SLACK_OUTBOX_POLL_MS,
          retryBaseMs: e.SLACK_RETRY_BASE_MS,
          retryMaxMs: e.SLACK_RETRY_MAX_MS,
        }
      : undefined;
  const perClientWindowMs = e.RATE_LIMIT_CLIENT_WINDOW_SECONDS * 1000;
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    knowledgeDir: e.KNOWLEDGE_DIR,
    watchKnowledge: e.KB_WATCH,
    exchangeName: e.EXCHANGE_NAME,
    answerThreshold: e.ANSWER_THRESHOLD,
    maxMessageChars: e.MAX_MESSAGE_CHARS,
    httpBodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES,
    /** Longest time to receive one request, headers and body (a slow client holds a socket no longer). */
    httpRequestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    /** CSP frame-ancestors sources of the HTML pages. */
    frameAncestors: e.FRAME_ANCESTORS,
    openai,
    embedder: e.EMBEDDER === 'auto' ? (openai ? ('openai' as const) : ('local' as const)) : e.EMBEDDER,
    /** Telegram channel; undefined when TELEGRAM_BOT_TOKEN is not set. */
    telegram: e.TELEGRAM_BOT_TOKEN
      ? { token: e.TELEGRAM_BOT_TOKEN, apiRoot: e.TELEGRAM_API_ROOT, webhookUrl: e.TELEGRAM_WEBHOOK_URL, webhookSecret: e.TELEGRAM_WEBHOOK_SECRET }
      : undefined,
    turnLog: {
      origin: e.LOG_ORIGIN,
      /** Signer key text; when absent, read from (or created in) `signingKeyFile`. */
      signingKey: e.LOG_SIGNING_KEY,
      signingKeyFile: e.LOG_SIGNING_KEY_FILE ?? `${e.DATA_DIR}/log-signing-key`,
      checkpointDir: e.LOG_CHECKPOINT_DIR ?? `${e.DATA_DIR}/checkpoints`,
      checkpointIntervalMs: e.LOG_CHECKPOINT_INTERVAL_MS,
      selfCheckIntervalMs: e.LOG_SELF_CHECK_INTERVAL_MS,
      /** Content master keys text; when absent, read from (or created in) `contentKeyFile`. */
      contentMasterKey: e.CONTENT_MASTER_KEY,
      contentKeyFile: e.CONTENT_KEY_FILE ?? `${e.DATA_DIR}/content-master-key`,
      /** Closed conversations older than this many days are erased (0: never). */
      retentionDays: e.RETENTION_DAYS,
      /** Slack channel id for signed checkpoints (needs Slack); alerts go there too, else to the support channel. */
      slackChannel: e.SLACK_LOG_CHANNEL,
      /** At most one checkpoint post to Slack per this many ms. */
      slackIntervalMs: e.SLACK_LOG_INTERVAL_S * 1000,
    },
    handoff: {
      hours,
      minutesPerConversation: e.HANDOFF_MINUTES_PER_CONVERSATION,
      unclaimedAfterMs: e.HANDOFF_UNCLAIMED_MINUTES * 60_000,
      genericAgentName: e.HANDOFF_AGENT_NAME,
      slack,
    },
    metrics: { token: e.METRICS_TOKEN },
    safety: {
      official: {
        urls: e.OFFICIAL_URLS,
        telegramHandles: e.OFFICIAL_TELEGRAM_HANDLES,
        emails: e.OFFICIAL_EMAILS,
        phones: e.OFFICIAL_PHONES,
      },
      rateLimit: { limit: e.RATE_LIMIT_MESSAGES, windowMs: e.RATE_LIMIT_WINDOW_SECONDS * 1000 },
      adminToken: e.ADMIN_TOKEN,
      /** Limits per client address on the web API, and which proxies tell that address. */
      clients: {
        trustProxy: e.TRUST_PROXY,
        conversations: { limit: e.RATE_LIMIT_CLIENT_CONVERSATIONS, windowMs: perClientWindowMs },
        messages: { limit: e.RATE_LIMIT_CLIENT_MESSAGES, windowMs: perClientWindowMs },
        refusals: { limit: e.RATE_LIMIT_CLIENT_REFUSALS, windowMs: perClientWindowMs },
        globalConversations: { limit: e.RATE_LIMIT_GLOBAL_CONVERSATIONS, windowMs: perClientWindowMs },
      },
    },
  };
});

export type Config = z.output<typeof configSchema>;

/** Validates the whole environment at once; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const raw = env[name];
    const shown = raw === undefined ? '' : ` (got ${JSON.stringify(toShownValue(name, raw))})`;
    return `${name}: ${issue.message}${shown}`;
  });
  throw new ConfigError(problems);
}
