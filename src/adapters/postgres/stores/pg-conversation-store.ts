import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import type {
  AnswerMode,
  AppendOptions,
  AppendResult,
  Channel,
  Conversation,
  ConversationPatch,
  ConversationState,
  ConversationStore,
  EscalationReason,
  Language,
  NewConversation,
  NewTurn,
  Priority,
  Role,
  Turn,
  TurnData,
  TurnKind,
} from '../../../core/index.js';
import {
  expectedRowMeta,
  type Frontier,
  LOG_FORMAT_VERSION,
  newContentKey,
  openContent,
  SEALED_ROW_DATA,
  type TurnContent,
  toTurnEntry,
} from '../../../core/index.js';
import { type ContentKeys, openText, sealText } from '../db/content-keys.js';
import { contentKeysOf, type Db, runStatement, statement } from '../db/database.js';
import { createGroupCommit } from '../db/group-commit.js';
import { chainsFrom, headSet, logAppender, logWrites, openLogAppend, type Tx } from '../turn-log/pg-log-append.js';
import { conversation, conversationKey, turn, turnContent } from '../schema/index.js';

type ConversationRow = typeof conversation.$inferSelect;
/** A turn row without its plain metadata columns, which repeat what its content says (toTurnMeta). */
type TurnRow = Omit<typeof turn.$inferSelect, 'rating' | 'action' | 'handoff' | 'agentId' | 'agentName' | 'cites'>;

const DEFAULT_PAGE = 200;
const UNIQUE_VIOLATION = '23505';

/** A conversation's customer handle is stored sealed (see sealText), bound to the conversation. */
export const handleContext = (conversationId: string) => `handle:${conversationId}`;

/** The one mapping of a conversation row (its handle opened). */
export function toConversation(row: ConversationRow, keys: ContentKeys): Conversation {
  return {
    id: row.id,
    channel: row.channel as Channel,
    externalId: row.externalId,
    language: row.language as Language,
    languageChosen: row.languageChosen,
    state: row.state as ConversationState,
    priority: row.priority as Priority,
    escalationReason: (row.escalationReason as EscalationReason | null) ?? null,
    customerHandle: openText(keys, row.customerHandle, handleContext(row.id)),
    lastSeq: row.lastSeq,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** A turn row as core sees it. */
export function toTurn(row: TurnRow): Turn {
  return {
    conversationId: row.conversationId,
    seq: row.seq,
    role: row.role as Role,
    kind: row.kind as TurnKind,
    text: row.text,
    language: row.language as Language,
    data: row.data as TurnData,
    answerMode: (row.answerMode as AnswerMode | null) ?? null,
    escalation: row.escalationReason
      ? {
          reason: row.escalationReason as EscalationReason,
          priority: (row.escalationPriority ?? 'normal') as Priority,
          detail: row.escalationDetail ?? '',
        }
      : null,
    createdAt: row.createdAt,
  };
}

/**
 * A turn with its content: rows written as SEALED_ROW_DATA keep none, their content is opened from
 * `sealed` with the conversation's key; a row whose key or content is gone (erased) reads as empty.
 * Rows written before content was sealed only keep their content in the row.
 */
function withContent(t: Turn, sealed: Uint8Array | null | undefined, key: Buffer | null): Turn {
  const data = t.data as Record<string, unknown>;
  if (data.sealed !== 1) return t;
  const opened = sealed && key ? openContent(key, t.conversationId, t.seq, sealed) : undefined;
  if (!opened) return { ...t, data: {} };
  const content = JSON.parse(opened.contentBytes.toString('utf8')) as TurnContent;
  return { ...t, text: content.text, data: content.data, escalation: t.escalation ? { ...t.escalation, detail: content.escalationDetail ?? '' } : null };
}

const fromHex = (value: string | null | undefined): Buffer | null => (value ? Buffer.from(value.replace(/^\\x/, ''), 'hex') : null);

/** The content key of a conversation as stored (wrapped), unwrapped; null when none (never written, or erased). */
function unwrapKey(keys: ContentKeys, conversationId: string, wrapped: Uint8Array | null | undefined): Buffer | null {
  return wrapped ? keys.unwrap(wrapped, conversationId) : null;
}

/** A turn as json_agg writes it (column names, timestamps as text). */
interface RawTurn {
  seq: number;
  role: string;
  kind: string;
  text: string;
  language: string;
  data: TurnData;
  answer_mode: string | null;
  escalation_reason: string | null;
  escalation_priority: string | null;
  escalation_detail: string | null;
  created_at: string;
  /** The turn's sealed content (json_agg writes bytea as \\x hex). */
  sealed?: string | null;
}

function fromRawTurn(conversationId: string, t: RawTurn): Turn {
  return toTurn({
    id: 0,
    conversationId,
    seq: t.seq,
    role: t.role,
    kind: t.kind,
    text: t.text,
    language: t.language,
    data: t.data,
    answerMode: t.answer_mode,
    escalationReason: t.escalation_reason,
    escalationPriority: t.escalation_priority,
    escalationDetail: t.escalation_detail,
    externalKey: null,
    createdAt: new Date(t.created_at),
  });
}

/** A turn row from a raw query (column names), without data and created_at. */
function toTurnRowParts(r: Omit<RawTurn, 'data' | 'created_at'> & { conversation_id: string }): Omit<TurnRow, 'data' | 'createdAt'> {
  return {
    id: 0,
    conversationId: r.conversation_id,
    seq: r.seq,
    role: r.role,
    kind: r.kind,
    text: r.text,
    language: r.language,
    answerMode: r.answer_mode,
    escalationReason: r.escalation_reason,
    escalationPriority: r.escalation_priority,
    escalationDetail: r.escalation_detail,
    externalKey: null,
  };
}

function isUniqueViolation(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === UNIQUE_VIOLATION) return true;
  }
  return false;
}

