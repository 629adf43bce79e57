import { BlockList, isIP } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { createRateLimiter, type RateLimitSettings, type SecurityEvent } from '../../core/index.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The client as the limits count it: an IPv4 address or an IPv6 /64 prefix. */
    client: string;
  }
}

/**
 * Which proxies' X-Forwarded-For is believed: none (the socket's address is the client), the
 * nearest `hops` proxies, or the listed proxy addresses and networks.
 */
export type TrustProxy = { hops: number } | { proxies: string[] } | undefined;

export interface ClientLimitSettings {
  trustProxy: TrustProxy;
  /** New conversations per client. */
  conversations: RateLimitSettings;
  /** Customer messages per client, all its conversations together. */
  messages: RateLimitSettings;
  /** Refused requests (401, 403) per client; beyond, every request of that client gets 429. */
  refusals: RateLimitSettings;
  /** New conversations from all clients together. */
  globalConversations: RateLimitSettings;
}

const stripMapped = (address: string) => (address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

/** An IPv6 address's eight groups (with "::" expanded and an embedded IPv4 tail converted). */
function ipv6Groups(address: string): string[] {
  let text = address.toLowerCase().split('%')[0] as string;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = (v4[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((g) => g.replace(/^0+(?=.)/, ''));
}

/** The key a client is counted under: its IPv4 address, or its IPv6 /64 (one subscriber's network). */
export function toClientKey(address: string): string {
  const plain = stripMapped(address.trim());
  if (isIP(plain) === 6) return `${ipv6Groups(plain).slice(0, 4).join(':')}::/64`;
  return plain;
}

/**
 * The client's address: the socket's peer, or, behind trusted proxies, the address X-Forwarded-For
 * names just before them. Never more than the trusted proxies say: an entry a client wrote itself
 * is further left, where nothing reads it.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | undefined, trust: TrustProxy): string | undefined {
  const peer = socketAddress ? stripMapped(socketAddress) : undefined;
  if (!trust || !peer) return peer;
  const chain = [
    ...(forwardedFor ?? '')
      .split(',')
      .map((s) => stripMapped(s.trim()))
      .filter(Boolean),
    peer,
  ];
  if ('hops' in trust) return chain[Math.max(0, chain.length - 1 - trust.hops)];
  const trusted = toBlockList(trust.proxies);
  let i = chain.length - 1;
  while (i > 0 && isTrusted(trusted, chain[i] as string)) i--;
  return chain[i];
}

const blockLists = new WeakMap<string[], BlockList>();
function toBlockList(proxies: string[]): BlockList {
  let list = blockLists.get(proxies);
  if (!list) {
    list = new BlockList();
    for (const entry of proxies) {
      const [address, prefix] = entry.split('/') as [string, string | undefined];
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(address, family);
      else list.addSubnet(address, Number(prefix), family);
    }
    blockLists.set(proxies, list);
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** The peer address of the request's socket (Node); undefined outside a Node server (in-process requests). */
function socketAddressOf(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/** The client of this request (set by `identifyClient`). */
export const clientOf = (c: Context): string | undefined => c.get('client');

const isPrivatePeer = (address: string) => /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|::1$|f[cd][0-9a-f]{2}:)/i.test(address);

/**
 * Works out who the client is (see `clientAddress`) and, with limits, refuses with 429 and
 * Retry-After a client over its limit of new conversations, messages or refusals, or any client
 * once the global limit of new conversations is reached. Each 429 is a `rate_limited` event, and
 * each 401/403 counts towards the client's refusals.
 */
export function identifyClient(options: {
  trustProxy: TrustProxy;
  limits?: Omit<ClientLimitSettings, 'trustProxy'>;
  record: (event: SecurityEvent) => Promise<void>;
  /** Told once when requests come through a proxy whose X-Forwarded-For is not trusted. */
  warn: (message: string) => void;
}): MiddlewareHandler {
  const limits = options.limits;
  const limiters = limits
    ? {
        conversations: createRateLimiter(limits.conversations),
        messages: createRateLimiter(limits.messages),
        refusals: createRateLimiter(limits.refusals),
        global: createRateLimiter(limits.globalConversations),
      }
    : undefined;
  let warned = false;

  const refuse = async (c: Context, client: string, reason: string, retryAfterMs: number) => {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const route = `${c.req.method} ${c.req.path.replace(/\/[0-9a-f-]{36}(?=\/|$)/gi, '/:id')}`;
    await options.record({ type: 'rate_limited', channel: 'web', detail: { reason, client, route } });
    return c.json(
      {
        error: {
          code: 'rate_limited',
          message: `Too many requests from your network. Please wait ${seconds} seconds and try again. 请求过于频繁，请 ${seconds} 秒后再试。`,
        },
      },
      429,
      { 'retry-after': String(seconds) },
    );
  };

  return async (c, next) => {
    const peer = socketAddressOf(c);
    const address = clientAddress(peer, c.req.header('x-forwarded-for'), options.trustProxy);
    if (!address) return next();
    const client = toClientKey(address);
    c.set('client', client);
    if (!options.trustProxy && !warned && peer && isPrivatePeer(peer) && c.req.header('x-forwarded-for')) {
      warned = true;
      options.warn('requests come through a proxy (X-Forwarded-For) but TRUST_PROXY is not set: every customer behind it counts as one client');
    }
    if (!limiters) return next();
    const blocked = limiters.refusals.check(client);
    if (!blocked.allowed) return refuse(c, client, 'client_refusals', blocked.retryAfterMs);
    if (c.req.method === 'POST' && c.req.path === '/api/conversations') {
      const own = limiters.conversations.take(client);
      if (!own.allowed) return refuse(c, client, 'client_conversations', own.retryAfterMs);
      const all = limiters.global.take('all');
      if (!all.allowed) return refuse(c, client, 'global_conversations', all.retryAfterMs);
    } else if (c.req.method === 'POST' && /^\/api\/conversations\/[^/]+\/(messages|files|contact)$/.test(c.req.path)) {
      const own = limiters.messages.take(client);
      if (!own.allowed) return refuse(c, client, 'client_messages', own.retryAfterMs);
    }
    await next();
    if (c.res.status === 401 || c.res.status === 403) limiters.refusals.add(client);
  };
}
