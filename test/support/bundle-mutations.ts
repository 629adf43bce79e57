import { toCanonicalJson } from '../../src/core/index.js';

/** One altered copy of a bundle: where the change is, what was there and what is there now. */
export interface Mutation {
  path: string;
  before: unknown;
  after: unknown;
  bundle: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Base64 of UTF-8 JSON (entry headers, turn contents): its own leaves are walked too. */
function decodeNested(text: string): Json | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  try {
    const value = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Json;
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Different values of the same type: a character changed in the middle and at the end, one appended; n ± 1; a flipped boolean. */
function variants(value: Json): Json[] {
  if (typeof value === 'boolean') return [!value];
  if (typeof value === 'number') return value > 0 ? [value + 1, value - 1] : [value + 1];
  if (typeof value !== 'string') return [];
  const chars = [...value];
  const swap = (c: string | undefined) => (c === 'A' ? 'B' : c === '到' ? '已' : 'A');
  const at = (i: number) => chars.map((c, j) => (j === i ? swap(c) : c)).join('');
  if (chars.length === 0) return ['A'];
  const out = [at(Math.floor(chars.length / 2)), at(chars.length - 1), `${value}A`];
  return [...new Set(out)].filter((v) => v !== value);
}

/**
 * Every single-leaf alteration of a JSON document: each string, number and boolean, at any depth,
 * including the leaves of JSON carried base64-encoded inside a string (re-encoded canonically,
 * as a forger who knows the format would).
 */
export function* leafMutations(document: unknown): Generator<Mutation> {
  function* walk(value: Json, path: string, rebuild: (v: Json) => unknown): Generator<Mutation> {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) yield* walk(value[i] as Json, `${path}[${i}]`, (v) => rebuild(value.map((x, j) => (j === i ? v : x))));
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) yield* walk(value[key] as Json, path ? `${path}.${key}` : key, (v) => rebuild({ ...value, [key]: v }));
      return;
    }
    for (const after of variants(value)) yield { path, before: value, after, bundle: rebuild(after) };
    if (typeof value === 'string') {
      const nested = decodeNested(value);
      if (nested !== undefined) {
        yield* walk(nested, `${path}⟨decoded⟩`, (v) => rebuild(Buffer.from(toCanonicalJson(v), 'utf8').toString('base64')));
      }
    }
  }
  yield* walk(structuredClone(document) as Json, '', (v) => v);
}
