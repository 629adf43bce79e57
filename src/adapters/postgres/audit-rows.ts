import type { AuditEntry } from '../../core/audit/verify-log.js';

/** Runs one parameterized statement ($1, $2…) and returns its rows. */
export type RunQuery = <T>(text: string, params: unknown[]) => Promise<T[]>;

/** Conversation keys already read by one audit (null: none stored), bounded in size. */
export type AuditKeyCache = Map<string, Uint8Array | null>;
const KEY_CACHE_LIMIT = 100_000;

// Byte columns travel as base64: node-postgres decodes bytea from hex, which costs more per row.
const SELECT_ENTRIES = `SELECT e.idx, encode(e.leaf_hash, 'base64') AS leaf_hash, encode(e.header, 'base64') AS header, e.kind,
    e.conversation_id, e.seq, encode(c.sealed, 'base64') AS sealed, t.text, t.data, t.escalation_detail
  FROM log_entry e
  LEFT JOIN turn_content c ON e.kind = 'turn' AND c.conversation_id = e.conversation_id AND c.seq = e.seq
  LEFT JOIN turn t ON e.kind = 'turn' AND t.conversation_id = e.conversation_id AND t.seq = e.seq`;

interface AuditRow {
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
}

/**
 * Stored log entries with what the audit needs about each turn (its sealed content, the
 * conversation's key, the turn row): the entries after `afterIdx` (at most `limit`), or those with
 * `from <= idx < to`. Plain SQL text, no query builder: the audit reads every row, and worker
 * threads run it on a bare node-postgres client (drizzle would double their start-up time). Keys
 * are read once per conversation (`keys` keeps them between pages) rather than joined to every turn.
 */
export async function auditRows(
  run: RunQuery,
  range: { afterIdx: number; limit: number } | { from: number; to: number },
  keys: AuditKeyCache = new Map(),
): Promise<AuditEntry[]> {
  const rows =
    'afterIdx' in range
      ? await run<AuditRow>(`${SELECT_ENTRIES} WHERE e.idx > $1 ORDER BY e.idx LIMIT $2`, [range.afterIdx, range.limit])
      : await run<AuditRow>(`${SELECT_ENTRIES} WHERE e.idx >= $1 AND e.idx < $2 ORDER BY e.idx`, [range.from, range.to]);
  const unknown = new Set<string>();
  for (const r of rows) if (r.sealed && !keys.has(r.conversation_id)) unknown.add(r.conversation_id);
  if (unknown.size > 0) {
    if (keys.size + unknown.size > KEY_CACHE_LIMIT) keys.clear();
    const found = await run<{ conversation_id: string; key: Uint8Array }>(
      `SELECT conversation_id, key FROM conversation_key WHERE conversation_id = ANY(string_to_array($1, ',')::uuid[])`,
      [[...unknown].join(',')],
    );
    for (const id of unknown) keys.set(id, null);
    for (const k of found) keys.set(k.conversation_id, k.key);
  }
  // turn.text is NOT NULL: a null text means no turn row.
  return rows.map((r) => ({
    idx: Number(r.idx),
    leafHash: Buffer.from(r.leaf_hash, 'base64'),
    header: Buffer.from(r.header, 'base64'),
    kind: r.kind,
    conversationId: r.conversation_id,
    seq: r.seq,
    sealed: r.sealed === null ? null : Buffer.from(r.sealed, 'base64'),
    key: r.sealed ? (keys.get(r.conversation_id) ?? null) : null,
    turnRow: r.text === null ? null : { text: r.text, data: typeof r.data === 'string' ? JSON.parse(r.data) : r.data, escalationDetail: r.escalation_detail },
  }));
}