const CONVERSATION_COLUMNS = `id, channel, external_id, token_hash, language, language_chosen, state, priority, escalation_reason,
  customer_handle, last_seq, created_at, updated_at`;

/** The same columns of a conversation aliased `c`. */
const C_COLUMNS = CONVERSATION_COLUMNS.split(',')
  .map((c) => `c.${c.trim()}`)
  .join(', ');

/** A conversation row as a raw statement returns it (column names; timestamps as Date or text). */
interface RawConversation {
  id: string;
  channel: string;
  external_id: string;
  token_hash: string | null;
  language: string;
  language_chosen: boolean;
  state: string;
  priority: string;
  escalation_reason: string | null;
  customer_handle: string | null;
  last_seq: number;
  created_at: Date | string;
  updated_at: Date | string;
}

function fromRawConversation(r: RawConversation): ConversationRow {
  return {
    id: r.id,
    channel: r.channel,
    externalId: r.external_id,
    tokenHash: r.token_hash,
    language: r.language,
    languageChosen: r.language_chosen,
    state: r.state,
    priority: r.priority,
    escalationReason: r.escalation_reason,
    customerHandle: r.customer_handle,
    lastSeq: r.last_seq,
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
    updatedAt: r.updated_at instanceof Date ? r.updated_at : new Date(r.updated_at),
  };
}

/**
 * Conversations opened together, one statement: each input's row, created by this statement
 * (created true) or there before it (false). A row another transaction created meanwhile, or the
 * same conversation twice in one statement, is in neither part: the caller looks it up.
 */
const OPEN_CONVERSATIONS = statement(`WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
      AS i(id, channel, external_id, token_hash, language, customer_handle)),
  ins AS (
    INSERT INTO conversation (id, channel, external_id, token_hash, language, customer_handle)
    SELECT * FROM input
    ON CONFLICT (channel, external_id) DO NOTHING
    RETURNING ${CONVERSATION_COLUMNS})
  SELECT ${CONVERSATION_COLUMNS}, true AS created FROM ins
  UNION ALL
  SELECT ${C_COLUMNS}, false
  FROM conversation c WHERE (c.channel, c.external_id) IN (SELECT channel, external_id FROM input)`);

/**
 * A conversation with its recent turns (json_agg: timestamps as text) and whether any of the
 * external keys ($4) was stored before, in one statement.
 */
const CONTEXT = statement(`SELECT ${C_COLUMNS},
    (SELECT coalesce(json_agg(t ORDER BY t.seq), '[]'::json) FROM (
      SELECT t.seq, t.role, t.kind, t.text, t.language, t.data, t.answer_mode, t.escalation_reason, t.escalation_priority, t.escalation_detail,
        t.created_at, tc.sealed
      FROM turn t LEFT JOIN turn_content tc ON tc.conversation_id = t.conversation_id AND tc.seq = t.seq
      WHERE t.conversation_id = c.id AND t.seq > greatest(0, c.last_seq - $2::integer)
      ORDER BY t.seq LIMIT $3::integer) t) AS recent,
    (SELECT k.key FROM conversation_key k WHERE k.conversation_id = c.id) AS wrapped_key,
    EXISTS (SELECT 1 FROM turn WHERE external_key = ANY($4::text[])) AS keys_seen
  FROM conversation c WHERE c.id = $1::uuid`);

