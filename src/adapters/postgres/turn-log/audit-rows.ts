import type { AuditEntry } from '../../../core/audit/verify-log.js';
import { type Run, statement } from '../db/statement.js';

/** Unwraps a conversation's stored content key (see content-keys.ts). */
export type UnwrapKey = (wrapped: Uint8Array, conversationId: string) => Uint8Array;

/** Conversation keys already read by one audit (null: none stored), bounded in size. */
export type AuditKeyCache = Map<string, Uint8Array | null>;
const KEY_CACHE_LIMIT = 100_000;

// Byte columns travel as base64: node-postgres decodes bytea from hex, which costs more per row.
/**
 * A turn row's plain metadata columns as one object without its null members (AuditEntry
 * turnRow.meta); NULL, read as no metadata, when every column is null, as for most turns: no
 * object is built on either side for them.
 */
const ROW_META = `CASE WHEN num_nonnulls(t.rating, t.action, t.handoff, t.agent_id, t.agent_name, t.cites) > 0
    THEN jsonb_strip_nulls(jsonb_build_object('rating', t.rating, 'action', t.action, 'handoff', t.handoff, 'agent', t.agent_id, 'agentName', t.agent_name, 'cites', to_jsonb(t.cites))) END`;

const SELECT_ENTRIES = `SELECT e.idx, encode(e.leaf_hash, 'base64') AS leaf_hash, encode(e.header, 'base64') AS header, e.kind,
    e.conversation_id, e.seq, encode(c.sealed, 'base64') AS sealed, t.text, t.data, t.escalation_detail,
    ${ROW_META} AS meta
  FROM log_entry e
  LEFT JOIN turn_content c ON e.kind = 'turn' AND c.conversation_id = e.conversation_id AND c.seq = e.seq
  LEFT JOIN turn t ON e.kind = 'turn' AND t.conversation_id = e.conversation_id AND t.seq = e.seq`;

type AuditRow = {
  idx: string | number;
  leaf_hash: string;
  header: string;
  kind: string;
  conversation_id: string;
  seq: number | null;
  sealed: string | null;
  text: string | null;
  data: unknown;
  escalation_detail: string | null;
  meta: unknown;
};

const ENTRIES_AFTER = statement<{ after_idx: number; limit: number }, AuditRow>(`${SELECT_ENTRIES} WHERE e.idx > :after_idx ORDER BY e.idx LIMIT :limit`);
const ENTRIES_BETWEEN = statement<{ from: number; to: number }, AuditRow>(`${SELECT_ENTRIES} WHERE e.idx >= :from AND e.idx < :to ORDER BY e.idx`);
const KEYS = statement<{ ids: string }, { conversation_id: string; key: Uint8Array }>(
  `SELECT conversation_id, key FROM conversation_key WHERE conversation_id = ANY(string_to_array(:ids, ',')::uuid[])`,
);

/**
 * Stored log entries with what the audit needs about each turn (its sealed content, the
 * conversation's key, the turn row): the entries after `afterIdx` (at most `limit`), or those with
 * `from <= idx < to`. Plain SQL text, no query builder: the audit reads every row, and worker
 * threads run it on a bare node-postgres client (drizzle would double their start-up time). Keys
 * are read once per conversation (`keys` keeps them between pages) rather than joined to every turn.
 */
