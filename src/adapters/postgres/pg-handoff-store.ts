import { sql } from 'drizzle-orm';
import type { Conversation, HandoffRecord, HandoffStore, HandoffWithConversation } from '../../core/index.js';
import { type ContentKeys, openText } from './content-keys.js';
import { contentKeysOf, type Db, queryRows } from './database.js';

type Row = Record<string, unknown>;

const date = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));

function toRecord(r: Row): HandoffRecord {
  return {
    conversationId: String(r.conversation_id),
    open: Boolean(r.open),
    openedSeq: Number(r.opened_seq),
    escalatedAt: date(r.escalated_at) as Date,
    claimedBy: (r.claimed_by as string | null) ?? null,
    claimedName: (r.claimed_name as string | null) ?? null,
    remindedAt: date(r.reminded_at),
    deliveredSeq: Number(r.delivered_seq),
    deskChannel: (r.desk_channel as string | null) ?? null,
    deskThread: (r.desk_thread as string | null) ?? null,
    relayedSeq: Number(r.relayed_seq),
    rootDirty: Boolean(r.root_dirty),
    mirrorInflight: (r.mirror_inflight as string | null) ?? null,
    attempts: Number(r.attempts),
    lastError: (r.last_error as string | null) ?? null,
  };
}

function toConversation(r: Row, keys: ContentKeys): Conversation {
  return {
    id: String(r.c_id),
    channel: r.c_channel as Conversation['channel'],
    externalId: String(r.c_external_id),
    language: r.c_language as Conversation['language'],
    languageChosen: Boolean(r.c_language_chosen),
    state: r.c_state as Conversation['state'],
    priority: r.c_priority as Conversation['priority'],
    escalationReason: (r.c_escalation_reason as Conversation['escalationReason']) ?? null,
    // Sealed as the conversation store seals it (handle:<conversation id>).
    customerHandle: openText(keys, (r.c_customer_handle as string | null) ?? null, `handle:${String(r.c_id)}`),
    lastSeq: Number(r.c_last_seq),
    createdAt: date(r.c_created_at) as Date,
    updatedAt: date(r.c_updated_at) as Date,
  };
}

/** A handoff row joined with its conversation's columns (aliased `c_…`). */
export const toHandoffWithConversation = (r: Row, keys: ContentKeys): HandoffWithConversation => ({ record: toRecord(r), conversation: toConversation(r, keys) });

/** The conversation's columns for a join with `handoff h` (`conversation c`), as toHandoffWithConversation reads them. */
export const CONVERSATION_COLUMNS = sql.raw(
  `c.id AS c_id, c.channel AS c_channel, c.external_id AS c_external_id, c.language AS c_language,
   c.language_chosen AS c_language_chosen, c.state AS c_state, c.priority AS c_priority,
   c.escalation_reason AS c_escalation_reason, c.customer_handle AS c_customer_handle, c.last_seq AS c_last_seq,
   c.created_at AS c_created_at, c.updated_at AS c_updated_at`,
);

