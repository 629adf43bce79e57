import {
  type AppendResult,
  type ConversationPatch,
  expectedRowMeta,
  type Frontier,
  LOG_FORMAT_VERSION,
  type NewTurn,
  newContentKey,
  SEALED_ROW_DATA,
  type TurnContent,
  toTurnEntry,
} from '../../../../core/index.js';
import type { ContentKeys } from '../../db/content-keys.js';
import type { Database } from '../../db/database.js';
import { createGroupCommit } from '../../db/group-commit.js';
import { type Run, statement } from '../../db/statement.js';
import { chainsFrom, HEAD_SET, type HeadParams, type LogWriteParams, logAppender, logWrites, openLogAppend } from '../../turn-log/pg-log-append.js';
import { type ConversationRow, conversationColumns, type TurnRow, toConversation, toTurn, turnColumns } from './rows.js';
import { unwrapKey } from './turn-content.js';

/** A conversation as its latest append left it: row, content key, and the leaf its chain ends in (hex). */
export interface ChainState {
  row: ConversationRow;
  key: Buffer | null;
  lastLeaf: string | null;
}

export interface PendingAppend {
  conversationId: string;
  turns: NewTurn[];
  patch: ConversationPatch;
}

/** The rows a batch writes (see `batchWrites`), one array per column. */
type BatchParams = {
  conv_id: string[];
  conv_last_seq: number[];
  conv_updated_at: Date[];
  conv_language: string[];
  conv_language_chosen: boolean[];
  conv_state: string[];
  conv_priority: string[];
  conv_escalation_reason: Array<string | null>;
  key_conversation: string[];
  key_wrapped: Buffer[];
  turn_conversation: string[];
  turn_seq: number[];
  turn_sealed: Uint8Array[];
  turn_role: string[];
  turn_kind: string[];
  turn_text: string[];
  turn_language: string[];
  turn_data: string[];
  turn_answer_mode: Array<string | null>;
  turn_escalation_reason: Array<string | null>;
  turn_escalation_priority: Array<string | null>;
  turn_escalation_detail: Array<string | null>;
  turn_external_key: Array<string | null>;
  turn_created_at: Date[];
  /** Each turn's plain metadata columns (expectedRowMeta), as JSON. */
  turn_meta: string[];
};

/** The batch's conversations (`conv_id`), locked in id order (the lock order everywhere: conversations, then the log head). */
const LOCK_CONVERSATIONS_TEXT = `SELECT id FROM conversation WHERE id = ANY(:conv_id::uuid[]) ORDER BY id FOR UPDATE`;
const LOCK_CONVERSATIONS = statement<{ conv_id: string[] }>(LOCK_CONVERSATIONS_TEXT);

/**
 * The rows of a batch as CTEs: the conversations' new state, new content keys, the turns' sealed
 * content and the turns (`inserted` returns them as stored, in order). `guard` (a condition, or
 * empty) is asked of every row.
 */