export async function auditRows(
  run: Run,
  range: { afterIdx: number; limit: number } | { from: number; to: number },
  unwrap: UnwrapKey,
  keys: AuditKeyCache = new Map(),
): Promise<AuditEntry[]> {
  const rows =
    'afterIdx' in range
      ? await run(ENTRIES_AFTER, { after_idx: range.afterIdx, limit: range.limit })
      : await run(ENTRIES_BETWEEN, { from: range.from, to: range.to });
  const pageKeys = await readKeys(
    run,
    rows.filter((r) => r.sealed).map((r) => r.conversation_id),
    keys,
    unwrap,
  );
  // turn.text is NOT NULL: a null text means no turn row.
  return rows.map((r) => ({
    idx: Number(r.idx),
    leafHash: Buffer.from(r.leaf_hash, 'base64'),
    header: Buffer.from(r.header, 'base64'),
    kind: r.kind,
    conversationId: r.conversation_id,
    seq: r.seq,
    sealed: r.sealed === null ? null : Buffer.from(r.sealed, 'base64'),
    key: r.sealed ? (pageKeys.get(r.conversation_id) ?? null) : null,
    turnRow:
      r.text === null
        ? null
        : {
            text: r.text,
            data: typeof r.data === 'string' ? JSON.parse(r.data) : r.data,
            escalationDetail: r.escalation_detail,
            meta: typeof r.meta === 'string' ? JSON.parse(r.meta) : r.meta,
          },
  }));
}

/**
 * The keys of these conversations (null: none stored), from `keys` or read into it. The answer is
 * the page's own: another page running meanwhile may clear `keys` when it is full.
 */
async function readKeys(run: Run, conversationIds: Iterable<string>, keys: AuditKeyCache, unwrap: UnwrapKey): Promise<Map<string, Uint8Array | null>> {
  const page = new Map<string, Uint8Array | null>();
  const unknown = new Set<string>();
  for (const id of conversationIds) {
    const key = keys.get(id);
    if (key !== undefined) page.set(id, key);
    else unknown.add(id);
  }
  if (unknown.size === 0) return page;
  if (keys.size + unknown.size > KEY_CACHE_LIMIT) keys.clear();
  const found = await run(KEYS, { ids: [...unknown].join(',') });
  for (const id of unknown) page.set(id, null);
  // A key that does not unwrap (altered, or under a master key not known here) counts as absent:
  // the audit then reports the turns it would open as content missing without an erasure.
  for (const k of found) {
    try {
      page.set(k.conversation_id, unwrap(k.key, k.conversation_id));
    } catch {
      page.set(k.conversation_id, null);
    }
  }
  for (const id of unknown) keys.set(id, page.get(id) ?? null);
  return page;
}

/** Runs `COPY (…) TO STDOUT (FORMAT binary)` and returns all its data, in one buffer. */
export type RunCopy = (text: string) => Promise<Buffer>;

// The same columns as SELECT_ENTRIES, unencoded: in COPY's binary format bytea comes as its bytes.
const COPY_COLUMNS = 11;
const selectCopied = (from: number, to: number) =>
  `COPY (SELECT e.idx, e.leaf_hash, e.header, e.kind, e.conversation_id::text, e.seq, c.sealed, t.text, t.data, t.escalation_detail, ${ROW_META}
  FROM log_entry e
  LEFT JOIN turn_content c ON e.kind = 'turn' AND c.conversation_id = e.conversation_id AND c.seq = e.seq
  LEFT JOIN turn t ON e.kind = 'turn' AND t.conversation_id = e.conversation_id AND t.seq = e.seq
  WHERE e.idx >= ${from} AND e.idx < ${to} ORDER BY e.idx) TO STDOUT (FORMAT binary)`;

const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** One page read through COPY: its entries are parsed one at a time, when asked for. */
export interface CopiedRows {
  count: number;
  /** Entry `i` (0 <= i < count); its byte fields are views of the page's buffer. */
  entry(i: number): AuditEntry;
}

/**
 * What `auditRows` reads for `from <= idx < to`, through COPY in binary: no row objects and no
 * text encoding of bytes on either side, which was most of what reading cost a worker thread.
 * Entries are parsed only when asked for, so that a page's entries need not all live at once
 * (they die young instead of being copied by the garbage collector).
 */
