/**
 * The exchange's official channels and the check "is this handle / link / address / number ours?".
 * Pure: the allowlist comes from configuration (and, for links the bot may mention, the knowledge
 * base); nothing here reads the environment.
 */

export type ChannelKind = 'telegram' | 'url' | 'email' | 'phone' | 'unknown';

/** Official channels as configured. Values are written as an admin would write them. */
export interface OfficialChannelsInput {
  /** Websites: origins or URL prefixes, e.g. https://www.examplex.example */
  urls: string[];
  /** Telegram handles, with or without @. */
  telegramHandles: string[];
  emails: string[];
  /** Phone numbers in any notation; compared by their digits. */
  phones: string[];
}

/** The normalized allowlist. `extraUrls` are links the knowledge base cites: mentionable, not "official". */
export interface OfficialAllowlist {
  hosts: string[];
  urls: string[];
  telegramHandles: string[];
  emails: string[];
  phones: string[];
  extraUrls: string[];
  /** As configured, for display ("our official channels are …"). */
  display: { urls: string[]; telegramHandles: string[]; emails: string[]; phones: string[] };
}

export interface OfficialChannelCheck {
  official: boolean;
  kind: ChannelKind;
  /** The input as compared: lowercase handle with @, URL host (+ path), e-mail, digits of a phone. */
  normalized: string;
  /** The official channel it matched, as configured. */
  matched?: string;
  /** Not official, but imitates this official channel (a lookalike, e.g. an extra letter or a 0 for an o). */
  imitates?: string;
}

const TELEGRAM_HOSTS = new Set(['t.me', 'telegram.me', 'telegram.dog']);

export function toHandle(value: string): string {
  return `@${value.trim().replace(/^@+/, '').toLowerCase()}`;
}

export function toPhoneDigits(value: string): string {
  return value.replace(/[^\d]/g, '');
}

function toUrl(value: string): URL | undefined {
  const trimmed = value.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  try {
    const url = new URL(withScheme);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    if (!url.hostname.includes('.')) return undefined;
    return url;
  } catch {
    return undefined;
  }
}

/** host + path without a trailing slash, lowercase host: the form URLs are compared in. */
function toUrlKey(url: URL): string {
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.hostname.toLowerCase().replace(/\.$/, '')}${path}`;
}

export function createOfficialAllowlist(input: OfficialChannelsInput, knowledgeLinks: string[] = []): OfficialAllowlist {
  const urls = input.urls.map(toUrl).filter((u): u is URL => u !== undefined);
  return {
    hosts: [...new Set(urls.filter((u) => u.pathname === '/' || u.pathname === '').map((u) => u.hostname.toLowerCase()))],
    urls: [...new Set(urls.map(toUrlKey))],
    telegramHandles: [...new Set(input.telegramHandles.filter((h) => h.trim()).map(toHandle))],
    emails: [...new Set(input.emails.map((e) => e.trim().toLowerCase()).filter(Boolean))],
    phones: [...new Set(input.phones.map(toPhoneDigits).filter((d) => d.length >= 5))],
    extraUrls: [
      ...new Set(
        knowledgeLinks
          .map(toUrl)
          .filter((u): u is URL => u !== undefined)
          .map(toUrlKey),
      ),
    ],
    display: {
      urls: input.urls.map((u) => u.trim()).filter(Boolean),
      telegramHandles: input.telegramHandles.map((h) => `@${h.trim().replace(/^@+/, '')}`).filter((h) => h.length > 1),
      emails: input.emails.map((e) => e.trim()).filter(Boolean),
      phones: input.phones.map((p) => p.trim()).filter(Boolean),
    },
  };
}

/** The same allowlist plus links the knowledge base cites (mentionable by the bot, not "official"). */
export function withKnowledgeLinks(allowlist: OfficialAllowlist, links: string[]): OfficialAllowlist {
  const extra = links
    .map(toUrl)
    .filter((u): u is URL => u !== undefined)
    .map(toUrlKey);
  return { ...allowlist, extraUrls: [...new Set([...allowlist.extraUrls, ...extra])] };
}

function urlIsOfficial(url: URL, allowlist: OfficialAllowlist, includeExtra: boolean): string | undefined {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  // A lookalike can hide in the user-info part (https://examplex.example@evil.example): never official.
  if (url.username || url.password) return undefined;
  if (url.port && url.port !== '443' && url.port !== '80') return undefined;
  if (allowlist.hosts.includes(host)) return host;
  const key = toUrlKey(url);
  const prefixes = includeExtra ? [...allowlist.urls, ...allowlist.extraUrls] : allowlist.urls;
  return prefixes.find((p) => key === p || key.startsWith(`${p}/`));
}

/** Folds characters scammers swap in (0 for o, Cyrillic а for a, rn for m, _ and -) for lookalike detection. */
function toSkeleton(value: string): string {
  const confusable: Record<string, string> = {
    '0': 'o',
    '1': 'l',
    '3': 'e',
    '5': 's',
    '|': 'l',
    i: 'l',
    а: 'a',
    е: 'e',
    о: 'o',
    р: 'p',
    с: 'c',
    у: 'y',
    х: 'x',
    к: 'k',
    м: 'm',
    т: 't',
    н: 'h',
    в: 'b',
    і: 'l',
    ѕ: 's',
  };
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .split('')
    .map((c) => confusable[c] ?? c)
    .join('')
    .replace(/[_\-.\s]/g, '');
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 99;
}

function findImitated(candidate: string, officials: string[]): string | undefined {
  const skeleton = toSkeleton(candidate);
  if (skeleton.length < 4) return undefined;
  for (const official of officials) {
    const target = toSkeleton(official);
    if (skeleton === target || skeleton.includes(target) || editDistance(skeleton, target) <= 2) return official;
  }
  return undefined;
}

/** Recognizes what kind of contact a string is: Telegram handle or link, URL, e-mail, phone. */
export function toContactKind(input: string): { kind: ChannelKind; normalized: string; url?: URL } {
  const value = input
    .normalize('NFKC')
    .trim()
    .replace(/^[<("'`]+|[>)"'`.,;:!?]+$/g, '');
  if (!value) return { kind: 'unknown', normalized: '' };
  if (/^@[A-Za-z0-9_]{3,64}$/.test(value)) return { kind: 'telegram', normalized: toHandle(value) };
  if (/^[^\s@/]+@[^\s@/]+\.[^\s@/]+$/.test(value)) return { kind: 'email', normalized: value.toLowerCase() };
  if (/^\+?[\d\s().-]{7,}$/.test(value) && toPhoneDigits(value).length >= 7) {
    return { kind: 'phone', normalized: toPhoneDigits(value) };
  }
  const url = toUrl(value);
  if (url && /[.]/.test(url.hostname)) {
    const host = url.hostname.toLowerCase();
    if (TELEGRAM_HOSTS.has(host)) {
      const name = url.pathname.split('/').filter(Boolean)[0];
      if (name && /^[A-Za-z0-9_]{3,64}$/.test(name)) return { kind: 'telegram', normalized: toHandle(name), url };
    }
    return { kind: 'url', normalized: toUrlKey(url), url };
  }
  // A bare word of handle characters: most likely a Telegram username typed without @.
  if (/^[A-Za-z][A-Za-z0-9_]{4,64}$/.test(value)) return { kind: 'telegram', normalized: toHandle(value) };
  return { kind: 'unknown', normalized: value.toLowerCase().slice(0, 200) };
}

