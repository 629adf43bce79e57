export interface NormalizedInput {
  text: string;
  /** Characters beyond the limit were cut off (the customer is told). */
  truncated: boolean;
  /** Length of the text before truncation, in characters (code points). */
  originalLength: number;
}

// C0 controls except tab and line feed, DEL, C1 controls.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
// Bidirectional overrides and isolates (used to disguise links and handles), invisible spaces and
// the byte-order mark. Zero-width (non-)joiners stay: emoji and some scripts need them.
const INVISIBLE = /[\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff\u00ad]/g;
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Makes a customer text safe to process and store: invalid Unicode (lone surrogates) becomes U+FFFD,
 * control and invisible formatting characters go, line breaks become \n, the text is NFC-normalized,
 * and anything beyond `maxChars` characters is cut off (never at half a character).
 */
export function normalizeInput(raw: string, maxChars: number): NormalizedInput {
  const cleaned = raw.replace(LONE_SURROGATE, '\ufffd').replace(/\r\n?/g, '\n').replace(CONTROL, '').replace(INVISIBLE, '').normalize('NFC');
  const chars = Array.from(cleaned);
  if (chars.length <= maxChars) return { text: cleaned, truncated: false, originalLength: chars.length };
  return { text: chars.slice(0, maxChars).join(''), truncated: true, originalLength: chars.length };
}

/**
 * A JSON value whose strings PostgreSQL's jsonb can store: U+0000 and lone surrogates (which jsonb
 * rejects, making a raw channel payload unstorable forever) become U+FFFD. For adapters that keep
 * raw payloads (e.g. a webhook inbox).
 */
export function toStorableJson<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/\u0000/g, '\ufffd').replace(LONE_SURROGATE, '\ufffd') as T;
  if (Array.isArray(value)) return value.map((v) => toStorableJson(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [toStorableJson(k), toStorableJson(v)])) as T;
  }
  return value;
}
