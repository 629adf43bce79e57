import type { AttachmentType, CustomerMessage, ScreenedText, ScreeningReport, TurnAttachment } from '../model.js';
import { maskSecrets, SECRET_MARKERS, type SecretType } from './detect-secrets.js';
import { normalizeInput } from './normalize-input.js';

/** A file as a channel received it: its ids, and what the customer's client said about it (unscreened). */
export interface RawAttachment {
  type: AttachmentType;
  fileId: string | null;
  fileUniqueId?: string;
  fileSize?: number;
  fileName?: string;
  mimeType?: string;
}

/** A customer's input as a channel received it, before the firewall: any string may hold a secret. */
export interface RawCustomerMessage {
  text?: string;
  attachments?: RawAttachment[];
}

/**
 * Text beyond the cut that is still screened: a secret that straddles the cut (at most a few
 * hundred characters: a 24-word phrase with its numbering, a 64-byte key as a JSON array) is seen
 * whole and removed before the cut, and nothing further is looked at, whatever the text's length.
 */
export const SCREEN_MARGIN_CHARS = 1024;
/** How much of the previous customer message is read again with the next one (24 words with gaps). */
export const PREVIOUS_TAIL_CHARS = 400;
const MAX_FILE_NAME_CHARS = 255;
const MAX_HANDLE_CHARS = 64;
const CHANNEL_ID = /^[A-Za-z0-9_-]{1,256}$/;
const MIME_TYPE = /^[A-Za-z0-9][\w.+-]{0,63}\/[\w.+-]{1,63}$/;
const ATTACHMENT_TYPES: readonly AttachmentType[] = ['photo', 'document', 'sticker', 'voice', 'audio', 'video', 'video_note', 'animation', 'other'];
const MARKERS = Object.values(SECRET_MARKERS);

/** The one place raw text becomes ScreenedText: only after masking, in screenField and continueFrom. */
const asScreened = (text: string) => text as ScreenedText;

type StringKeys<T> = { [K in keyof T]-?: NonNullable<T[K]> extends string ? K : never }[keyof T];
type UnscreenedKeys<T, Exempt extends keyof T> = {
  [K in Exclude<StringKeys<T>, Exempt>]-?: NonNullable<T[K]> extends ScreenedText ? never : K;
}[Exclude<StringKeys<T>, Exempt>];
/**
 * Compile-time guard: every text field of a stored attachment and of a customer message is
 * ScreenedText, except the channel's own ids and the kind. A new text field typed `string` fails
 * the type check here, so it cannot carry customer text past the firewall.
 */
export const FIELDS_ARE_SCREENED: [UnscreenedKeys<TurnAttachment, 'type' | 'fileId' | 'fileUniqueId'> | UnscreenedKeys<CustomerMessage, never>] extends [never]
  ? true
  : never = true;

interface ScreenedField {
  text: ScreenedText;
  types: SecretType[];
  count: number;
  truncated: boolean;
  originalLength: number;
}

/** Cuts a masked text to `maxChars` characters, never inside a surrogate pair nor inside a marker. */
function cutAt(text: string, maxChars: number): { text: string; truncated: boolean } {
  const chars = Array.from(text);
  if (chars.length <= maxChars) return { text, truncated: false };
  let kept = chars.slice(0, maxChars).join('');
  const rest = text.slice(kept.length);
  for (const marker of MARKERS) {
    for (let k = 1; k < marker.length; k++) {
      if (kept.endsWith(marker.slice(0, k)) && rest.startsWith(marker.slice(k))) {
        kept = kept.slice(0, kept.length - k);
        break;
      }
    }
  }
  return { text: kept, truncated: true };
}

/**
 * Normalizes, bounds, masks and cuts one piece of customer text. Only `maxChars` plus a margin is
 * ever screened (the rest is cut off anyway), so the cost is bounded whatever arrives; masking
 * happens before the cut, so a cut cannot expose half a secret.
 */
function screenField(raw: string, maxChars: number): ScreenedField {
  const normalized = normalizeInput(raw, maxChars + SCREEN_MARGIN_CHARS);
  const masked = maskSecrets(normalized.text);
  const cut = cutAt(masked.text, maxChars);
  return {
    text: asScreened(cut.text.trim()),
    types: masked.types,
    count: masked.count,
    truncated: normalized.truncated || cut.truncated,
    originalLength: normalized.originalLength,
  };
}

const union = (a: readonly SecretType[], b: readonly SecretType[]) => [...new Set([...a, ...b])];