/**
 * Says whether a handle, link, e-mail address or phone number is an official channel of the
 * exchange, and whether it imitates one. Knowledge-base links do not make something "official".
 */
export function checkOfficialChannel(input: string, allowlist: OfficialAllowlist): OfficialChannelCheck {
  const { kind, normalized, url } = toContactKind(input);
  switch (kind) {
    case 'telegram': {
      const matched = allowlist.display.telegramHandles.find((h) => toHandle(h) === normalized);
      if (matched) return { official: true, kind, normalized, matched };
      const imitates = findImitated(
        normalized.slice(1),
        allowlist.display.telegramHandles.map((h) => h.slice(1)),
      );
      return { official: false, kind, normalized, ...(imitates ? { imitates: `@${imitates}` } : {}) };
    }
    case 'email': {
      const matched = allowlist.display.emails.find((e) => e.toLowerCase() === normalized);
      if (matched) return { official: true, kind, normalized, matched };
      const imitates = findImitated(normalized, allowlist.display.emails);
      return { official: false, kind, normalized, ...(imitates ? { imitates } : {}) };
    }
    case 'phone': {
      const matched = allowlist.display.phones.find((p) => toPhoneDigits(p) === normalized);
      return matched ? { official: true, kind, normalized, matched } : { official: false, kind, normalized };
    }
    case 'url': {
      const hit = url ? urlIsOfficial(url, allowlist, false) : undefined;
      if (hit) {
        const matched = allowlist.display.urls.find((u) => toUrl(u) && toUrlKey(toUrl(u) as URL) === hit) ?? hit;
        return { official: true, kind, normalized, matched };
      }
      const host = url?.hostname.toLowerCase() ?? normalized;
      const officialHosts = allowlist.display.urls.map((u) => toUrl(u)?.hostname.toLowerCase()).filter((h): h is string => h !== undefined);
      const lookalike =
        host.startsWith('xn--') || host.includes('.xn--')
          ? officialHosts[0]
          : officialHosts.find((h) => h !== host && (findImitated(host, [h]) !== undefined || host.includes(h.split('.').slice(-2, -1)[0] ?? '\u0000')));
      return { official: false, kind, normalized, ...(lookalike ? { imitates: lookalike } : {}) };
    }
    default:
      return { official: false, kind, normalized };
  }
}

/** Whether the bot may mention this contact: official, or (URLs) cited by the knowledge base. */
export function isAllowedContact(contact: string, allowlist: OfficialAllowlist): boolean {
  const { kind, normalized, url } = toContactKind(contact);
  if (kind === 'url' && url) return urlIsOfficial(url, allowlist, true) !== undefined;
  if (kind === 'telegram' && url) {
    // A t.me link is allowed when the handle is official.
    return allowlist.telegramHandles.includes(normalized);
  }
  if (kind === 'unknown') return true;
  return checkOfficialChannel(contact, allowlist).official;
}