/** Handoff state in PostgreSQL (or PGlite); transitions are single conditional statements. */
export function createPgHandoffStore(db: Db): HandoffStore {
  const keys = contentKeysOf(db);
  const both = (r: Row) => toHandoffWithConversation(r, keys);
  const rows = (query: ReturnType<typeof sql>) => queryRows<Row>(db, query);

  return {
    async openPending(limit) {
      // New escalations get a row; a re-escalation reopens the existing row (and keeps its thread).
      const created = await rows(sql`
        INSERT INTO handoff (conversation_id, opened_seq, delivered_seq, relayed_seq)
        SELECT c.id, c.last_seq, c.last_seq, c.last_seq FROM conversation c
        WHERE c.state = 'escalated' AND NOT EXISTS (SELECT 1 FROM handoff h WHERE h.conversation_id = c.id)
        ORDER BY c.updated_at LIMIT ${limit}
        ON CONFLICT (conversation_id) DO NOTHING
        RETURNING conversation_id`);
      const reopened = await rows(sql`
        UPDATE handoff h SET open = true, opened_seq = c.last_seq, escalated_at = now(), claimed_by = NULL,
          claimed_name = NULL, claimed_at = NULL, reminded_at = NULL, root_dirty = true, updated_at = now()
        FROM conversation c
        WHERE c.id = h.conversation_id AND c.state = 'escalated' AND h.open = false
        RETURNING h.conversation_id`);
      const ids = [...created, ...reopened].map((r) => String(r.conversation_id));
      if (ids.length === 0) return [];
      const found = await rows(sql`
        SELECT h.*, ${CONVERSATION_COLUMNS} FROM handoff h JOIN conversation c ON c.id = h.conversation_id
        WHERE h.conversation_id IN (${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)})
        ORDER BY h.escalated_at`);
      return found.map(both);
    },
    async find(conversationId) {
      if (!/^[0-9a-f-]{36}$/i.test(conversationId)) return undefined;
      const [r] = await rows(sql`SELECT * FROM handoff WHERE conversation_id = ${conversationId}::uuid`);
      return r ? toRecord(r) : undefined;
    },
    async findByThread(deskChannel, deskThread) {
      const [r] = await rows(sql`SELECT * FROM handoff WHERE desk_channel = ${deskChannel} AND desk_thread = ${deskThread}`);
      return r ? toRecord(r) : undefined;
    },
    async listOpen() {
      const found = await rows(sql`
        SELECT h.*, ${CONVERSATION_COLUMNS} FROM handoff h JOIN conversation c ON c.id = h.conversation_id
        WHERE h.open ORDER BY (c.priority = 'urgent') DESC, h.escalated_at ASC`);
      return found.map(both);
    },
    async countUnclaimedBefore(before) {
      const [r] = await rows(sql`SELECT count(*)::int AS n FROM handoff WHERE open AND claimed_by IS NULL AND escalated_at < ${before.toISOString()}::timestamptz`);
      return Number(r?.n ?? 0);
    },
    async claim(conversationId, agent) {
      const done = await rows(sql`
        UPDATE handoff SET claimed_by = ${agent.id}, claimed_name = ${agent.name}, claimed_at = now(), root_dirty = true, updated_at = now()
        WHERE conversation_id = ${conversationId}::uuid AND open AND claimed_by IS NULL RETURNING conversation_id`);
      return done.length > 0;
    },
    async close(conversationId) {
      const done = await rows(sql`
        UPDATE handoff SET open = false, root_dirty = true, updated_at = now()
        WHERE conversation_id = ${conversationId}::uuid AND open RETURNING conversation_id`);
      return done.length > 0;
    },
    async markReminders(before, limit) {
      const marked = await rows(sql`
        UPDATE handoff SET reminded_at = now(), root_dirty = true, updated_at = now()
        WHERE conversation_id IN (
          SELECT conversation_id FROM handoff
          WHERE open AND claimed_by IS NULL AND reminded_at IS NULL AND escalated_at < ${before.toISOString()}::timestamptz
          ORDER BY escalated_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        AND reminded_at IS NULL
        RETURNING *`);
      return marked.map(toRecord);
    },
    async advanceDelivered(conversationId, seq) {
      await rows(sql`UPDATE handoff SET delivered_seq = ${seq} WHERE conversation_id = ${conversationId}::uuid AND delivered_seq < ${seq} RETURNING conversation_id`);
    },
    async leaseMirror(owner, leaseMs, limit) {
      const leased = await rows(sql`
        WITH due AS (
          SELECT h.conversation_id FROM handoff h JOIN conversation c ON c.id = h.conversation_id
          WHERE (h.lease_until IS NULL OR h.lease_until < now()) AND h.next_attempt_at <= now()
            AND (h.desk_thread IS NULL OR h.root_dirty OR c.last_seq > h.relayed_seq)
          ORDER BY h.next_attempt_at, h.escalated_at LIMIT ${limit}
          FOR UPDATE OF h SKIP LOCKED)
        UPDATE handoff h SET lease_owner = ${owner}, lease_until = now() + ${`${leaseMs} milliseconds`}::interval
        FROM due WHERE h.conversation_id = due.conversation_id
        RETURNING h.conversation_id`);
      if (leased.length === 0) return [];
      const ids = leased.map((r) => String(r.conversation_id));
      const found = await rows(sql`
        SELECT h.*, ${CONVERSATION_COLUMNS} FROM handoff h JOIN conversation c ON c.id = h.conversation_id
        WHERE h.conversation_id IN (${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)}) AND h.lease_owner = ${owner}
        ORDER BY h.escalated_at`);
      return found.map(both);
    },
    async saveMirror(conversationId, owner, progress) {
      await rows(sql`
        UPDATE handoff SET
          desk_channel = COALESCE(${progress.deskChannel ?? null}::text, desk_channel),
          desk_thread = COALESCE(${progress.deskThread ?? null}::text, desk_thread),
          relayed_seq = GREATEST(relayed_seq, COALESCE(${progress.relayedSeq ?? null}::int, relayed_seq)),
          root_dirty = COALESCE(${progress.rootDirty ?? null}::boolean, root_dirty),
          mirror_inflight = CASE WHEN ${progress.mirrorInflight === undefined} THEN mirror_inflight ELSE ${progress.mirrorInflight ?? null}::text END,
          attempts = 0, last_error = NULL, updated_at = now()
        WHERE conversation_id = ${conversationId}::uuid AND lease_owner = ${owner}
        RETURNING conversation_id`);
    },
    async releaseMirror(conversationId, owner, failure) {
      if (failure) {
        await rows(sql`
          UPDATE handoff SET lease_owner = NULL, lease_until = NULL, attempts = attempts + 1, last_error = ${failure.error},
            next_attempt_at = now() + ${`${Math.max(0, Math.round(failure.retryInMs))} milliseconds`}::interval
          WHERE conversation_id = ${conversationId}::uuid AND lease_owner = ${owner} RETURNING conversation_id`);
      } else {
        await rows(sql`
          UPDATE handoff SET lease_owner = NULL, lease_until = NULL
          WHERE conversation_id = ${conversationId}::uuid AND lease_owner = ${owner} RETURNING conversation_id`);
      }
    },
    async nextMirrorDueInMs() {
      const [r] = await rows(sql`
        SELECT GREATEST(0, EXTRACT(EPOCH FROM (min(next_attempt_at) - now())) * 1000)::float8 AS ms FROM handoff h
        JOIN conversation c ON c.id = h.conversation_id
        WHERE h.next_attempt_at > now() AND (h.desk_thread IS NULL OR h.root_dirty OR c.last_seq > h.relayed_seq)`);
      return r?.ms === null || r?.ms === undefined ? undefined : Number(r.ms);
    },
  };
}