const FIND_BY_EXTERNAL = statement(`SELECT ${CONVERSATION_COLUMNS} FROM conversation WHERE channel = $1::text AND external_id = $2::text`);

/** The batch's conversations ($1), locked in id order (the lock order everywhere: conversations, then the log head). */
const LOCK_CONVERSATIONS_TEXT = `SELECT id FROM conversation WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`;
const LOCK_CONVERSATIONS = statement(LOCK_CONVERSATIONS_TEXT);

/**
 * The rows of a batch as CTEs: the conversations' new state ($1-$8), new content keys ($9-$10),
 * the turns' sealed content and the turns ($11-$24 and their plain metadata, expectedRowMeta, at
 * `metaParam`; `inserted` returns them as stored, in order).
 * `guard` (a condition, or empty) is asked of every row.
 */
function batchWrites(metaParam: number, guard = ''): string {
  const and = guard ? ` AND ${guard}` : '';
  const where = guard ? ` WHERE ${guard}` : '';
  return `updated AS (
    UPDATE conversation AS c SET last_seq = v.last_seq, updated_at = v.updated_at, language = v.language,
      language_chosen = v.language_chosen, state = v.state, priority = v.priority, escalation_reason = v.escalation_reason
    FROM unnest($1::uuid[], $2::integer[], $3::timestamptz[], $4::text[], $5::boolean[], $6::text[], $7::text[], $8::text[])
      AS v(id, last_seq, updated_at, language, language_chosen, state, priority, escalation_reason)
    WHERE c.id = v.id${and}),
  keys AS (INSERT INTO conversation_key (conversation_id, key) SELECT * FROM unnest($9::uuid[], $10::bytea[])${where}),
  content AS (INSERT INTO turn_content (conversation_id, seq, sealed) SELECT * FROM unnest($11::uuid[], $12::integer[], $13::bytea[])${where}),
  inserted AS (
    INSERT INTO turn (conversation_id, seq, role, kind, text, language, data, answer_mode,
      escalation_reason, escalation_priority, escalation_detail, external_key, created_at,
      rating, action, handoff, agent_id, agent_name, cites)
    SELECT t.conversation_id, t.seq, t.role, t.kind, t.text, t.language, t.data, t.answer_mode,
      t.escalation_reason, t.escalation_priority, t.escalation_detail, t.external_key, t.created_at,
      (t.meta->>'rating')::smallint, t.meta->>'action', t.meta->>'handoff', t.meta->>'agent', t.meta->>'agentName',
      CASE WHEN t.meta ? 'cites' THEN ARRAY(SELECT jsonb_array_elements_text(t.meta->'cites')) END
    FROM unnest($11::uuid[], $12::integer[], $14::text[], $15::text[], $16::text[], $17::text[], $18::jsonb[], $19::text[],
      $20::text[], $21::text[], $22::text[], $23::text[], $24::timestamptz[], $${metaParam}::jsonb[]) WITH ORDINALITY
      AS t(conversation_id, seq, role, kind, text, language, data, answer_mode,
        escalation_reason, escalation_priority, escalation_detail, external_key, created_at, meta, ord)${where}
    ORDER BY t.ord
    RETURNING conversation_id, seq, role, kind, text, language, data, answer_mode, escalation_reason, escalation_priority, escalation_detail, created_at)`;
}

/** One statement for the rows of a batch, under the conversations' locks (the turns as stored come back). */
const WRITE_BATCH = statement(`WITH ${batchWrites(25)} SELECT * FROM inserted`);

/**
 * A whole batch in one statement, without a transaction around it: written only if the log head
 * is still at the size this process left it ($38, after locking the $39 conversations in the lock
 * order), else nothing (ok 0). The rows ($1-$24, $40), the log entries ($25-$33) and the head ($34-$37)
 * were computed from the state this process wrote last.
 */
const WRITE_BATCH_IF_HEAD = statement(`WITH locked AS (${LOCK_CONVERSATIONS_TEXT}),
  head AS (
    UPDATE log_head SET ${headSet(34)}
    WHERE id = 1 AND size = $38::bigint AND (SELECT count(*) FROM locked) = $39::integer
    RETURNING 1),
  ${batchWrites(40, 'EXISTS (SELECT 1 FROM head)')},
  ${logWrites(25, 'EXISTS (SELECT 1 FROM head)')}
  SELECT h.ok, i.* FROM (SELECT count(*)::integer AS ok FROM head) h LEFT JOIN inserted i ON true`);

/**
 * Conversations' rows, content keys, chain ends, and the log's size, in one snapshot: for those this
 * process has no state of, or, after their lock (a new statement: a fresh snapshot under READ
 * COMMITTED), as the previous holder of the lock left them.
 */
