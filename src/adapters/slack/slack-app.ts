import { App, LogLevel, type Logger as BoltLogger, SocketModeReceiver, webApi } from '@slack/bolt';
import { backoffMs, type Logger, sleep } from '../../core/index.js';
import { FetchReceiver } from './fetch-receiver.js';

export interface SlackAppOptions {
  botToken: string;
  signingSecret: string;
  /** Web API base URL (default Slack's). */
  apiUrl?: string;
  /** Socket Mode app-level token (xapp-…); without it, events come over HTTP to `handle`. */
  appToken?: string;
  /** First retry delay after a failed call; doubles up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  ackTimeoutMs?: number;
}

/**
 * Delay before retrying a failed Web API call (the clients are made with retries off: the outboxes
 * retry): Slack's Retry-After when it rate-limits, else exponential back-off from `retryBaseMs`.
 */
export function retryDelayMs(error: unknown, attempts: number, options: { retryBaseMs: number; retryMaxMs: number }): number {
  const e = error as { code?: string; retryAfter?: number };
  if (e.code === webApi.ErrorCode.RateLimitedError && typeof e.retryAfter === 'number') return Math.max(options.retryBaseMs, e.retryAfter * 1000);
  return backoffMs(attempts, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs });
}

function toBoltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const write =
    (fn: (obj: object, msg?: string) => void) =>
    (...msg: unknown[]) =>
      fn({ source: 'bolt' }, msg.map(String).join(' '));
  return {
    debug: write(logger.debug.bind(logger)),
    info: write(logger.info.bind(logger)),
    warn: write(logger.warn.bind(logger)),
    error: write(logger.error.bind(logger)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

/**
 * The bolt app and its transport: events over HTTP (`handle`, signatures checked by FetchReceiver)
 * or over Socket Mode. `start` keeps trying until Slack answers; `stop` ends it.
 *
 * Socket Mode reconnects under this module's own supervision, not the client's: the client's
 * automatic reconnect drops the rejection of a reconnect that Slack refuses for good (invalid_auth,
 * a revoked app-level token, a 4xx), after which nothing would be heard from Slack again. With
 * automatic reconnect off, every disconnect is seen here and the connection is opened again with
 * back-off, however long Slack refuses, until the helpdesk stops.
 */
export function createSlackApp(options: SlackAppOptions, logger: Logger, onDenied: (reason: string) => void) {
  let stopped = true;
  const receiver = options.appToken
    ? undefined
    : new FetchReceiver({ signingSecret: options.signingSecret, logger, onDenied, ...(options.ackTimeoutMs ? { ackTimeoutMs: options.ackTimeoutMs } : {}) });
  const socketReceiver = options.appToken
    ? new SocketModeReceiver({
        appToken: options.appToken,
        logger: toBoltLogger(logger),
        autoReconnectEnabled: false,
        installerOptions: { clientOptions: { ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}), retryConfig: { retries: 0 } } },
      })
    : undefined;
  const app = new App({
    token: options.botToken,
    receiver: receiver ?? (socketReceiver as SocketModeReceiver),
    ...(options.appToken ? { signingSecret: options.signingSecret } : {}),
    clientOptions: {
      ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
      // The outbox retries; the client must fail fast instead of sleeping through 429s for minutes.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    },
    deferInitialization: true,
    logger: toBoltLogger(logger),
  });

  let reconnecting: Promise<void> | undefined;
  /** Opens the socket again after a disconnect, with back-off, until it is open or the helpdesk stops. */
  function reconnect(): void {
    if (stopped || reconnecting || !socketReceiver) return;
    reconnecting = (async () => {
      for (let attempt = 0; !stopped; attempt++) {
        try {
          await socketReceiver.client.start();
          return;
        } catch (error) {
          const delay = backoffMs(attempt, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs });
          logger.error(
            { err: (error as Error).message, retryInMs: delay },
            'Slack refused the Socket Mode connection (is SLACK_APP_TOKEN still valid?); retrying',
          );
          await sleep(delay);
        }
      }
    })().finally(() => {
      reconnecting = undefined;
    });
  }
  // Only a connection that was open is reopened here: a disconnect while connecting rejects the
  // start() that is connecting, and the loop that called it retries.
  let open = false;
  socketReceiver?.client.on('connected', () => {
    open = true;
  });
  socketReceiver?.client.on('disconnected', () => {
    if (!open) return;
    open = false;
    reconnect();
  });

  return {
    app,
    /** Handles POST /slack/events (events, interactivity and slash commands) when not in Socket Mode. */
    handle(request: Request): Promise<Response> {
      if (!receiver) return Promise.resolve(new Response('socket mode', { status: 404 }));
      return receiver.handle(request);
    },
    transport: receiver ? ('http' as const) : ('socket' as const),
    /** Initializes bolt and opens the transport, retrying until Slack answers or `stop`. */
    async start(): Promise<boolean> {
      stopped = false;
      for (let attempt = 0; !stopped; attempt++) {
        try {
          await app.init();
          await app.start();
          return true;
        } catch (error) {
          const delay = backoffMs(attempt, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs });
          logger.warn({ err: (error as Error).message, retryInMs: delay }, 'slack not reachable at start-up; retrying');
          await sleep(delay);
        }
      }
      return false;
    },
    async stop(): Promise<void> {
      stopped = true;
      await app.stop().catch(() => undefined);
      await reconnecting;
    },
  };
}

export type SlackApp = ReturnType<typeof createSlackApp>;