export async function copiedAuditRows(
  run: Run,
  copy: RunCopy,
  range: { from: number; to: number },
  unwrap: UnwrapKey,
  keys: AuditKeyCache = new Map(),
): Promise<CopiedRows> {
  if (!Number.isSafeInteger(range.from) || !Number.isSafeInteger(range.to)) throw new Error('audit range bounds must be safe integers');
  const b = await copy(selectCopied(range.from, range.to));
  if (b.length < 19 || !b.subarray(0, 11).equals(COPY_SIGNATURE)) throw new Error('COPY output is not in binary format');
  // First pass: where each row starts, and the conversations whose keys are needed.
  let starts = new Int32Array(1024);
  let count = 0;
  const keyed = new Set<string>();
  let o = 19 + b.readUInt32BE(15);
  for (;;) {
    const columns = b.readInt16BE(o);
    if (columns === -1) break;
    if (columns !== COPY_COLUMNS) throw new Error(`COPY row has ${columns} columns`);
    if (count === starts.length) {
      const grown = new Int32Array(2 * starts.length);
      grown.set(starts);
      starts = grown;
    }
    starts[count++] = o;
    o += 2;
    let conversation = 0;
    for (let f = 0; f < COPY_COLUMNS; f++) {
      const n = b.readInt32BE(o);
      o += 4;
      if (f === 4) conversation = o - 4;
      // Column 6 is the sealed content: a key is read for non-empty content only.
      if (f === 6 && n > 0) keyed.add(b.toString('latin1', conversation + 4, conversation + 4 + b.readInt32BE(conversation)));
      if (n > 0) o += n;
    }
    if (o > b.length) throw new Error('COPY output is truncated');
  }
  const pageKeys = await readKeys(run, keyed, keys, unwrap);
  return {
    count,
    entry(i: number): AuditEntry {
      if (!(i >= 0 && i < count)) throw new RangeError(`no copied row ${i}`);
      return parseCopiedRow(b, (starts[i] as number) + 2, pageKeys);
    },
  };
}

// The parser's position in the page being parsed (module state rather than closures: tsx names
// every closure it creates, which costs more than the parsing).
let at = 0;

/** The next field's length (-1 for NULL); `at` is then at its bytes. */
function field(b: Buffer): number {
  const n = b.readInt32BE(at);
  at += 4;
  return n;
}

function bytes(b: Buffer, n: number): Buffer {
  if (n < 0) throw new Error('COPY row with an unexpected NULL');
  const start = at;
  at += n;
  return b.subarray(start, at);
}

function text(b: Buffer, n: number): string {
  if (n < 0) throw new Error('COPY row with an unexpected NULL');
  const start = at;
  at += n;
  return b.toString('utf8', start, at);
}

/** A binary jsonb field: its version byte (1), then the JSON text. */
function jsonb(b: Buffer, n: number): unknown {
  if (n < 1 || b[at] !== 1) throw new Error('COPY row with an unknown jsonb format');
  at += 1;
  return JSON.parse(text(b, n - 1));
}

function parseCopiedRow(b: Buffer, start: number, keys: Map<string, Uint8Array | null>): AuditEntry {
  at = start;
  if (field(b) !== 8) throw new Error('COPY row without an index');
  const idx = b.readInt32BE(at) * 4294967296 + b.readUInt32BE(at + 4);
  at += 8;
  const leafHash = bytes(b, field(b));
  const header = bytes(b, field(b));
  const kind = text(b, field(b));
  const conversationId = text(b, field(b));
  let n = field(b);
  let seq: number | null = null;
  if (n === 4) {
    seq = b.readInt32BE(at);
    at += 4;
  } else if (n !== -1) throw new Error('COPY row with a malformed seq');
  n = field(b);
  const sealed = n === -1 ? null : bytes(b, n);
  // turn.text is NOT NULL: a null text means no turn row.
  n = field(b);
  const rowText = n === -1 ? null : text(b, n);
  n = field(b);
  const data = n === -1 ? null : jsonb(b, n);
  n = field(b);
  const escalationDetail = n === -1 ? null : text(b, n);
  n = field(b);
  const meta = n === -1 ? null : jsonb(b, n);
  return {
    idx,
    leafHash,
    header,
    kind,
    conversationId,
    seq,
    sealed,
    key: sealed && sealed.length > 0 ? (keys.get(conversationId) ?? null) : null,
    turnRow: rowText === null ? null : { text: rowText, data, escalationDetail, meta },
  };
}
