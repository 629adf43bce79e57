import { type Context, Hono } from 'hono';

/** What the proof endpoints need from the turn log's storage (the PostgreSQL turn log provides it). */
export interface LogProofSource {
  head(): Promise<{ size: number; root: Buffer }>;
  /** RFC 9162 inclusion proof of entry `index` in the tree of `size` entries. */
  inclusionProof(index: number, size: number): Promise<Buffer[]>;
  /** RFC 9162 consistency proof between the trees of `first` and `second` entries. */
  consistencyProof(first: number, second: number): Promise<Buffer[]>;
  /** The stored entry at `idx` (its leaf hash), if any. */
  entry(idx: number): Promise<{ leafHash: Buffer } | undefined>;
}

const PUBLIC = { 'cache-control': 'no-store', 'access-control-allow-origin': '*' };

type Parsed = { ok: true; value: number } | { ok: false; message: string };

/** A decimal tree size or index: digits only, no sign, exponent or fraction, a safe integer. */
function integerParam(c: Context, name: string): Parsed {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return { ok: false, message: `${name} is required (a whole number)` };
  if (!/^[0-9]{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw)))
    return { ok: false, message: `${name} must be a whole number ≥ 0 (got ${JSON.stringify(raw.slice(0, 40))})` };
  return { ok: true, value: Number(raw) };
}

const bad = (c: Context, message: string) => c.json({ error: { code: 'invalid_request', message } }, 400, PUBLIC);

/**
 * Public RFC 6962 / RFC 9162 proofs over the turn log, hashes in base64:
 * - GET /log/consistency?first=M&second=N: the tree of M entries is a prefix of the tree of N
 *   (check with two signed checkpoints of sizes M and N);
 * - GET /log/inclusion?index=I&size=N: entry I is in the tree of N entries.
 * Sizes may not exceed the log's current size.
 */
export function createLogProofRoutes(deps: { log: LogProofSource }) {
  const app = new Hono();

  app.get('/log/consistency', async (c) => {
    const first = integerParam(c, 'first');
    if (!first.ok) return bad(c, first.message);
    const second = integerParam(c, 'second');
    if (!second.ok) return bad(c, second.message);
    if (first.value > second.value) return bad(c, `first (${first.value}) must not be larger than second (${second.value})`);
    const { size } = await deps.log.head();
    if (second.value > size) return bad(c, `second (${second.value}) is beyond the log, which has ${size} entries`);
    const proof = await deps.log.consistencyProof(first.value, second.value);
    return c.json({ first: first.value, second: second.value, proof: proof.map((h) => h.toString('base64')) }, 200, PUBLIC);
  });

  app.get('/log/inclusion', async (c) => {
    const index = integerParam(c, 'index');
    if (!index.ok) return bad(c, index.message);
    const size = integerParam(c, 'size');
    if (!size.ok) return bad(c, size.message);
    if (index.value >= size.value) return bad(c, `index (${index.value}) must be smaller than size (${size.value})`);
    const head = await deps.log.head();
    if (size.value > head.size) return bad(c, `size (${size.value}) is beyond the log, which has ${head.size} entries`);
    const entry = await deps.log.entry(index.value);
    if (!entry) return c.json({ error: { code: 'not_found', message: `entry ${index.value} is missing from the log` } }, 404, PUBLIC);
    const proof = await deps.log.inclusionProof(index.value, size.value);
    return c.json(
      { index: index.value, size: size.value, leafHash: entry.leafHash.toString('base64'), proof: proof.map((h) => h.toString('base64')) },
      200,
      PUBLIC,
    );
  });

  return app;
}
