/**
 * Canonical JSON (the RFC 8785 subset this log needs): object keys sorted by UTF-16 code units, no
 * whitespace, numbers and strings serialized as ECMAScript does. The log stores the exact bytes it
 * hashed, so this is only used to produce them once and to check that stored bytes are canonical.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function toCanonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => toCanonicalJson(v === undefined ? null : v)).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${toCanonicalJson(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode ${typeof value}`);
  }
}

/** UTF-8 bytes of the canonical JSON of a value. */
export function toCanonicalBytes(value: unknown): Buffer {
  return Buffer.from(toCanonicalJson(value), 'utf8');
}

function keysSorted(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(keysSorted);
  let previous: string | undefined;
  for (const key of Object.keys(value)) {
    if (previous !== undefined && !(previous < key)) return false;
    if (!keysSorted((value as Record<string, unknown>)[key])) return false;
    previous = key;
  }
  return true;
}

/**
 * Is `text` exactly the canonical JSON of `value` (= JSON.parse(text))? JSON.parse keeps key
 * order, so native JSON.stringify reproduces the text iff it has no whitespace and canonical
 * escapes and numbers; the keys must then also be sorted. Much faster than re-encoding.
 */
export function isCanonicalJsonText(value: unknown, text: string): boolean {
  return JSON.stringify(value) === text && keysSorted(value);
}
