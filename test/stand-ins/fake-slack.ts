import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeSlackSocket, type SocketSendResult } from './fake-slack-socket.js';

/** One message as the fake workspace stores it. */
export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  user: string;
  bot_id?: string;
  edited?: boolean;
  /** When the fake stored it (ms since epoch). */
  receivedAt?: number;
  /** Message metadata given to chat.postMessage (returned with include_all_metadata). */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** Files shared with the message (files.completeUploadExternal). */
  files?: Array<{ id: string; title: string; name: string; size: number }>;
}

/** A file uploaded through files.getUploadURLExternal and its upload URL. */
export interface FakeUpload {
  id: string;
  filename: string;
  length: number;
  data?: Buffer;
  title?: string;
  completed: boolean;
}

export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
  token: string | undefined;
  status: number;
}

/** `lostResponse`: the call takes effect in Slack, but the connection drops before its answer (as in a crash or a network cut). */
type Fault = { status: 429; retryAfterS: number } | { status: 500 } | { error: string } | { network: true } | { lostResponse: true };

export interface SendResult {
  status: number;
  body: string;
  /** Time to the first byte of the final answer, in ms. */
  ttfbMs: number;
  /** How many times it was sent (1 + retries). */
  attempts: number;
}

/**
 * A Slack stand-in: the Web API (auth.test, chat.postMessage, chat.update, chat.postEphemeral,
 * users.info, usergroups.users.list, conversations.replies, conversations.history) with fault injection, and a sender of signed Events API
 * callbacks, block_actions and slash commands that re-sends like Slack when no 2xx comes in time.
 */