function batchWrites(guard = ''): string {
  const and = guard ? ` AND ${guard}` : '';
  const where = guard ? ` WHERE ${guard}` : '';
  return `updated AS (
    UPDATE conversation AS c SET last_seq = v.last_seq, updated_at = v.updated_at, language = v.language,
      language_chosen = v.language_chosen, state = v.state, priority = v.priority, escalation_reason = v.escalation_reason
    FROM unnest(:conv_id::uuid[], :conv_last_seq::integer[], :conv_updated_at::timestamptz[], :conv_language::text[],
      :conv_language_chosen::boolean[], :conv_state::text[], :conv_priority::text[], :conv_escalation_reason::text[])
      AS v(id, last_seq, updated_at, language, language_chosen, state, priority, escalation_reason)
    WHERE c.id = v.id${and}),
  keys AS (INSERT INTO conversation_key (conversation_id, key) SELECT * FROM unnest(:key_conversation::uuid[], :key_wrapped::bytea[])${where}),
  content AS (INSERT INTO turn_content (conversation_id, seq, sealed)
    SELECT * FROM unnest(:turn_conversation::uuid[], :turn_seq::integer[], :turn_sealed::bytea[])${where}),
  inserted AS (
    INSERT INTO turn (conversation_id, seq, role, kind, text, language, data, answer_mode,
      escalation_reason, escalation_priority, escalation_detail, external_key, created_at,
      rating, action, handoff, agent_id, agent_name, cites)
    SELECT t.conversation_id, t.seq, t.role, t.kind, t.text, t.language, t.data, t.answer_mode,
      t.escalation_reason, t.escalation_priority, t.escalation_detail, t.external_key, t.created_at,
      (t.meta->>'rating')::smallint, t.meta->>'action', t.meta->>'handoff', t.meta->>'agent', t.meta->>'agentName',
      CASE WHEN t.meta ? 'cites' THEN ARRAY(SELECT jsonb_array_elements_text(t.meta->'cites')) END
    FROM unnest(:turn_conversation::uuid[], :turn_seq::integer[], :turn_role::text[], :turn_kind::text[], :turn_text::text[],
      :turn_language::text[], :turn_data::jsonb[], :turn_answer_mode::text[], :turn_escalation_reason::text[],
      :turn_escalation_priority::text[], :turn_escalation_detail::text[], :turn_external_key::text[],
      :turn_created_at::timestamptz[], :turn_meta::jsonb[]) WITH ORDINALITY
      AS t(conversation_id, seq, role, kind, text, language, data, answer_mode,
        escalation_reason, escalation_priority, escalation_detail, external_key, created_at, meta, ord)${where}
    ORDER BY t.ord
    RETURNING ${turnColumns()})`;
}

/** One statement for the rows of a batch, under the conversations' locks (the turns as stored come back). */
const WRITE_BATCH = statement<BatchParams, TurnRow>(`WITH ${batchWrites()} SELECT * FROM inserted`);

/**
 * A whole batch in one statement, without a transaction around it: written only if the log head
 * is still at the size this process left it (`expected_size`, after locking the `locked_count`
 * conversations in the lock order), else nothing (ok 0). The rows, the log entries and the head
 * were computed from the state this process wrote last. Hand-written: a batch's rows, its log
 * entries and the head in one round trip, which the query builder cannot express (`npm run bench`
 * turn log, 2 processes: 5,500-5,900 appends/s at p99 23-27 ms on a 2-core Xeon).
 */
const WRITE_BATCH_IF_HEAD = statement<
  BatchParams & LogWriteParams & HeadParams & { expected_size: number; locked_count: number },
  Partial<TurnRow> & { ok: number }
>(`WITH locked AS (${LOCK_CONVERSATIONS_TEXT}),
  head AS (
    UPDATE log_head SET ${HEAD_SET}
    WHERE id = 1 AND size = :expected_size::bigint AND (SELECT count(*) FROM locked) = :locked_count::integer
    RETURNING 1),
  ${batchWrites('EXISTS (SELECT 1 FROM head)')},
  ${logWrites('EXISTS (SELECT 1 FROM head)')}
  SELECT h.ok, i.* FROM (SELECT count(*)::integer AS ok FROM head) h LEFT JOIN inserted i ON true`);

/**
 * Conversations' rows, content keys, chain ends, and the log's size, in one snapshot: for those this
 * process has no state of, or, after their lock (a new statement: a fresh snapshot under READ
 * COMMITTED), as the previous holder of the lock left them.
 */
const CONVERSATION_STATE = statement<
  { conv_id: string[] },
  ConversationRow & { wrappedKey: Uint8Array | null; lastLeaf: Uint8Array | null; headSize: string | number }
>(`SELECT ${conversationColumns('c')}, k.key AS "wrappedKey",
    (SELECT e.leaf_hash FROM log_entry e WHERE e.conversation_id = c.id ORDER BY e.idx DESC LIMIT 1) AS "lastLeaf",
    (SELECT size FROM log_head WHERE id = 1) AS "headSize"
  FROM conversation c LEFT JOIN conversation_key k ON k.conversation_id = c.id
  WHERE c.id = ANY(:conv_id::uuid[])`);