const CONVERSATION_STATE = statement(`SELECT ${C_COLUMNS}, k.key,
    (SELECT e.leaf_hash FROM log_entry e WHERE e.conversation_id = c.id ORDER BY e.idx DESC LIMIT 1) AS last_leaf,
    (SELECT size FROM log_head WHERE id = 1) AS head_size
  FROM conversation c LEFT JOIN conversation_key k ON k.conversation_id = c.id
  WHERE c.id = ANY($1::uuid[])`);

/** A conversation as its latest append left it: row, content key, and the leaf its chain ends in (hex). */
interface ChainState {
  row: ConversationRow;
  key: Buffer | null;
  lastLeaf: string | null;
}

type RawState = RawConversation & { key: Uint8Array | null; last_leaf: Uint8Array | null; head_size: string | number };

function toChainState(r: RawState, keys: ContentKeys): ChainState {
  return { row: fromRawConversation(r), key: unwrapKey(keys, r.id, r.key), lastLeaf: r.last_leaf ? Buffer.from(r.last_leaf).toString('hex') : null };
}

/** The most locked batches in a row without another writer a process waits for before it tries one statement again. */
const MAX_QUIET_BATCHES = 64;

/** Conversations whose state this process keeps (the most recently written): beyond, state is read again. */
const KNOWN_CONVERSATIONS = 10_000;

/** A turn as WRITE_BATCH returns it. */
type RawInserted = Omit<RawTurn, 'data' | 'created_at'> & { conversation_id: string; data: TurnData | string; created_at: Date | string };

interface PendingAppend {
  conversationId: string;
  turns: NewTurn[];
  patch: ConversationPatch;
}

/** Appends gathered into one transaction at most; bounds the time a batch holds the log head. */
const DEFAULT_MAX_BATCH = 256;
/**
 * Batch transactions in flight per process. One: appends arriving meanwhile gather into the next,
 * larger batch. Three (tried before) made smaller batches that queued for the log head: with 2
 * processes appending, 1,600-1,900 appends/s at p99 80-110 ms, against 3,200-3,400/s at p99 47-50
 * ms with one, and half the CPU per append (node 0.4 ms, PostgreSQL 0.14 ms).
 */
const DEFAULT_MAX_FLUSHES = 1;

/**
 * Conversations and their append-only turns in PostgreSQL (or PGlite). Every turn is appended to
 * the verifiable log in the same transaction (a turn never exists without its log entry, nor the
 * reverse), its content sealed under the conversation's key.
 */
/** Turn rows of one conversation with their content opened (one read of the sealed contents and the key). */
export async function openTurns(db: Db, conversationId: string, rows: TurnRow[]): Promise<Turn[]> {
  const contentKeys = contentKeysOf(db);
  const seqs = rows.filter((r) => (r.data as { sealed?: number }).sealed === 1).map((r) => r.seq);
  if (seqs.length === 0) return rows.map(toTurn);
  const [contents, [wrapped]] = await Promise.all([
    db
      .select({ seq: turnContent.seq, sealed: turnContent.sealed })
      .from(turnContent)
      .where(and(eq(turnContent.conversationId, conversationId), inArray(turnContent.seq, seqs))),
    db.select({ key: conversationKey.key }).from(conversationKey).where(eq(conversationKey.conversationId, conversationId)),
  ]);
  const sealed = new Map(contents.map((c) => [c.seq, c.sealed]));
  const key = unwrapKey(contentKeys, conversationId, wrapped?.key);
  return rows.map((r) => withContent(toTurn(r), sealed.get(r.seq), key));
}
/** Sealed contents of (conversation, seq) pairs ($1, $2), in one statement. */
const SEALED_CONTENTS = statement(`SELECT tc.conversation_id, tc.seq, tc.sealed FROM turn_content tc
  JOIN unnest($1::uuid[], $2::integer[]) AS p(conversation_id, seq) ON tc.conversation_id = p.conversation_id AND tc.seq = p.seq`);

