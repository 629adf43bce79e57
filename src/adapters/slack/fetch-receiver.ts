import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { verifySlackRequest } from '@slack/bolt';
import type { Logger } from '../../core/index.js';

/** Bolt answers 404 when a listener never acks; Slack itself gives up after 3 s. */
export const ACK_TIMEOUT_MS = 3001;

/**
 * A bolt Receiver for fetch-style requests (Hono on @hono/node-server), so that Slack shares the
 * product's port. It reads the raw body itself (no body parser runs before it, so the signature
 * is computed over the exact bytes Slack signed), answers as soon as a listener acks, and lets the
 * listener go on working after the response.
 */
export class FetchReceiver implements Receiver {
  private app: App | undefined;
  private ready = false;

  constructor(
    private readonly options: {
      signingSecret: string;
      logger: Logger;
      ackTimeoutMs?: number;
      /** Called for every refused request (bad signature or stale timestamp), to record the denial. */
      onDenied?: (reason: string) => void;
      /** For tests of stale timestamps only. */
      now?: () => number;
    },
  ) {}

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {
    this.ready = true;
  }

  async stop(): Promise<void> {
    this.ready = false;
  }

  async handle(request: Request): Promise<Response> {
    const raw = await request.text();
    const contentType = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    const form = contentType === 'application/x-www-form-urlencoded' ? new URLSearchParams(raw) : undefined;
    if (form?.get('ssl_check') === '1') return new Response('', { status: 200 });
    try {
      verifySlackRequest({
        signingSecret: this.options.signingSecret,
        body: raw,
        headers: {
          'x-slack-signature': request.headers.get('x-slack-signature') ?? '',
          'x-slack-request-timestamp': Number(request.headers.get('x-slack-request-timestamp') ?? 'NaN'),
        },
        ...(this.options.now ? { nowMilliseconds: this.options.now() } : {}),
      });
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'slack request rejected: bad signature or stale timestamp');
      this.options.onDenied?.('slack_signature');
      return new Response('invalid signature', { status: 401 });
    }
    let body: Record<string, unknown>;
    try {
      if (contentType === 'application/json') body = JSON.parse(raw) as Record<string, unknown>;
      else if (form) {
        const payload = form.get('payload');
        body = payload ? (JSON.parse(payload) as Record<string, unknown>) : Object.fromEntries(form.entries());
      } else return new Response('unsupported content type', { status: 415 });
    } catch {
      return new Response('invalid body', { status: 400 });
    }
    // Signed but not an object (JSON null, a number, an array): nothing Slack sends.
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return new Response('invalid body', { status: 400 });
    }
    if (body.type === 'url_verification') {
      return Response.json({ challenge: body.challenge });
    }
    if (!this.app || !this.ready) return new Response('not ready', { status: 503 });

    let settle: (response: Response) => void = () => undefined;
    const answered = new Promise<Response>((resolve) => {
      settle = resolve;
    });
    let acked = false;
    const retryNum = request.headers.get('x-slack-retry-num');
    const event: ReceiverEvent = {
      body,
      ...(retryNum ? { retryNum: Number(retryNum) } : {}),
      ...(request.headers.get('x-slack-retry-reason') ? { retryReason: request.headers.get('x-slack-retry-reason') as string } : {}),
      ack: async (response?: unknown) => {
        if (acked) return;
        acked = true;
        if (response === undefined || response === '') settle(new Response('', { status: 200 }));
        else if (typeof response === 'string') settle(new Response(response, { status: 200 }));
        else settle(Response.json(response));
      },
    };
    this.app.processEvent(event).catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'slack listener failed');
      if (!acked) {
        acked = true;
        settle(new Response('', { status: 500 }));
      }
    });
    const timeout = setTimeout(() => {
      if (!acked) {
        acked = true;
        this.options.logger.error({ type: body.type }, 'slack request not acknowledged in time');
        settle(new Response('', { status: 404 }));
      }
    }, this.options.ackTimeoutMs ?? ACK_TIMEOUT_MS);
    const response = await answered;
    clearTimeout(timeout);
    return response;
  }
}
