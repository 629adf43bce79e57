import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Telegram Bot API for the real telegraf client: getMe, getUpdates with
 * offset/limit/timeout semantics and 409 conflicts, setWebhook/deleteWebhook/getWebhookInfo and
 * webhook delivery with the secret header and retries, sendMessage validating length (after
 * entity parsing) and HTML/MarkdownV2 entities, answerCallbackQuery, fault injection (429 with
 * retry_after, 5xx, dropped connections), and a user simulator that creates updates.
 */

export interface FakeChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  title?: string;
}
export interface FakeUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}
export interface SentMessage {
  message_id: number;
  date: number;
  chat: FakeChat;
  from: FakeUser;
  text: string;
  /** The text as sent, before parsing (with HTML tags). */
  raw: string;
  parseMode: string | undefined;
  replyMarkup: { inline_keyboard?: Array<Array<{ text: string; callback_data?: string }>> } | undefined;
  replyTo: number | undefined;
  /** When the fake received it (ms since epoch). */
  receivedAt: number;
}
/** A failed call, a dropped connection, or a call answered normally after `delayMs` (a slow Telegram). */
export type Fault = { status: 429; retryAfter: number } | { status: 500 | 502 | 503 } | { drop: true } | { delayMs: number };
export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  status: number;
  at: number;
}

type Update = Record<string, unknown> & { update_id: number };

const ALLOWED_HTML_TAGS = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'a',
  'code',
  'pre',
  'span',
  'tg-spoiler',
  'blockquote',
  'tg-emoji',
]);

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly parameters?: Record<string, unknown>,
  ) {
    super(description);
  }
}

/** Parses Telegram HTML like Telegram does: returns the plain text, or throws "can't parse entities". */
export function parseTelegramHtml(html: string): string {
  let plain = '';
  const open: string[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new ApiError(400, `Bad Request: can't parse entities: ${why} at byte offset ${i}`);
  };
  while (i < html.length) {
    const ch = html[i] as string;
    if (ch === '<') {
      const end = html.indexOf('>', i);
      if (end === -1) fail('unclosed start tag');
      const inner = html.slice(i + 1, end);
      const closing = inner.startsWith('/');
      const name = (closing ? inner.slice(1) : inner).trim().split(/\s+/)[0]?.toLowerCase() ?? '';
      if (!ALLOWED_HTML_TAGS.has(name)) fail(`unsupported start tag "${name}"`);
      if (closing) {
        if (open.pop() !== name) fail(`unmatched end tag "${name}"`);
      } else {
        open.push(name);
      }
      i = end + 1;
    } else if (ch === '&') {
      const m = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/i.exec(html.slice(i));
      if (!m) fail('unescaped "&": use &amp;');
      const entity = (m as RegExpExecArray)[1] as string;
      plain +=
        entity === 'lt'
          ? '<'
          : entity === 'gt'
            ? '>'
            : entity === 'amp'
              ? '&'
              : entity === 'quot'
                ? '"'
                : String.fromCodePoint(entity.startsWith('#x') || entity.startsWith('#X') ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
      i += (m as RegExpExecArray)[0].length;
    } else if (ch === '>') {
      fail('unescaped ">"');
    } else {
      plain += ch;
      i++;
    }
  }
  if (open.length > 0) fail(`unclosed tag "${open[open.length - 1]}"`);
  return plain;
}

const MARKDOWN_V2_RESERVED = '_*[]()~`>#+-=|{}.!';

/** A strict MarkdownV2 check: every reserved character must be escaped or part of a balanced pair. */
export function parseMarkdownV2(text: string): string {
  let plain = '';
  const pairs: Record<string, number> = {};
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\') {
      plain += text[i + 1] ?? '';
      i++;
      continue;
    }
    if (MARKDOWN_V2_RESERVED.includes(ch)) {
      if ('*_~`'.includes(ch)) {
        pairs[ch] = (pairs[ch] ?? 0) + 1;
        continue;
      }
      throw new ApiError(400, `Bad Request: can't parse entities: Character '${ch}' is reserved and must be escaped with the preceding '\\'`);
    }
    plain += ch;
  }
  for (const [ch, count] of Object.entries(pairs)) {
    if (count % 2 !== 0) throw new ApiError(400, `Bad Request: can't parse entities: Can't find end of the entity starting with '${ch}'`);
  }
  return plain;
}