export class FakeSlack {
  readonly token = 'xoxb-fake-token';
  readonly signingSecret = 'fake-signing-secret';
  readonly botUserId = 'UBOT';
  readonly botId = 'BBOT';
  readonly teamId = 'T0001';
  readonly calls: ApiCall[] = [];
  readonly messages: FakeMessage[] = [];
  readonly ephemerals: Array<{ channel: string; user: string; text: string; thread_ts?: string }> = [];
  readonly responses: unknown[] = [];
  readonly uploads = new Map<string, FakeUpload>();
  readonly users = new Map<string, { name: string; real_name: string; display_name: string }>();
  /** User groups (S…) and their members, for usergroups.users.list. */
  readonly userGroups = new Map<string, string[]>();
  /** Where signed requests go (the app's /slack/events); set before sending. */
  appUrl = '';
  /** Like Slack: re-send when the app does not answer 2xx within this time. */
  retryAfterMs = 3000;
  maxRetries = 3;
  /** When set, every bot post is echoed back to the app as a message event (to test ignoreSelf). */
  echoBotMessages = false;
  private faults: Array<{ method: string | '*'; fault: Fault; remaining: number }> = [];
  private server: Server | undefined;
  private seq = 0;
  private eventSeq = 0;
  url = '';
  /** Socket Mode: apps.connections.open and the WebSocket (fake-slack-socket.ts). */
  readonly socket = new FakeSlackSocket(() => this.url);
  /** True only while an *OverSocket method runs: deliver() then sends its body over the socket. */
  private overSocket = false;

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.route(req, res));
    this.socket.attach(this.server);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  async stop(): Promise<void> {
    await this.socket.close();
    await new Promise<void>((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }

  /** Makes the next `count` calls of `method` ('*' for all) fail. */
  fail(method: string | '*', fault: Fault, count = 1): void {
    this.faults.push({ method, fault, remaining: count });
  }

  /** Makes every call fail until `recover()`. */
  down(fault: Fault = { status: 500 }): void {
    this.faults.push({ method: '*', fault, remaining: Number.POSITIVE_INFINITY });
  }

  recover(): void {
    this.faults = [];
  }

  /** A user group and its members (usergroups.users.list answers with them). */
  setUserGroup(id: string, members: string[]): void {
    this.userGroups.set(id, [...members]);
  }

  addUser(id: string, displayName: string): void {
    this.users.set(id, { name: displayName.toLowerCase(), real_name: displayName, display_name: displayName });
  }

  /** Root messages and thread replies of a channel, in posting order. */
  posted(channel?: string): FakeMessage[] {
    return this.messages.filter((m) => !channel || m.channel === channel);
  }

  thread(channel: string, threadTs: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.thread_ts === threadTs);
  }

  private nextTs(): string {
    this.seq += 1;
    // Like Slack: the posting time in seconds, made unique by the fraction.
    return `${Math.floor(Date.now() / 1000)}.${String(this.seq % 1_000_000).padStart(6, '0')}`;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    if (url.pathname.startsWith('/upload/')) {
      // files.uploadV2 step 2: the bytes, as multipart form data (field "body") or raw.
      const upload = this.uploads.get(url.pathname.slice('/upload/'.length));
      if (!upload || req.method !== 'POST') {
        res.writeHead(404).end('not found');
        return;
      }
      const contentType = req.headers['content-type'] ?? '';
      const body = Buffer.concat(chunks);
      if (contentType.startsWith('multipart/form-data')) {
        const form = await new Request('http://upload/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
        const part = form.get('body') ?? form.get('file');
        upload.data = part && typeof part !== 'string' ? Buffer.from(await part.arrayBuffer()) : Buffer.alloc(0);
      } else upload.data = body;
      // Like Slack: the bytes must be as many as files.getUploadURLExternal was told.
      if (upload.data.length !== upload.length) {
        upload.data = undefined;
        res.writeHead(400, { 'content-type': 'text/plain' }).end('length mismatch');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${upload.data.length}`);
      return;
    }
    let loseResponse = false;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (loseResponse) {
        req.socket.destroy();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (url.pathname.startsWith('/response/')) {
      this.responses.push(JSON.parse(raw || '{}'));
      return send(200, { ok: true });
    }
    const m = /^\/api\/([\w.]+)$/.exec(url.pathname);
    if (!m || req.method !== 'POST') return send(404, { ok: false, error: 'unknown_method' });
    const method = m[1] as string;
    const type = (req.headers['content-type'] ?? '').split(';')[0];
    const params: Record<string, unknown> = {};
    if (type === 'application/json') Object.assign(params, JSON.parse(raw || '{}'));
    else {
      for (const [k, v] of new URLSearchParams(raw)) {
        params[k] = /^[[{]/.test(v)
          ? (() => {
              try {
                return JSON.parse(v);
              } catch {
                return v;
              }
            })()
          : v;
      }
    }
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? (params.token as string | undefined);
    const record = (status: number) => this.calls.push({ method, params, token: auth, status });
    const fault = this.faults.find((f) => (f.method === '*' || f.method === method) && f.remaining > 0);
    if (fault) {
      fault.remaining -= 1;
      const f = fault.fault;
      if ('lostResponse' in f) loseResponse = true;
      else if ('network' in f) {
        record(0);
        req.socket.destroy();
        return;
      } else if ('status' in f && f.status === 429) {
        record(429);
        return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(f.retryAfterS) });
      } else if ('status' in f) {
        record(f.status);
        return send(f.status, { ok: false, error: 'internal_error' });
      } else if ('error' in f) {
        record(200);
        return send(200, { ok: false, error: f.error });
      }
    }
    if (method === 'apps.connections.open') {
      // Only the app-level token opens Socket Mode connections; a bot token is the wrong type, as in Slack.
      record(200);
      if (auth === this.socket.appToken) return send(200, this.socket.openConnection());
      return send(200, { ok: false, error: auth === this.token ? 'not_allowed_token_type' : 'invalid_auth' });
    }
    if (auth !== this.token) {
      record(200);
      return send(200, { ok: false, error: 'invalid_auth' });
    }
    record(200);
    switch (method) {
      case 'auth.test':
        return send(200, {
          ok: true,
          url: 'https://fake.slack.test/',
          team: 'Fake',
          user: 'helpdesk',
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
        });
      case 'chat.postMessage': {
        const channel = String(params.channel ?? '');
        if (!channel.startsWith('C')) return send(200, { ok: false, error: 'channel_not_found' });
        const message: FakeMessage = {
          channel,
          ts: this.nextTs(),
          text: String(params.text ?? ''),
          user: this.botUserId,
          bot_id: this.botId,
          ...(params.thread_ts ? { thread_ts: String(params.thread_ts) } : {}),
          ...(params.blocks ? { blocks: params.blocks as unknown[] } : {}),
          ...(params.metadata ? { metadata: params.metadata as FakeMessage['metadata'] } : {}),
          receivedAt: Date.now(),
        };
        this.messages.push(message);
        send(200, { ok: true, channel, ts: message.ts, message: { ...message, type: 'message' } });
        if (this.echoBotMessages && this.appUrl) {
          void this.sendEvent({
            type: 'message',
            channel,
            user: this.botUserId,
            bot_id: this.botId,
            text: message.text,
            ts: message.ts,
            ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
            channel_type: 'channel',
          }).catch(() => undefined);
        }
        return;
      }
      case 'chat.update': {
        const message = this.messages.find((x) => x.channel === params.channel && x.ts === params.ts);
        if (!message) return send(200, { ok: false, error: 'message_not_found' });
        message.text = String(params.text ?? message.text);
        if (params.blocks) message.blocks = params.blocks as unknown[];
        message.edited = true;
        return send(200, { ok: true, channel: message.channel, ts: message.ts, text: message.text });
      }
      case 'chat.delete': {
        const at = this.messages.findIndex((x) => x.channel === params.channel && x.ts === params.ts);
        if (at === -1) return send(200, { ok: false, error: 'message_not_found' });
        this.messages.splice(at, 1);
        return send(200, { ok: true, channel: params.channel, ts: params.ts });
      }
      case 'files.delete': {
        const id = String(params.file ?? '');
        if (!this.uploads.delete(id)) return send(200, { ok: false, error: 'file_not_found' });
        // Slack shows a deleted file's message without it.
        for (const m of this.messages) if (m.files?.some((f) => f.id === id)) m.files = m.files.filter((f) => f.id !== id);
        return send(200, { ok: true });
      }
      case 'chat.postEphemeral':
        this.ephemerals.push({
          channel: String(params.channel),
          user: String(params.user),
          text: String(params.text ?? ''),
          ...(params.thread_ts ? { thread_ts: String(params.thread_ts) } : {}),
        });
        return send(200, { ok: true, message_ts: this.nextTs() });
      case 'usergroups.users.list': {
        const members = this.userGroups.get(String(params.usergroup ?? ''));
        if (!members) return send(200, { ok: false, error: 'no_such_subteam' });
        return send(200, { ok: true, users: members });
      }
      case 'users.info': {
        const user = this.users.get(String(params.user));
        if (!user) return send(200, { ok: false, error: 'user_not_found' });
        return send(200, {
          ok: true,
          user: { id: params.user, name: user.name, real_name: user.real_name, profile: { display_name: user.display_name, real_name: user.real_name } },
        });
      }
      case 'conversations.replies': {
        const ts = String(params.ts);
        const root = this.messages.find((x) => x.channel === params.channel && x.ts === ts);
        if (!root) return send(200, { ok: false, error: 'thread_not_found' });
        const withMetadata = String(params.include_all_metadata) === 'true';
        const shown = (m: FakeMessage) => (withMetadata ? m : { ...m, metadata: undefined });
        return send(200, { ok: true, messages: [root, ...this.thread(String(params.channel), ts)].map(shown), has_more: false });
      }
      case 'files.getUploadURLExternal': {
        const length = Number(params.length);
        if (!params.filename || !Number.isInteger(length) || length <= 0) return send(200, { ok: false, error: 'invalid_arguments' });
        const id = `F${this.nextTs().replace('.', '')}`;
        this.uploads.set(id, { id, filename: String(params.filename), length, completed: false });
        return send(200, { ok: true, upload_url: `${this.url}/upload/${id}`, file_id: id });
      }
      case 'files.completeUploadExternal': {
        const files = (Array.isArray(params.files) ? params.files : []) as Array<{ id: string; title?: string }>;
        const uploads = files.map((f) => this.uploads.get(f.id));
        if (files.length === 0 || uploads.some((u) => !u?.data || u.completed)) return send(200, { ok: false, error: 'invalid_arguments' });
        const channel = String(params.channel_id ?? '');
        const shared = uploads.map((u, i) => {
          const upload = u as FakeUpload;
          upload.completed = true;
          upload.title = files[i]?.title ?? upload.filename;
          return { id: upload.id, title: upload.title, name: upload.filename, size: upload.data?.length ?? 0 };
        });
        if (channel) {
          this.messages.push({
            channel,
            ts: this.nextTs(),
            text: String(params.initial_comment ?? ''),
            user: this.botUserId,
            bot_id: this.botId,
            ...(params.thread_ts ? { thread_ts: String(params.thread_ts) } : {}),
            files: shared,
            receivedAt: Date.now(),
          });
        }
        return send(200, { ok: true, files: shared.map((f) => ({ id: f.id, title: f.title })) });
      }
      case 'conversations.history': {
        // Top-level messages, newest first, from `oldest` on; a page of `limit` with a cursor.
        const withMetadata = String(params.include_all_metadata) === 'true';
        const oldest = Number(params.oldest ?? 0);
        const limit = Math.min(999, Math.max(1, Number(params.limit ?? 100)));
        const start = Number(params.cursor ?? 0);
        const all = this.messages.filter((m) => m.channel === params.channel && (!m.thread_ts || m.thread_ts === m.ts) && Number(m.ts) >= oldest).reverse();
        const page = all.slice(start, start + limit).map((m) => (withMetadata ? m : { ...m, metadata: undefined }));
        const more = start + limit < all.length;
        return send(200, { ok: true, messages: page, has_more: more, ...(more ? { response_metadata: { next_cursor: String(start + limit) } } : {}) });
      }
      default:
        return send(200, { ok: false, error: 'unknown_method' });
    }
  }

  // ---- the sender: signed requests to the app, retried like Slack ----

  sign(body: string, timestamp = Math.floor(Date.now() / 1000), secret = this.signingSecret): Record<string, string> {
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
  }

  /** Sends a signed request; re-sends with X-Slack-Retry-Num when no 2xx arrives in time. */
  async deliver(body: string, contentType: string, options: { secret?: string; timestamp?: number; retries?: number } = {}): Promise<SendResult> {
    if (this.overSocket) return this.socket.deliverBody(body, contentType);
    const retries = options.retries ?? this.maxRetries;
    let last: SendResult = { status: 0, body: '', ttfbMs: 0, attempts: 0 };
    for (let attempt = 0; attempt <= retries; attempt++) {
      const started = performance.now();
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.retryAfterMs);
      try {
        const res = await fetch(this.appUrl, {
          method: 'POST',
          headers: {
            'content-type': contentType,
            ...this.sign(body, options.timestamp, options.secret),
            ...(attempt > 0 ? { 'x-slack-retry-num': String(attempt), 'x-slack-retry-reason': 'http_timeout' } : {}),
          },
          body,
          signal: controller.signal,
        });
        const text = await res.text();
        last = { status: res.status, body: text, ttfbMs: performance.now() - started, attempts: attempt + 1 };
        if (res.status >= 200 && res.status < 300) return last;
        if (res.status === 401 || res.status === 400 || res.status === 415) return last;
      } catch {
        last = { status: 0, body: 'timeout', ttfbMs: performance.now() - started, attempts: attempt + 1 };
      } finally {
        clearTimeout(timer);
      }
    }
    return last;
  }

  /** An Events API callback; `eventId` stays the same across retries, as with Slack. */
  sendEvent(event: Record<string, unknown>, options: { eventId?: string; secret?: string; timestamp?: number; retries?: number } = {}): Promise<SendResult> {
    this.eventSeq += 1;
    const body = JSON.stringify({
      token: 'legacy',
      team_id: this.teamId,
      api_app_id: 'A0001',
      type: 'event_callback',
      event_id: options.eventId ?? `Ev${String(this.eventSeq).padStart(8, '0')}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: this.teamId, user_id: this.botUserId, is_bot: true }],
      event: { event_ts: event.ts, ...event },
    });
    return this.deliver(body, 'application/json', options);
  }

  /** A human's message in a thread, as the Events API delivers it. */
  userReplies(channel: string, threadTs: string, user: string, text: string, options: { eventId?: string } = {}): Promise<SendResult> & { ts: string } {
    const ts = this.nextTs();
    this.messages.push({ channel, ts, thread_ts: threadTs, text, user });
    const sent = this.sendEvent({ type: 'message', channel, user, text, ts, thread_ts: threadTs, channel_type: 'channel' }, options);
    return Object.assign(sent, { ts });
  }

  /** A human edits their thread message. */
  userEdits(channel: string, ts: string, text: string): Promise<SendResult> {
    const message = this.messages.find((x) => x.channel === channel && x.ts === ts);
    if (!message) throw new Error(`no message ${ts}`);
    const previous = { ...message };
    message.text = text;
    message.edited = true;
    const eventTs = this.nextTs();
    return this.sendEvent({
      type: 'message',
      subtype: 'message_changed',
      channel,
      ts: eventTs,
      hidden: true,
      message: { type: 'message', user: message.user, text, ts, thread_ts: message.thread_ts, edited: { user: message.user, ts: eventTs } },
      previous_message: { type: 'message', user: previous.user, text: previous.text, ts, thread_ts: previous.thread_ts },
    });
  }

  /** A human deletes their thread message (the fake keeps it, as the record does). */
  userDeletes(channel: string, ts: string): Promise<SendResult> {
    const message = this.messages.find((x) => x.channel === channel && x.ts === ts);
    if (!message) throw new Error(`no message ${ts}`);
    return this.sendEvent({
      type: 'message',
      subtype: 'message_deleted',
      channel,
      ts: this.nextTs(),
      hidden: true,
      deleted_ts: ts,
      previous_message: { type: 'message', user: message.user, text: message.text, ts, thread_ts: message.thread_ts },
    });
  }

  /** A click on a button of a message. */
  click(message: FakeMessage, actionId: string, user: string, options: { secret?: string } = {}): Promise<SendResult> {
    const button = (message.blocks ?? [])
      .flatMap((b) => ((b as { elements?: unknown[] }).elements ?? []) as Array<{ action_id?: string; value?: string; block_id?: string }>)
      .find((e) => e.action_id === actionId);
    if (!button) throw new Error(`no button ${actionId} on message ${message.ts}`);
    const payload = {
      type: 'block_actions',
      team: { id: this.teamId, domain: 'fake' },
      user: { id: user, username: user.toLowerCase(), team_id: this.teamId },
      api_app_id: 'A0001',
      token: 'legacy',
      trigger_id: `trigger-${this.nextTs()}`,
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
      channel: { id: message.channel, name: 'support' },
      message: { type: 'message', ts: message.ts, text: message.text, blocks: message.blocks, user: message.user, bot_id: message.bot_id },
      response_url: `${this.url}/response/${this.nextTs()}`,
      actions: [{ type: 'button', action_id: actionId, block_id: 'handoff_actions', value: button.value, action_ts: this.nextTs() }],
    };
    return this.deliver(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded', options);
  }

  /** A slash command typed by a human. */
  command(command: string, text: string, user: string, channel: string): Promise<SendResult> {
    const form = new URLSearchParams({
      token: 'legacy',
      team_id: this.teamId,
      team_domain: 'fake',
      channel_id: channel,
      channel_name: 'support',
      user_id: user,
      user_name: user.toLowerCase(),
      command,
      text,
      api_app_id: 'A0001',
      response_url: `${this.url}/response/${this.nextTs()}`,
      trigger_id: `trigger-${this.nextTs()}`,
    });
    return this.deliver(form.toString(), 'application/x-www-form-urlencoded');
  }

  // ---- the same payloads over Socket Mode (for an app started with SLACK_APP_TOKEN = socket.appToken) ----

  /** Runs one of the senders above with its body going over the socket; resolves with the ack. */
  private viaSocket<T>(send: () => T): T {
    this.overSocket = true;
    try {
      return send();
    } finally {
      this.overSocket = false;
    }
  }

  /** An Events API callback as an `events_api` envelope, redelivered like Slack until acked. */
  sendSocketEvent(event: Record<string, unknown>, options: { eventId?: string } = {}): Promise<SocketSendResult> {
    return this.viaSocket(() => this.sendEvent(event, options)) as Promise<SocketSendResult>;
  }

  /** A human's thread reply, delivered over the socket. */
  userRepliesOverSocket(
    channel: string,
    threadTs: string,
    user: string,
    text: string,
    options: { eventId?: string } = {},
  ): Promise<SocketSendResult> & { ts: string } {
    return this.viaSocket(() => this.userReplies(channel, threadTs, user, text, options)) as Promise<SocketSendResult> & { ts: string };
  }

  /** A button click as an `interactive` envelope. */
  clickButtonOverSocket(message: FakeMessage, actionId: string, user: string): Promise<SocketSendResult> {
    return this.viaSocket(() => this.click(message, actionId, user)) as Promise<SocketSendResult>;
  }

  /** A slash command as a `slash_commands` envelope; the answer is the ack's payload. */
  slashCommandOverSocket(command: string, text: string, user: string, channel: string): Promise<SocketSendResult> {
    return this.viaSocket(() => this.command(command, text, user, channel)) as Promise<SocketSendResult>;
  }
}