/** Turn rows of any conversations with their content opened, in two reads (contents, keys) whatever their number. */
export async function openTurnsOfMany(db: Db, rows: TurnRow[]): Promise<Turn[]> {
  const sealedRows = rows.filter((r) => (r.data as { sealed?: number }).sealed === 1);
  if (sealedRows.length === 0) return rows.map(toTurn);
  const ids = [...new Set(sealedRows.map((r) => r.conversationId))];
  const [contents, wrapped] = await Promise.all([
    runStatement<{ conversation_id: string; seq: number; sealed: Uint8Array }>(db, SEALED_CONTENTS, [
      sealedRows.map((r) => r.conversationId),
      sealedRows.map((r) => r.seq),
    ]),
    db
      .select({ conversationId: conversationKey.conversationId, key: conversationKey.key })
      .from(conversationKey)
      .where(inArray(conversationKey.conversationId, ids)),
  ]);
  const contentKeys = contentKeysOf(db);
  const sealed = new Map(contents.map((c) => [`${c.conversation_id}:${c.seq}`, c.sealed]));
  const keys = new Map(wrapped.map((w) => [w.conversationId, unwrapKey(contentKeys, w.conversationId, w.key)]));
  return rows.map((r) => withContent(toTurn(r), sealed.get(`${r.conversationId}:${r.seq}`), keys.get(r.conversationId) ?? null));
}