let lastUpdateId = 0;

export async function startFakeTelegram(
  options: {
    firstUpdateId?: number;
    token?: string;
    /** Longest time getUpdates is held, whatever `timeout` asks (tests stay fast). */
    maxHoldMs?: number;
    webhookRetryDelayMs?: number;
    webhookMaxConnections?: number;
  } = {},
) {
  const token = options.token ?? '123456:TEST-token';
  const botUser: FakeUser = { id: Number(token.split(':')[0]), is_bot: true, first_name: 'Support', username: 'examplex_support_bot' };
  const maxHoldMs = options.maxHoldMs ?? 1000;
  const webhookRetryDelayMs = options.webhookRetryDelayMs ?? 50;
  const maxConnections = options.webhookMaxConnections ?? 40;

  // Update ids keep increasing across fake instances of one process, like one bot's ids on Telegram.
  let nextUpdateId = options.firstUpdateId ?? (lastUpdateId += 1_000_000);
  let nextMessageId = 1;
  const queue: Update[] = [];
  const sent: SentMessage[] = [];
  /** Documents the bot sent (sendDocument uploads). */
  const documents: Array<{ message_id: number; chat: FakeChat; filename: string; data: Buffer; caption: string | undefined; receivedAt: number }> = [];
  /** Files customers sent, by file_id: getFile gives their path, /file/bot<token>/<path> their bytes. */
  const files = new Map<string, { path: string; data: Buffer }>();
  const addFile = (fileId: string, path: string, data: Buffer) => files.set(fileId, { path, data });
  /** The same messages by chat, so that a check on many chats stays cheap under load. */
  const sentByChat = new Map<number, SentMessage[]>();
  const calls: RecordedCall[] = [];
  const callbackQueries = new Map<string, { answered: boolean; at: number }>();
  const faults = new Map<string, Fault[]>();
  const outages = new Set<string>();
  const chats = new Map<number, FakeChat>();
  const waiters = new Set<() => void>();
  let webhook: { url: string; secret: string | undefined; lastError: string | undefined } | undefined;
  let pollingHeld: ServerResponse | undefined;
  /** Each webhook call: `startedAt` is when the fake began delivering (ms since epoch), `ms` how long the call took. */
  const webhookDeliveries: Array<{ updateId: number; status: number; secretHeader: string | undefined; ms: number; startedAt: number }> = [];
  const inFlightChats = new Set<string>();
  let inFlight = 0;

  const notify = () => {
    for (const w of [...waiters]) w();
  };

  function respond(res: ServerResponse, status: number, body: unknown) {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
  const ok = (res: ServerResponse, result: unknown) => respond(res, 200, { ok: true, result });
  const error = (res: ServerResponse, e: ApiError) =>
    respond(res, e.status, { ok: false, error_code: e.status, description: e.description, ...(e.parameters ? { parameters: e.parameters } : {}) });

  async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
    const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const raw = body.toString('utf8');
    const type = req.headers['content-type'] ?? '';
    if (!raw) return params;
    if (type.includes('multipart/form-data')) {
      // Uploads (sendDocument with a file): fields as in a form, files as { filename, data }.
      const form = await new Request('http://upload/', { method: 'POST', headers: { 'content-type': type }, body }).formData();
      for (const [k, v] of form as unknown as Iterable<[string, string | File]>) {
        if (typeof v === 'string') {
          try {
            params[k] = JSON.parse(v);
          } catch {
            params[k] = v;
          }
        } else params[k] = { filename: v.name, data: Buffer.from(await v.arrayBuffer()) };
      }
      return params;
    }
    if (type.includes('application/json')) return { ...params, ...(JSON.parse(raw) as Record<string, unknown>) };
    if (type.includes('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(raw)) {
        try {
          params[k] = JSON.parse(v);
        } catch {
          params[k] = v;
        }
      }
      return params;
    }
    throw new ApiError(400, 'Bad Request: unsupported content type');
  }

  function takeUpdates(offset: number | undefined, limit: number, allowed: unknown): Update[] {
    if (offset !== undefined && offset !== 0) {
      while (queue.length > 0 && (queue[0] as Update).update_id < offset) queue.shift();
    }
    const types = Array.isArray(allowed) && allowed.length > 0 ? (allowed as string[]) : undefined;
    return queue.filter((u) => !types || types.some((t) => t in u)).slice(0, limit);
  }

  function chatOf(params: Record<string, unknown>): FakeChat {
    const id = Number(params.chat_id);
    const chat = chats.get(id);
    if (!chat) throw new ApiError(400, 'Bad Request: chat not found');
    return chat;
  }

  function validateMarkup(markup: unknown) {
    const keyboard = (markup as { inline_keyboard?: unknown })?.inline_keyboard;
    if (markup === undefined) return;
    if (!Array.isArray(keyboard)) throw new ApiError(400, 'Bad Request: inline keyboard expected');
    for (const row of keyboard) {
      for (const button of row as Array<{ text?: string; callback_data?: string }>) {
        if (!button.text) throw new ApiError(400, 'Bad Request: text buttons are unallowed in the inline keyboard');
        if (button.callback_data !== undefined && (Buffer.byteLength(button.callback_data) < 1 || Buffer.byteLength(button.callback_data) > 64)) {
          throw new ApiError(400, 'Bad Request: BUTTON_DATA_INVALID');
        }
      }
    }
  }

  function toPlain(params: Record<string, unknown>): string {
    const raw = String(params.text ?? '');
    const mode = params.parse_mode as string | undefined;
    const plain = mode === 'HTML' ? parseTelegramHtml(raw) : mode === 'MarkdownV2' ? parseMarkdownV2(raw) : raw;
    if (plain.trim().length === 0) throw new ApiError(400, 'Bad Request: message text is empty');
    if (plain.length > 4096) throw new ApiError(400, 'Bad Request: message is too long');
    return plain;
  }

  async function call(method: string, params: Record<string, unknown>, res: ServerResponse, req: IncomingMessage): Promise<void> {
    switch (method) {
      case 'getMe':
        return ok(res, { ...botUser, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false });
      case 'setWebhook': {
        const url = String(params.url ?? '');
        if (url === '') {
          webhook = undefined;
          return ok(res, true);
        }
        const secret = params.secret_token === undefined ? undefined : String(params.secret_token);
        if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw new ApiError(400, 'Bad Request: secret token contains unallowed characters');
        webhook = { url, secret, lastError: undefined };
        if (params.drop_pending_updates === true) queue.length = 0;
        pollingHeld && respond(pollingHeld, 409, { ok: false, error_code: 409, description: 'Conflict: terminated by setWebhook request' });
        void deliverWebhooks();
        return ok(res, true);
      }
      case 'deleteWebhook':
        webhook = undefined;
        if (params.drop_pending_updates === true) queue.length = 0;
        return ok(res, true);
      case 'getWebhookInfo':
        return ok(res, {
          url: webhook?.url ?? '',
          has_custom_certificate: false,
          pending_update_count: queue.length,
          ...(webhook?.lastError ? { last_error_message: webhook.lastError, last_error_date: Math.floor(Date.now() / 1000) } : {}),
        });
      case 'getUpdates': {
        if (webhook) throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
        if (pollingHeld) throw new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
        const offset = params.offset === undefined ? undefined : Number(params.offset);
        const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100)));
        const holdMs = Math.min(Number(params.timeout ?? 0) * 1000, maxHoldMs);
        let updates = takeUpdates(offset, limit, params.allowed_updates);
        if (updates.length > 0 || holdMs <= 0) return ok(res, updates);
        pollingHeld = res;
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            waiters.delete(done);
            req.off('close', done);
            resolve();
          };
          const timer = setTimeout(done, holdMs);
          waiters.add(done);
          // A client that gives up (telegraf's stop aborts the request) frees the slot at once.
          req.on('close', done);
        });
        if (pollingHeld === res) pollingHeld = undefined;
        updates = takeUpdates(offset, limit, params.allowed_updates);
        return ok(res, updates);
      }
      case 'sendMessage': {
        const chat = chatOf(params);
        const text = toPlain(params);
        validateMarkup(params.reply_markup);
        const replyParameters = params.reply_parameters as { message_id?: number } | undefined;
        const message: SentMessage = {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat,
          from: botUser,
          text,
          raw: String(params.text),
          parseMode: params.parse_mode as string | undefined,
          replyMarkup: params.reply_markup as SentMessage['replyMarkup'],
          replyTo: replyParameters?.message_id ?? (params.reply_to_message_id as number | undefined),
          receivedAt: Date.now(),
        };
        sent.push(message);
        const ofChat = sentByChat.get(chat.id);
        if (ofChat) ofChat.push(message);
        else sentByChat.set(chat.id, [message]);
        notify();
        const { raw: _raw, parseMode: _p, replyMarkup, replyTo: _r, receivedAt: _at, ...result } = message;
        return ok(res, { ...result, ...(replyMarkup ? { reply_markup: replyMarkup } : {}) });
      }
      case 'sendDocument': {
        const chat = chatOf(params);
        const file = params.document as { filename?: string; data?: Buffer } | string | undefined;
        if (!file || typeof file === 'string' || !file.data) throw new ApiError(400, 'Bad Request: there is no document in the request');
        if (file.data.length === 0) throw new ApiError(400, 'Bad Request: file must be non-empty');
        if (file.data.length > 50 * 1024 * 1024) throw new ApiError(413, 'Request Entity Too Large');
        const caption = params.caption === undefined ? undefined : String(params.caption);
        if (caption !== undefined && caption.length > 1024) throw new ApiError(400, 'Bad Request: message caption is too long');
        const document = { message_id: nextMessageId++, chat, filename: file.filename ?? 'file', data: file.data, caption, receivedAt: Date.now() };
        documents.push(document);
        notify();
        return ok(res, {
          message_id: document.message_id,
          date: Math.floor(Date.now() / 1000),
          chat,
          from: botUser,
          document: {
            file_id: `sent-doc-${document.message_id}`,
            file_unique_id: `sd${document.message_id}`,
            file_name: document.filename,
            file_size: file.data.length,
          },
          ...(caption ? { caption } : {}),
        });
      }
      case 'answerCallbackQuery': {
        const id = String(params.callback_query_id ?? '');
        const query = callbackQueries.get(id);
        if (!query || query.answered || Date.now() - query.at > 15_000) {
          throw new ApiError(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
        }
        query.answered = true;
        notify();
        return ok(res, true);
      }
      case 'sendChatAction':
        chatOf(params);
        return ok(res, true);
      case 'editMessageText':
      case 'editMessageReplyMarkup':
      case 'deleteMessage': {
        chatOf(params);
        const target = sent.find((m) => m.message_id === Number(params.message_id));
        if (!target) throw new ApiError(400, 'Bad Request: message to edit not found');
        if (method === 'editMessageText') {
          target.text = toPlain(params);
          target.raw = String(params.text);
        }
        if (method === 'editMessageReplyMarkup') target.replyMarkup = params.reply_markup as SentMessage['replyMarkup'];
        return ok(res, method === 'editMessageText' ? target : true);
      }
      case 'getFile': {
        const file = files.get(String(params.file_id ?? ''));
        if (!file) throw new ApiError(400, 'Bad Request: invalid file_id');
        // Like the official server: bots may download files up to 20 MB.
        if (file.data.length > 20 * 1024 * 1024) throw new ApiError(400, 'Bad Request: file is too big');
        return ok(res, { file_id: params.file_id, file_unique_id: `u-${params.file_id}`, file_size: file.data.length, file_path: file.path });
      }
      default:
        throw new ApiError(404, 'Not Found: method not found');
    }
  }

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (download) {
      const file = download[1] === token ? [...files.values()].find((f) => f.path === decodeURIComponent(download[2] as string)) : undefined;
      calls.push({ method: 'file', params: { path: download[2] }, status: file ? 200 : 404, at: Date.now() });
      if (!file) return respond(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(file.data.length) });
      res.end(file.data);
      return;
    }
    const match = /^\/bot([^/]+)\/(?:test\/)?([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return respond(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const method = match[2] as string;
    let params: Record<string, unknown> = {};
    let status = 200;
    try {
      if (match[1] !== token) throw new ApiError(401, 'Unauthorized');
      params = await readParams(req, url);
      const fault = outages.has(method) ? ({ status: 502 } as Fault) : faults.get(method)?.shift();
      if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault && !('delayMs' in fault)) {
        if ('drop' in fault) {
          status = 0;
          req.socket.destroy();
          return;
        }
        throw fault.status === 429
          ? new ApiError(429, `Too Many Requests: retry after ${fault.retryAfter}`, { retry_after: fault.retryAfter })
          : new ApiError(fault.status, fault.status === 502 ? 'Bad Gateway' : 'Internal Server Error');
      }
      await call(method, params, res, req);
    } catch (e) {
      const apiError = e instanceof ApiError ? e : new ApiError(500, `Internal Server Error: ${String(e)}`);
      status = apiError.status;
      error(res, apiError);
    } finally {
      calls.push({ method, params, status, at: Date.now() });
      notify();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  function chatKey(update: Update): string {
    const m = (update.message ?? update.edited_message ?? (update.callback_query as { message?: unknown } | undefined)?.message) as
      | { chat?: { id: number } }
      | undefined;
    return String(m?.chat?.id ?? 'none');
  }

  /** Delivers queued updates to the webhook like Telegram: concurrently across chats, one at a time per chat, retrying failures. */
  async function deliverWebhooks(): Promise<void> {
    if (!webhook) return;
    for (const update of [...queue]) {
      if (inFlight >= maxConnections) break;
      const key = chatKey(update);
      if (inFlightChats.has(key)) continue;
      inFlightChats.add(key);
      inFlight++;
      void deliverOne(update).finally(() => {
        inFlightChats.delete(key);
        inFlight--;
        void deliverWebhooks();
      });
    }
  }

  async function deliverOne(update: Update): Promise<void> {
    const target = webhook;
    if (!target) return;
    const t0 = performance.now();
    const startedAt = Date.now();
    let status = 0;
    try {
      status = await post(target.url, JSON.stringify(update), target.secret);
    } catch (e) {
      target.lastError = `Connection failed: ${String(e)}`;
    }
    webhookDeliveries.push({ updateId: update.update_id, status, secretHeader: target.secret, ms: performance.now() - t0, startedAt });
    if (status >= 200 && status < 300) {
      const at = queue.indexOf(update);
      if (at !== -1) queue.splice(at, 1);
    } else {
      if (status) target.lastError = `Wrong response from the webhook: ${status}`;
      await new Promise((r) => setTimeout(r, webhookRetryDelayMs));
    }
    notify();
  }

  /** Kept-alive connections to the webhook, at most `maxConnections` (Telegram's max_connections). */
  const agent = new Agent({ keepAlive: true, maxSockets: maxConnections });
  /** POSTs a webhook call; resolves with the status once the response is read (10 s limit). */
  function post(url: string, body: string, secret: string | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}),
          },
          timeout: 10_000,
        },
        (res) => {
          res.on('error', reject);
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.resume();
        },
      );
      req.on('timeout', () => req.destroy(new Error('webhook call timed out after 10 s')));
      req.on('error', reject);
      req.end(body);
    });
  }

  function push(update: Update): Update {
    queue.push(update);
    notify();
    void deliverWebhooks();
    return update;
  }

  function userOf(chatId: number, from?: Partial<FakeUser>): FakeUser {
    return { id: chatId > 0 ? chatId : 777, is_bot: false, first_name: 'Customer', language_code: 'en', ...from };
  }

  function newMessage(chat: FakeChat, from: FakeUser, fields: Record<string, unknown>) {
    chats.set(chat.id, chat);
    return { message_id: nextMessageId++, date: Math.floor(Date.now() / 1000), chat, from, ...fields };
  }

  function commandEntities(text: string) {
    const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
    const mentions = [...text.matchAll(/@[A-Za-z0-9_]{5,}/g)].filter((m) => m.index !== undefined && !(command && m.index < command[0].length));
    return [
      ...(command ? [{ type: 'bot_command', offset: 0, length: command[0].length }] : []),
      ...mentions.map((m) => ({ type: 'mention', offset: m.index as number, length: m[0].length })),
    ];
  }

  const toChat = (chat: number | FakeChat): FakeChat => (typeof chat === 'number' ? { id: chat, type: chat > 0 ? 'private' : 'group' } : chat);

  return {
    token,
    botUser,
    apiRoot: `http://127.0.0.1:${port}`,
    sent,
    calls,
    webhookDeliveries,
    /** Updates not yet confirmed (polling) or delivered (webhook). */
    pending: () => [...queue],
    webhookInfo: () => webhook,
    /** Documents the bot uploaded to a chat (sendDocument). */
    documentsTo: (chatId: number) => documents.filter((d) => d.chat.id === chatId),
    /** The bytes of a file a customer sent (what getFile + download give). */
    fileBytes: (fileId: string) => files.get(fileId)?.data,
    /** Makes a file unavailable, as when Telegram no longer keeps it. */
    forgetFile: (fileId: string) => files.delete(fileId),
    sentTo: (chatId: number) => [...(sentByChat.get(chatId) ?? [])],
    /** How many messages the bot sent to a chat (no copy). */
    sentCount: (chatId: number) => sentByChat.get(chatId)?.length ?? 0,
    /** The customer writes a message; entities for a leading /command and @mentions are added like Telegram does. */
    userSends(
      chat: number | FakeChat,
      text: string,
      options: { from?: Partial<FakeUser>; replyTo?: SentMessage | { message_id: number; from?: FakeUser } } = {},
    ) {
      const c = toChat(chat);
      const entities = commandEntities(text);
      const message = newMessage(c, userOf(c.id, options.from), {
        text,
        ...(entities.length > 0 ? { entities } : {}),
        ...(options.replyTo ? { reply_to_message: { ...options.replyTo, chat: c, date: 0 } } : {}),
      });
      return { update: push({ update_id: nextUpdateId++, message }), message };
    },
    userSendsPhoto(chat: number | FakeChat, caption?: string, options: { from?: Partial<FakeUser> } = {}) {
      const c = toChat(chat);
      const n = nextMessageId;
      const photo = [
        { file_id: `photo-small-${n}`, file_unique_id: `ps${n}`, width: 90, height: 90, file_size: 1000 },
        { file_id: `photo-large-${n}`, file_unique_id: `pl${n}`, width: 1280, height: 960, file_size: 90_000 },
      ];
      addFile(`photo-small-${n}`, `photos/file_${n}_s.jpg`, Buffer.from(`small jpeg ${n}`));
      addFile(`photo-large-${n}`, `photos/file_${n}.jpg`, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`large jpeg ${n}`)]));
      const message = newMessage(c, userOf(c.id, options.from), { photo, ...(caption ? { caption } : {}) });
      return { update: push({ update_id: nextUpdateId++, message }), message };
    },
    userSendsDocument(chat: number | FakeChat, fileName: string, caption?: string, options: { from?: Partial<FakeUser> } = {}) {
      const c = toChat(chat);
      const n = nextMessageId;
      const document = { file_id: `doc-${n}`, file_unique_id: `d${n}`, file_name: fileName, mime_type: 'application/pdf', file_size: 12_345 };
      addFile(document.file_id, `documents/file_${n}.pdf`, Buffer.from(`%PDF-1.4 document ${n}`));
      const message = newMessage(c, userOf(c.id, options.from), { document, ...(caption ? { caption } : {}) });
      return { update: push({ update_id: nextUpdateId++, message }), message };
    },
    userSendsSticker(chat: number | FakeChat) {
      const c = toChat(chat);
      const message = newMessage(c, userOf(c.id), {
        sticker: { file_id: `sticker-${nextMessageId}`, file_unique_id: 'st', width: 512, height: 512, is_animated: false, is_video: false, type: 'regular' },
      });
      return { update: push({ update_id: nextUpdateId++, message }), message };
    },
    userSendsVoice(chat: number | FakeChat) {
      const c = toChat(chat);
      const message = newMessage(c, userOf(c.id), { voice: { file_id: `voice-${nextMessageId}`, file_unique_id: 'vo', duration: 3 } });
      return { update: push({ update_id: nextUpdateId++, message }), message };
    },
    /** The customer sends any other kind of message (a contact, a venue, a poll, a forwarded text …): its fields as Telegram gives them. */
    userSendsMessage(chat: number | FakeChat, fields: Record<string, unknown>, options: { from?: Partial<FakeUser> } = {}) {
      const c = toChat(chat);
      const message = newMessage(c, userOf(c.id, options.from), fields);
      return { update: push({ update_id: nextUpdateId++, message }), message };
    },
    /** The customer edits an earlier message. */
    userEdits(original: { message_id: number; chat: FakeChat; from: FakeUser }, text: string) {
      const edited_message = { ...original, text, edit_date: Math.floor(Date.now() / 1000) };
      return { update: push({ update_id: nextUpdateId++, edited_message }) };
    },
    /** The customer taps an inline button of a bot message. */
    userClicks(message: SentMessage, data: string, from?: Partial<FakeUser>) {
      const id = `cbq-${nextUpdateId}`;
      callbackQueries.set(id, { answered: false, at: Date.now() });
      const callback_query = {
        id,
        from: userOf(message.chat.id, from),
        chat_instance: 'ci',
        data,
        message: { message_id: message.message_id, date: message.date, chat: message.chat, from: message.from, text: message.text },
      };
      return { update: push({ update_id: nextUpdateId++, callback_query }), callbackQueryId: id };
    },
    callbackAnswered: (id: string) => callbackQueries.get(id)?.answered === true,
    /** Telegram sends the same update again (after a lost acknowledgement). */
    redeliver(update: Update) {
      push(structuredClone(update));
    },
    /** The next `times` calls of `method` fail with `fault`. */
    failNext(method: string, fault: Fault, times = 1) {
      const list = faults.get(method) ?? [];
      for (let i = 0; i < times; i++) list.push(fault);
      faults.set(method, list);
    },
    /** Every call of these methods answers 502 until `recover()`. */
    outage(methods: string[] = ['sendMessage']) {
      for (const m of methods) outages.add(m);
    },
    recover() {
      outages.clear();
    },
    /** Resolves when `predicate` holds; rejects after `timeoutMs` with what was sent so far. */
    waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; sent: ${JSON.stringify(sent.map((m) => m.text.slice(0, 80)))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      pollingHeld && respond(pollingHeld, 200, { ok: true, result: [] });
      webhook = undefined;
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type FakeTelegram = Awaited<ReturnType<typeof startFakeTelegram>>;