type StateRow = typeof CONVERSATION_STATE extends { __types?: { row: infer R } } ? R : never;

function toChainState(r: StateRow, keys: ContentKeys): ChainState {
  const { wrappedKey, lastLeaf, headSize: _, ...row } = r;
  return { row, key: unwrapKey(keys, r.id, wrappedKey), lastLeaf: lastLeaf ? Buffer.from(lastLeaf).toString('hex') : null };
}

/** The most locked batches in a row without another writer a process waits for before it tries one statement again. */
const MAX_QUIET_BATCHES = 64;

/** Conversations whose state this process keeps (the most recently written): beyond, state is read again. */
const KNOWN_CONVERSATIONS = 10_000;

/** Appends gathered into one transaction at most; bounds the time a batch holds the log head. */
export const DEFAULT_MAX_BATCH = 256;
/**
 * Batch transactions in flight per process. One: appends arriving meanwhile gather into the next,
 * larger batch. Three made smaller batches that queued for the log head: with 2 processes
 * appending, 1,600-1,900 appends/s at p99 80-110 ms, against 3,200-3,400/s at p99 47-50 ms with
 * one, and half the CPU per append (node 0.4 ms, PostgreSQL 0.14 ms).
 */
export const DEFAULT_MAX_FLUSHES = 1;

/**
 * Turns appended in batches (group commit), each turn's content sealed under its conversation's
 * key and appended to the verifiable log in the same write (a turn never exists without its log
 * entry, nor the reverse). `remember` tells the appender of a conversation just created.
 */
