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
      // Built by concatenation, without arrays of entries: every turn appended encodes its content.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          out += `${i > 0 ? ',' : ''}${toCanonicalJson(item === undefined ? null : item)}`;
        }
        return `${out}]`;
      }
      // sort() without a comparator orders strings by UTF-16 code units, as RFC 8785 asks.
      const keys = Object.keys(value).sort();
      let out = '{';
      for (const key of keys) {
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined) continue;
        out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${toCanonicalJson(item)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode ${typeof value}`);
  }
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

/**
 * Equality of two JSON values (as JSON.parse produces them): equal exactly when their canonical
 * encodings are equal, without encoding them.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let count = 0;
  for (const key in x) {
    if (x[key] === undefined) continue;
    if (!Object.hasOwn(y, key) || !jsonEqual(x[key], y[key])) return false;
    count += 1;
  }
  for (const key in y) if (y[key] !== undefined) count -= 1;
  return count === 0;
}