export function createPgConversationStore(db: Db, options: { maxBatch?: number; maxFlushes?: number } = {}): ConversationStore {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const contentKeys = contentKeysOf(db);
  const maxFlushes = options.maxFlushes ?? DEFAULT_MAX_FLUSHES;
  /**
   * Conversations opened together (new chats under load) are inserted by one statement; each caller
   * gets its row when it created it, else undefined (it existed, or an earlier caller in the same
   * statement created it).
   */
  const openAll = createGroupCommit(async (inputs: NewConversation[]): Promise<Array<{ row: ConversationRow; created: boolean } | undefined>> => {
    const ids = inputs.map(() => randomUUID());
    const raw = await runStatement<RawConversation & { created: boolean }>(db, OPEN_CONVERSATIONS, [
      ids,
      inputs.map((i) => i.channel),
      inputs.map((i) => i.externalId),
      inputs.map((i) => i.tokenHash),
      inputs.map((i) => i.language),
      inputs.map((i, n) => sealText(contentKeys, i.customerHandle, handleContext(ids[n] as string))),
    ]);
    const created = new Map<string, ConversationRow>();
    const existing = new Map<string, ConversationRow>();
    for (const r of raw) (r.created ? created : existing).set(`${r.channel}\u0000${r.external_id}`, fromRawConversation(r));
    return inputs.map((input) => {
      const key = `${input.channel}\u0000${input.externalId}`;
      const row = created.get(key);
      if (row) {
        // Only the first caller with this key created it.
        created.delete(key);
        return { row, created: true };
      }
      const found = existing.get(key);
      return found ? { row: found, created: false } : undefined;
    });
  });

  async function find(id: string) {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const [row] = await db.select().from(conversation).where(eq(conversation.id, id));
    return row ? toConversation(row, contentKeys) : undefined;
  }

  /** The turns recorded for an external key: that input and what the bot said back. */
  async function findDuplicate(keys: string[]): Promise<AppendResult | undefined> {
    const [first] = await db.select().from(turn).where(inArray(turn.externalKey, keys)).orderBy(asc(turn.id)).limit(1);
    if (!first) return undefined;
    const following = await db
      .select()
      .from(turn)
      .where(and(eq(turn.conversationId, first.conversationId), gt(turn.seq, first.seq)))
      .orderBy(asc(turn.seq))
      .limit(20);
    const end = following.findIndex((t) => t.role === 'customer');
    const turns = await openTurns(db, first.conversationId, [first, ...(end === -1 ? following : following.slice(0, end))]);
    const current = await find(first.conversationId);
    if (!current) return undefined;
    return { conversation: current, turns, duplicate: true };
  }

  /**
   * What this process knows of the log and of the conversations it wrote, as its last committed
   * batch left them. While no other writer has moved the log head since, a batch is one statement
   * (WRITE_BATCH_IF_HEAD) computed from this; the head's size is the check: every log append, of
   * any process, moves it. Otherwise (another instance appends too, an erasure, a first batch) the
   * batch takes the locks and reads the state in a transaction, and the cache starts again. It goes
   * back to one statement after enough locked batches in a row found nobody else appending: one
   * after the first failed attempt, then twice as many after each further failure (up to
   * MAX_QUIET_BATCHES), so that processes appending together rarely try in vain.
   */
  let head: Frontier | undefined;
  let headOnly = maxFlushes === 1;
  let failedInARow = 0;
  let quietInARow = 0;
  const known = new Map<string, ChainState>();
  const remember = (id: string, state: ChainState) => {
    known.delete(id);
    known.set(id, state);
    if (known.size > KNOWN_CONVERSATIONS) known.delete(known.keys().next().value as string);
  };

  /**
   * Group commit: up to `maxFlushes` batches are written at once; while all are busy, new appends
   * gather and go together in the next batch. Callers are answered only after their batch
   * committed; when a batch fails, its appends are retried each on its own, so that one bad append
   * fails only its own caller.
   */
  const enqueue = createGroupCommit((batch: PendingAppend[]) => writeBatch(batch), { maxInFlight: maxFlushes, maxBatch });

  async function writeBatch(batch: PendingAppend[]): Promise<AppendResult[]> {
    const ids = [...new Set(batch.map((b) => b.conversationId))].sort();
    if (headOnly && head) {
      // A failed statement wrote nothing: the locked path below reports any error that persists.
      const written = await writeIfHead(batch, ids, head).catch(() => undefined);
      if (written) {
        failedInARow = 0;
        return written;
      }
      // Someone else appended (or the statement failed): locks from here on, until it is quiet again.
      headOnly = false;
      failedInARow += 1;
      quietInARow = 0;
      known.clear();
    }
    const lastOwn = head;
    const written = await db.transaction((tx) => writeLocked(tx, batch, ids));
    // Quiet: nobody appended between this process's last batch and this one.
    const quiet = lastOwn === undefined || written.startSize === lastOwn.size;
    if (!quiet) known.clear();
    if (maxFlushes === 1) {
      head = written.frontier;
      quietInARow = quiet ? quietInARow + 1 : 0;
      headOnly = quietInARow >= Math.min(2 ** Math.max(0, failedInARow - 1), MAX_QUIET_BATCHES);
      for (const [id, state] of written.after) remember(id, state);
    }
    return written.results;
  }

  /** The batch under the conversations' row locks and the log head, from the state as stored. */
  async function writeLocked(tx: Tx, batch: PendingAppend[], ids: string[]) {
    // Lock order everywhere: conversation rows by id, then the log head.
    await runStatement(tx, LOCK_CONVERSATIONS, [ids]);
    const states = new Map((await runStatement<RawState>(tx, CONVERSATION_STATE, [ids])).map((r) => [r.id, toChainState(r, contentKeys)]));
    for (const id of ids) if (!states.has(id)) throw new Error(`conversation ${id} not found`);
    const plan = planBatch(batch, ids, states);
    const raw = await runStatement<RawInserted>(tx, WRITE_BATCH, [...plan.values, plan.meta]);
    // Last, and short: the log head lock serializes every append of every process until commit.
    const log = await openLogAppend(tx);
    for (const entry of plan.drafts) log.add(entry.header, entry);
    await log.finish();
    return { results: toResults(batch, plan, raw), after: plan.after, startSize: log.startSize, frontier: log.frontier };
  }

  /**
   * The batch in one statement from what this process knows (conversations it does not know are
   * read first, with the log's size); undefined when the log head has moved: nothing was written.
   */
  async function writeIfHead(batch: PendingAppend[], ids: string[], last: Frontier): Promise<AppendResult[] | undefined> {
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length > 0) {
      const read = await runStatement<RawState>(db, CONVERSATION_STATE, [missing]);
      if (read.length !== missing.length || read.some((r) => Number(r.head_size) !== last.size)) return undefined;
      for (const r of read) remember(r.id, toChainState(r, contentKeys));
    }
    const states = new Map(ids.map((id) => [id, known.get(id) as ChainState]));
    if (ids.some((id) => !states.get(id))) return undefined;
    const plan = planBatch(batch, ids, states);
    const log = logAppender({ size: last.size, hashes: [...last.hashes] });
    for (const entry of plan.drafts) log.add(entry.header, entry);
    const raw = await runStatement<RawInserted & { ok: number }>(db, WRITE_BATCH_IF_HEAD, [
      ...plan.values,
      ...log.values(),
      ...log.headValues(),
      last.size,
      ids.length,
      plan.meta,
    ]);
    if (raw[0]?.ok !== 1) return undefined;
    head = log.frontier;
    for (const [id, state] of plan.after) remember(id, state);
    return toResults(
      batch,
      plan,
      raw.filter((r) => r.seq !== null),
    );
  }

  /**
   * What a batch writes, from the state its conversations are in: the statement values of
   * `batchWrites`, the log entries (hashed, chained), and each conversation's state after it.
   */
  function planBatch(batch: PendingAppend[], ids: string[], states: Map<string, ChainState>) {
    const current = new Map<string, ConversationRow>();
    const keys = new Map<string, Buffer>();
    const newKeys: Array<typeof conversationKey.$inferInsert> = [];
    for (const id of ids) {
      const state = states.get(id) as ChainState;
      current.set(id, state.row);
      if (state.key) keys.set(id, state.key);
      else {
        const key = newContentKey();
        keys.set(id, key);
        newKeys.push({ conversationId: id, key: contentKeys.wrap(key, id) });
      }
    }
    const log = chainsFrom(new Map(ids.map((id) => [id, (states.get(id) as ChainState).lastLeaf])));
    const turnRows: Array<typeof turn.$inferInsert> = [];
    const contentRows: Array<typeof turnContent.$inferInsert> = [];
    const perItem: Array<{ row: ConversationRow; turnSeqs: number[] }> = [];
    const plain = new Map<string, TurnContent>();
    const meta: string[] = [];
    const now = new Date();
    for (const item of batch) {
      const before = current.get(item.conversationId) as ConversationRow;
      const at = Date.now();
      const seqs: number[] = [];
      item.turns.forEach((t, i) => {
        const seq = before.lastSeq + 1 + i;
        const data = t.data ?? {};
        const entry = toTurnEntry(
          {
            conversationId: item.conversationId,
            seq,
            role: t.role,
            kind: t.kind,
            language: t.language,
            data,
            answerMode: t.answerMode ?? null,
            escalation: t.escalation ?? null,
            text: t.text,
            prev: log.prevOf(item.conversationId),
            at,
          },
          keys.get(item.conversationId) as Buffer,
        );
        log.prepare(entry.header);
        meta.push(JSON.stringify(expectedRowMeta(entry.header)));
        contentRows.push({ conversationId: item.conversationId, seq, sealed: entry.sealed });
        plain.set(`${item.conversationId}:${seq}`, { text: t.text, data, escalationDetail: t.escalation?.detail ?? null });
        // The row keeps no content: it is sealed in turn_content only (see SEALED_ROW_DATA).
        turnRows.push({
          conversationId: item.conversationId,
          seq,
          role: t.role,
          kind: t.kind,
          text: '',
          language: t.language,
          data: SEALED_ROW_DATA,
          answerMode: t.answerMode ?? null,
          escalationReason: t.escalation?.reason ?? null,
          escalationPriority: t.escalation?.priority ?? null,
          escalationDetail: null,
          externalKey: t.externalKey ?? null,
          createdAt: new Date(at),
        });
        seqs.push(seq);
      });
      const p = item.patch;
      const after: ConversationRow = {
        ...before,
        lastSeq: before.lastSeq + item.turns.length,
        updatedAt: now,
        ...(p.language !== undefined ? { language: p.language } : {}),
        ...(p.languageChosen !== undefined ? { languageChosen: p.languageChosen } : {}),
        ...(p.state !== undefined ? { state: p.state } : {}),
        ...(p.priority !== undefined ? { priority: p.priority } : {}),
        ...(p.escalationReason !== undefined ? { escalationReason: p.escalationReason } : {}),
      };
      // Closing commits to the number of turns: a later claim that a turn is missing is checkable.
      if (after.state === 'closed' && before.state !== 'closed') {
        log.prepare({ v: LOG_FORMAT_VERSION, kind: 'close', conv: item.conversationId, seq: after.lastSeq, prev: log.prevOf(item.conversationId), at });
      }
      current.set(item.conversationId, after);
      perItem.push({ row: after, turnSeqs: seqs });
    }
    const rows = ids.map((id) => current.get(id) as ConversationRow);
    const values = [
      ids,
      rows.map((r) => r.lastSeq),
      rows.map((r) => r.updatedAt),
      rows.map((r) => r.language),
      rows.map((r) => r.languageChosen),
      rows.map((r) => r.state),
      rows.map((r) => r.priority),
      rows.map((r) => r.escalationReason),
      newKeys.map((k) => k.conversationId),
      newKeys.map((k) => k.key),
      turnRows.map((t) => t.conversationId),
      turnRows.map((t) => t.seq),
      contentRows.map((c) => c.sealed),
      turnRows.map((t) => t.role),
      turnRows.map((t) => t.kind),
      turnRows.map((t) => t.text),
      turnRows.map((t) => t.language),
      turnRows.map((t) => JSON.stringify(t.data ?? {})),
      turnRows.map((t) => t.answerMode ?? null),
      turnRows.map((t) => t.escalationReason ?? null),
      turnRows.map((t) => t.escalationPriority ?? null),
      turnRows.map((t) => t.escalationDetail ?? null),
      turnRows.map((t) => t.externalKey ?? null),
      turnRows.map((t) => t.createdAt as Date),
    ];
    const after = new Map<string, ChainState>(
      ids.map((id) => [id, { row: current.get(id) as ConversationRow, key: keys.get(id) as Buffer, lastLeaf: log.prevOf(id) }]),
    );
    return { values, meta, drafts: log.drafts, perItem, after, plain };
  }

  /** Each append's result: its conversation as the batch left it, and its turns as stored. */
  function toResults(
    batch: PendingAppend[],
    plan: { perItem: Array<{ row: ConversationRow; turnSeqs: number[] }>; plain: Map<string, TurnContent> },
    raw: RawInserted[],
  ): AppendResult[] {
    const { perItem, plain } = plan;
    const bySeq = new Map<string, TurnRow>();
    for (const r of raw) {
      const key = `${r.conversation_id}:${r.seq}`;
      const content = plain.get(key) as TurnContent;
      bySeq.set(key, {
        ...toTurnRowParts(r),
        text: content.text,
        data: content.data,
        escalationDetail: content.escalationDetail,
        createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
      });
    }
    return batch.map((item, i) => {
      const { row, turnSeqs } = perItem[i] as { row: ConversationRow; turnSeqs: number[] };
      return {
        conversation: toConversation(row, contentKeys),
        turns: turnSeqs.map((seq) => toTurn(bySeq.get(`${item.conversationId}:${seq}`) as TurnRow)),
        duplicate: false,
      };
    });
  }

  async function append(conversationId: string, newTurns: NewTurn[], patch: ConversationPatch = {}, options: AppendOptions = {}): Promise<AppendResult> {
    // A change without a turn would leave no log entry, and the log head is what tells this process
    // that another one changed a conversation.
    if (newTurns.length === 0) throw new Error('append needs at least one turn: every change to a conversation is logged');
    const keys = newTurns.flatMap((t) => (t.externalKey ? [t.externalKey] : []));
    if (keys.length > 0 && !options.keysChecked) {
      const duplicate = await findDuplicate(keys);
      if (duplicate) return duplicate;
    }
    try {
      return await enqueue({ conversationId, turns: newTurns, patch });
    } catch (error) {
      // Two deliveries of one external message raced: the loser returns what the winner stored.
      if (keys.length > 0 && isUniqueViolation(error)) {
        const duplicate = await findDuplicate(keys);
        if (duplicate) return duplicate;
      }
      throw error;
    }
  }

  return {
    async open(input) {
      const opened = await openAll(input);
      if (opened) {
        // A conversation just created has no turns, key or log entries: its first batch need not read it.
        if (opened.created && maxFlushes === 1) remember(opened.row.id, { row: opened.row, key: null, lastLeaf: null });
        return { conversation: toConversation(opened.row, contentKeys), created: opened.created };
      }
      const [existing] = await runStatement<RawConversation>(db, FIND_BY_EXTERNAL, [input.channel, input.externalId]);
      if (!existing) throw new Error('conversation neither created nor found');
      return { conversation: toConversation(fromRawConversation(existing), contentKeys), created: false };
    },
    find,
    async context(id, recent, externalKeys) {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      const [found] = await runStatement<RawConversation & { recent: RawTurn[] | string; keys_seen: boolean; wrapped_key: Uint8Array | null }>(db, CONTEXT, [
        id,
        recent,
        DEFAULT_PAGE,
        externalKeys,
      ]);
      if (!found) return undefined;
      const raw = typeof found.recent === 'string' ? (JSON.parse(found.recent) as RawTurn[]) : found.recent;
      const key = unwrapKey(contentKeys, found.id, found.wrapped_key);
      return {
        conversation: toConversation(fromRawConversation(found), contentKeys),
        recentTurns: raw.map((t) => withContent(fromRawTurn(found.id, t), fromHex(t.sealed), key)),
        keysSeen: found.keys_seen === true,
      };
    },
    async tokenHash(id) {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      const [row] = await db.select({ tokenHash: conversation.tokenHash }).from(conversation).where(eq(conversation.id, id));
      return row ? row.tokenHash : undefined;
    },
    append,
    repeatOf: (externalKey) => findDuplicate([externalKey]),
    async turns(conversationId, afterSeq, limit = DEFAULT_PAGE) {
      const rows = await db
        .select()
        .from(turn)
        .where(and(eq(turn.conversationId, conversationId), gt(turn.seq, afterSeq)))
        .orderBy(asc(turn.seq))
        .limit(limit);
      return openTurns(db, conversationId, rows);
    },
    async listByState(state) {
      const rows = await db
        .select()
        .from(conversation)
        .where(eq(conversation.state, state))
        .orderBy(desc(sql`${conversation.priority} = 'urgent'`), asc(conversation.updatedAt));
      return rows.map((r) => toConversation(r, contentKeys));
    },
  };
}