function screenAttachment(raw: RawAttachment, found: ScreenedField[]): TurnAttachment {
  const text = (value: string | undefined, max: number) => {
    if (value === undefined) return undefined;
    const field = screenField(value, max);
    found.push(field);
    return field.text || undefined;
  };
  const fileName = text(raw.fileName, MAX_FILE_NAME_CHARS);
  // A declared type that is not a MIME type is the customer's text, not a type: dropped.
  const mimeType = raw.mimeType !== undefined && MIME_TYPE.test(raw.mimeType) ? text(raw.mimeType, 127) : undefined;
  const fileUniqueId = raw.fileUniqueId !== undefined && CHANNEL_ID.test(raw.fileUniqueId) ? raw.fileUniqueId : undefined;
  return {
    type: ATTACHMENT_TYPES.includes(raw.type) ? raw.type : 'other',
    fileId: raw.fileId !== null && CHANNEL_ID.test(raw.fileId) ? raw.fileId : null,
    ...(fileUniqueId ? { fileUniqueId } : {}),
    ...(fileName ? { fileName } : {}),
    ...(mimeType ? { mimeType } : {}),
    ...(Number.isSafeInteger(raw.fileSize) && (raw.fileSize as number) >= 0 ? { fileSize: raw.fileSize as number } : {}),
  };
}

/** The text with the firewall's markers taken out: what the customer wrote apart from the secrets. */
export function withoutMarkers(text: string): string {
  let rest = text;
  for (const marker of MARKERS) rest = rest.split(marker).join(' ');
  return rest.replace(/[ \t]{2,}/g, ' ').trim();
}

/**
 * The inbound secret firewall. `screen` is the only way to make a CustomerMessage (and, with
 * `screenName`, ScreenedText): every text-bearing field of what a customer sends goes through it
 * before anything stores, logs, embeds, forwards or sends it to a model.
 */
export function createFirewall(settings: { maxMessageChars: number }) {
  const { maxMessageChars } = settings;

  function toMessage(text: ScreenedField, attachments: TurnAttachment[], others: ScreenedField[], acrossMessages = false): CustomerMessage {
    const screening: ScreeningReport = {
      secretTypes: [text, ...others].reduce<SecretType[]>((all, f) => union(all, f.types), []),
      secretCount: [text, ...others].reduce((sum, f) => sum + f.count, 0),
      truncated: text.truncated,
      originalLength: text.originalLength,
      acrossMessages,
    };
    return { text: text.text, attachments, screening };
  }

  function screen(raw: RawCustomerMessage): CustomerMessage {
    const found: ScreenedField[] = [];
    const attachments = (raw.attachments ?? []).map((a) => screenAttachment(a, found));
    return toMessage(screenField(raw.text ?? '', maxMessageChars), attachments, found);
  }

  return {
    screen,

    /** A name or handle the customer chose (Telegram's username or display name), screened and short. */
    screenName(raw: string | null | undefined): ScreenedText | null {
      if (!raw) return null;
      return screenField(raw, MAX_HANDLE_CHARS).text || null;
    },

    /**
     * The firewall's second look, with the end of the customer's previous message (as stored,
     * screened): a phrase split over the two is found, and its part in this message removed. The
     * part in the previous message was stored with it (fewer than 12 words, which alone are not
     * recognizable as a phrase); the report says so (`acrossMessages`).
     */
    continueFrom(message: CustomerMessage, previous: string | undefined): CustomerMessage {
      if (!previous || !message.text) return message;
      const masked = maskSecrets(message.text, { before: previous.slice(-PREVIOUS_TAIL_CHARS) });
      if (masked.count === 0) return message;
      return {
        text: asScreened(masked.text.trim()),
        attachments: message.attachments,
        screening: {
          ...message.screening,
          secretTypes: union(message.screening.secretTypes, masked.types),
          secretCount: message.screening.secretCount + masked.count,
          acrossMessages: true,
        },
      };
    },

    /**
     * A CustomerMessage read back from where a channel kept it (as JSON, e.g. a durable inbox):
     * screened again (screening is idempotent: markers are not secrets) and merged with the report
     * it was stored with. Undefined when it does not have the shape of one.
     */
    revive(stored: unknown): CustomerMessage | undefined {
      if (typeof stored !== 'object' || stored === null) return undefined;
      const s = stored as { text?: unknown; attachments?: unknown; screening?: Partial<ScreeningReport> };
      if (typeof s.text !== 'string' || !Array.isArray(s.attachments)) return undefined;
      const again = screen({ text: s.text, attachments: s.attachments as RawAttachment[] });
      const before = s.screening ?? {};
      const types = Array.isArray(before.secretTypes) ? before.secretTypes.filter((t): t is SecretType => t in SECRET_MARKERS) : [];
      return {
        ...again,
        screening: {
          secretTypes: union(types, again.screening.secretTypes),
          secretCount: (Number.isSafeInteger(before.secretCount) ? (before.secretCount as number) : 0) + again.screening.secretCount,
          truncated: before.truncated === true || again.screening.truncated,
          originalLength: Number.isSafeInteger(before.originalLength) ? (before.originalLength as number) : again.screening.originalLength,
          acrossMessages: before.acrossMessages === true,
        },
      };
    },
  };
}

export type Firewall = ReturnType<typeof createFirewall>;
