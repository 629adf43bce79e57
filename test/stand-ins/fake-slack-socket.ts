import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

/** One Socket Mode envelope as Slack sends it over the WebSocket. */
export interface SocketEnvelope {
  envelope_id: string;
  type: 'events_api' | 'interactive' | 'slash_commands';
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  retry_attempt: number;
  retry_reason: string;
}

/** What the app sent back for an envelope: `{ envelope_id, payload? }`. */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

/** The outcome of one envelope, shaped like the HTTP sender's result so tests read alike. */
export interface SocketSendResult {
  /** 200 once acked, 0 when Slack gave up waiting (no ack after every delivery). */
  status: number;
  /** The ack's payload as JSON (`{}` when the ack carried none), like an HTTP response body. */
  body: string;
  /** Time from the first delivery to the ack, in ms. */
  ttfbMs: number;
  /** How many times the envelope was sent (1 + redeliveries). */
  attempts: number;
  envelopeId: string;
  ack: SocketAck | undefined;
}

interface Pending {
  envelope: Omit<SocketEnvelope, 'retry_attempt' | 'retry_reason'>;
  attempts: number;
  maxRetries: number;
  started: number;
  timer: NodeJS.Timeout | undefined;
  /** Delivered to nobody yet (no connection): sent on the next hello. */
  waiting: boolean;
  done: (result: SocketSendResult) => void;
}

/**
 * Slack's Socket Mode side of the stand-in, on the FakeSlack HTTP server: `apps.connections.open`
 * (app-level token only) hands out a single-use `ws://127.0.0.1:<port>/link/?ticket=…` URL; the
 * WebSocket says `hello`, sends envelopes, takes `{envelope_id, payload}` acks and redelivers an
 * unacked Events API envelope (same envelope_id, retry_attempt + 1, retry_reason "timeout") like
 * Slack; envelopes that find no connection wait for the next one. `disconnect()` sends
 * `{type:"disconnect", reason:"refresh_requested"}`, after which the client must open a new
 * connection. Pongs to the client's pings come from `ws` itself.
 */
export class FakeSlackSocket {
  readonly appToken = 'xapp-1-A0001-1-fake-app-level-token';
  readonly appId = 'A0001';
  /** Every envelope sent, redeliveries included, in order. */
  readonly deliveries: SocketEnvelope[] = [];
  /** Every ack received (lost ones included), in order. */
  readonly acks: SocketAck[] = [];
  /** Like Slack: redeliver an Events API envelope (or give up on another type) after this long without an ack. */
  retryAfterMs = 3000;
  /** Redeliveries of an Events API envelope; interactive payloads and slash commands are not redelivered. */
  maxRetries = 3;
  /** `hello`s sent: the number of connections the app has completed. */
  hellos = 0;
  /** Connection URLs handed out by apps.connections.open. */
  opened = 0;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  /** Open connections that received hello and no disconnect, oldest first. */
  private live: WebSocket[] = [];
  private readonly pending = new Map<string, Pending>();
  private acksToLose = 0;

  constructor(private readonly baseUrl: () => string) {}

  /** Serves the WebSocket upgrade on the FakeSlack server. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', this.baseUrl());
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/link/' || !this.tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws));
    });
  }

  /** apps.connections.open: a fresh single-use URL. */
  openConnection(): { ok: true; url: string } {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    this.opened += 1;
    return { ok: true, url: `${this.baseUrl().replace(/^http/, 'ws')}/link/?ticket=${ticket}&app_id=${this.appId}` };
  }

  /** Connections currently open (after hello, before a disconnect). */
  get connections(): number {
    return this.live.length;
  }

  /** Makes Slack miss the app's next `count` acks (lost on the way), so it redelivers. */
  loseAcks(count = 1): void {
    this.acksToLose += count;
  }

  /** Asks every connection to reconnect, as Slack does when it recycles a connection. */
  disconnect(reason: 'refresh_requested' | 'warning' | 'link_disabled' = 'refresh_requested'): void {
    const sockets = this.live;
    this.live = [];
    for (const ws of sockets) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake-slack' } }));
  }

  /** Sends a payload in an envelope and resolves with the app's ack (or status 0 when Slack gives up). */
  deliver(type: SocketEnvelope['type'], payload: Record<string, unknown>): Promise<SocketSendResult> {
    const envelopeId = randomUUID();
    return new Promise((resolve) => {
      const item: Pending = {
        envelope: { envelope_id: envelopeId, type, payload, accepts_response_payload: type === 'slash_commands' },
        attempts: 0,
        maxRetries: type === 'events_api' ? this.maxRetries : 0,
        started: performance.now(),
        timer: undefined,
        waiting: false,
        done: resolve,
      };
      this.pending.set(envelopeId, item);
      this.send(item);
    });
  }

  /**
   * Takes a body the HTTP sender would POST and sends it as Slack does in Socket Mode: an Events API
   * callback as `events_api`, a form with `payload` as `interactive`, a slash command form as `slash_commands`.
   */
  deliverBody(body: string, contentType: string): Promise<SocketSendResult> {
    if (contentType === 'application/json') return this.deliver('events_api', JSON.parse(body) as Record<string, unknown>);
    const form = new URLSearchParams(body);
    const payload = form.get('payload');
    if (payload !== null) return this.deliver('interactive', JSON.parse(payload) as Record<string, unknown>);
    return this.deliver('slash_commands', Object.fromEntries(form));
  }

  async close(): Promise<void> {
    for (const item of this.pending.values()) this.finish(item, undefined);
    for (const ws of this.wss.clients) ws.terminate();
    this.live = [];
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private connected(ws: WebSocket): void {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: SocketAck;
      try {
        message = JSON.parse(data.toString()) as SocketAck;
      } catch {
        return;
      }
      if (typeof message.envelope_id !== 'string') return;
      this.acks.push(message);
      if (this.acksToLose > 0) {
        this.acksToLose -= 1;
        return;
      }
      const item = this.pending.get(message.envelope_id);
      if (item) this.finish(item, message);
    });
    ws.on('close', () => {
      this.live = this.live.filter((x) => x !== ws);
    });
    this.live.push(ws);
    this.hellos += 1;
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.live.length,
        debug_info: { host: 'fake-slack', approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }),
    );
    for (const item of this.pending.values()) {
      if (item.waiting) this.send(item);
    }
  }

  private send(item: Pending): void {
    // Slack spreads envelopes over the open connections; the newest is enough here.
    const ws = this.live.at(-1);
    if (!ws) {
      item.waiting = true;
      return;
    }
    item.waiting = false;
    const envelope: SocketEnvelope = { ...item.envelope, retry_attempt: item.attempts, retry_reason: item.attempts > 0 ? 'timeout' : '' };
    item.attempts += 1;
    this.deliveries.push(envelope);
    ws.send(JSON.stringify(envelope));
    item.timer = setTimeout(() => {
      if (item.attempts > item.maxRetries) this.finish(item, undefined);
      else this.send(item);
    }, this.retryAfterMs);
  }

  private finish(item: Pending, ack: SocketAck | undefined): void {
    clearTimeout(item.timer);
    this.pending.delete(item.envelope.envelope_id);
    item.done({
      status: ack ? 200 : 0,
      body: JSON.stringify(ack?.payload ?? {}),
      ttfbMs: performance.now() - item.started,
      attempts: item.attempts,
      envelopeId: item.envelope.envelope_id,
      ack,
    });
  }
}