export function createTurnAppender(database: Database, contentKeys: ContentKeys, options: { maxBatch: number; maxFlushes: number }) {
  const { maxBatch, maxFlushes } = options;
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
    const written = await database.transaction((tx) => writeLocked(tx.run, batch, ids));
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
  async function writeLocked(run: Run, batch: PendingAppend[], ids: string[]) {
    // Lock order everywhere: conversation rows by id, then the log head.
    await run(LOCK_CONVERSATIONS, { conv_id: ids });
    const states = new Map((await run(CONVERSATION_STATE, { conv_id: ids })).map((r) => [r.id, toChainState(r, contentKeys)]));
    for (const id of ids) if (!states.has(id)) throw new Error(`conversation ${id} not found`);
    const plan = planBatch(batch, ids, states);
    const stored = await run(WRITE_BATCH, plan.params);
    // Last, and short: the log head lock serializes every append of every process until commit.
    const log = await openLogAppend(run);
    for (const entry of plan.drafts) log.add(entry.header, entry);
    await log.finish();
    return { results: toResults(batch, plan, stored), after: plan.after, startSize: log.startSize, frontier: log.frontier };
  }

  /**
   * The batch in one statement from what this process knows (conversations it does not know are
   * read first, with the log's size); undefined when the log head has moved: nothing was written.
   */
  async function writeIfHead(batch: PendingAppend[], ids: string[], last: Frontier): Promise<AppendResult[] | undefined> {
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length > 0) {
      const read = await database.run(CONVERSATION_STATE, { conv_id: missing });
      if (read.length !== missing.length || read.some((r) => Number(r.headSize) !== last.size)) return undefined;
      for (const r of read) remember(r.id, toChainState(r, contentKeys));
    }
    const states = new Map(ids.map((id) => [id, known.get(id) as ChainState]));
    if (ids.some((id) => !states.get(id))) return undefined;
    const plan = planBatch(batch, ids, states);
    const log = logAppender({ size: last.size, hashes: [...last.hashes] });
    for (const entry of plan.drafts) log.add(entry.header, entry);
    const rows = await database.run(WRITE_BATCH_IF_HEAD, {
      ...plan.params,
      ...log.values(),
      ...log.headValues(),
      expected_size: last.size,
      locked_count: ids.length,
    });
    if (rows[0]?.ok !== 1) return undefined;
    head = log.frontier;
    for (const [id, state] of plan.after) remember(id, state);
    return toResults(
      batch,
      plan,
      rows.filter((r): r is TurnRow & { ok: number } => r.seq !== null && r.seq !== undefined),
    );
  }

  /**
   * What a batch writes, from the state its conversations are in: the statement's parameters
   * (`batchWrites`), the log entries (hashed, chained), and each conversation's state after it.
   */
  function planBatch(batch: PendingAppend[], ids: string[], states: Map<string, ChainState>) {
    const current = new Map<string, ConversationRow>();
    const keys = new Map<string, Buffer>();
    const newKeys: Array<{ conversationId: string; key: Buffer }> = [];
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
    const turns: Array<{ conversationId: string; seq: number; turn: NewTurn; sealed: Uint8Array; meta: string; at: Date }> = [];
    const perItem: Array<{ row: ConversationRow; turnSeqs: number[] }> = [];
    const plain = new Map<string, TurnContent>();
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
        turns.push({
          conversationId: item.conversationId,
          seq,
          turn: t,
          sealed: entry.sealed,
          meta: JSON.stringify(expectedRowMeta(entry.header)),
          at: new Date(at),
        });
        plain.set(`${item.conversationId}:${seq}`, { text: t.text, data, escalationDetail: t.escalation?.detail ?? null });
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
    // The turn row keeps no content: it is sealed in turn_content only (see SEALED_ROW_DATA).
    const params: BatchParams = {
      conv_id: ids,
      conv_last_seq: rows.map((r) => r.lastSeq),
      conv_updated_at: rows.map((r) => r.updatedAt),
      conv_language: rows.map((r) => r.language),
      conv_language_chosen: rows.map((r) => r.languageChosen),
      conv_state: rows.map((r) => r.state),
      conv_priority: rows.map((r) => r.priority),
      conv_escalation_reason: rows.map((r) => r.escalationReason),
      key_conversation: newKeys.map((k) => k.conversationId),
      key_wrapped: newKeys.map((k) => k.key),
      turn_conversation: turns.map((t) => t.conversationId),
      turn_seq: turns.map((t) => t.seq),
      turn_sealed: turns.map((t) => t.sealed),
      turn_role: turns.map((t) => t.turn.role),
      turn_kind: turns.map((t) => t.turn.kind),
      turn_text: turns.map(() => ''),
      turn_language: turns.map((t) => t.turn.language),
      turn_data: turns.map(() => JSON.stringify(SEALED_ROW_DATA)),
      turn_answer_mode: turns.map((t) => t.turn.answerMode ?? null),
      turn_escalation_reason: turns.map((t) => t.turn.escalation?.reason ?? null),
      turn_escalation_priority: turns.map((t) => t.turn.escalation?.priority ?? null),
      turn_escalation_detail: turns.map(() => null),
      turn_external_key: turns.map((t) => t.turn.externalKey ?? null),
      turn_created_at: turns.map((t) => t.at),
      turn_meta: turns.map((t) => t.meta),
    };
    const after = new Map<string, ChainState>(
      ids.map((id) => [id, { row: current.get(id) as ConversationRow, key: keys.get(id) as Buffer, lastLeaf: log.prevOf(id) }]),
    );
    return { params, drafts: log.drafts, perItem, after, plain };
  }

  /** Each append's result: its conversation as the batch left it, and its turns as stored (with their content). */
  function toResults(
    batch: PendingAppend[],
    plan: { perItem: Array<{ row: ConversationRow; turnSeqs: number[] }>; plain: Map<string, TurnContent> },
    stored: TurnRow[],
  ): AppendResult[] {
    const { perItem, plain } = plan;
    const bySeq = new Map<string, TurnRow>();
    for (const r of stored) {
      const key = `${r.conversationId}:${r.seq}`;
      const content = plain.get(key) as TurnContent;
      bySeq.set(key, { ...r, text: content.text, data: content.data, escalationDetail: content.escalationDetail });
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

  return { append: enqueue, remember };
}
