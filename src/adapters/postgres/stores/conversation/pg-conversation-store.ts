import { and, asc, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { AppendOptions, AppendResult, ConversationPatch, ConversationStore, NewTurn, TurnData } from '../../../../core/index.js';
import { contentKeysOf, type Database } from '../../db/database.js';
import { statement } from '../../db/statement.js';
import { conversation, turn } from '../../schema/index.js';
import { createConversationOpener } from './open-conversations.js';
import { type ConversationRow, conversationColumns, type TurnRow, toConversation, toTurn, turnColumns } from './rows.js';
import { openTurns, unwrapKey, withContent } from './turn-content.js';
import { createTurnAppender, DEFAULT_MAX_BATCH, DEFAULT_MAX_FLUSHES } from './turn-append.js';

const DEFAULT_PAGE = 200;
const UNIQUE_VIOLATION = '23505';
const UUID = /^[0-9a-f-]{36}$/i;

function isUniqueViolation(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === UNIQUE_VIOLATION) return true;
  }
  return false;
}

/** A turn as json_agg writes it: `TurnRow`'s names, the timestamp as text, sealed content as \\x hex. */
type AggregatedTurn = Omit<TurnRow, 'createdAt'> & { createdAt: string; sealed: string | null };

/**
 * A conversation with its recent turns (json_agg) and whether any of the external keys was stored
 * before, in one statement: read for every customer message (`npm run bench` web reply on
 * PostgreSQL, whole request: p95 8 ms on a 2-core Xeon).
 */
const CONTEXT = statement<
  { id: string; recent: number; page: number; external_keys: string[] },
  ConversationRow & { recent: AggregatedTurn[] | string; wrappedKey: Uint8Array | null; keysSeen: boolean }
>(`SELECT ${conversationColumns('c')},
    (SELECT coalesce(json_agg(t ORDER BY t.seq), '[]'::json) FROM (
      SELECT ${turnColumns('t')}, tc.sealed
      FROM turn t LEFT JOIN turn_content tc ON tc.conversation_id = t.conversation_id AND tc.seq = t.seq
      WHERE t.conversation_id = c.id AND t.seq > greatest(0, c.last_seq - :recent::integer)
      ORDER BY t.seq LIMIT :page::integer) t) AS recent,
    (SELECT k.key FROM conversation_key k WHERE k.conversation_id = c.id) AS "wrappedKey",
    EXISTS (SELECT 1 FROM turn WHERE external_key = ANY(:external_keys::text[])) AS "keysSeen"
  FROM conversation c WHERE c.id = :id::uuid`);

const fromHex = (value: string | null | undefined): Buffer | null => (value ? Buffer.from(value.replace(/^\\x/, ''), 'hex') : null);

/**
 * Conversations and their append-only turns in PostgreSQL (or PGlite). Every turn is appended to
 * the verifiable log in the same write (turn-append.ts), its content sealed under the
 * conversation's key (turn-content.ts).
 */
export function createPgConversationStore(database: Database, options: { maxBatch?: number; maxFlushes?: number } = {}): ConversationStore {
  const { db } = database;
  const contentKeys = contentKeysOf(db);
  const maxFlushes = options.maxFlushes ?? DEFAULT_MAX_FLUSHES;
  const open = createConversationOpener(database, contentKeys);
  const appender = createTurnAppender(database, contentKeys, { maxBatch: options.maxBatch ?? DEFAULT_MAX_BATCH, maxFlushes });

  async function find(id: string) {
    if (!UUID.test(id)) return undefined;
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
      return await appender.append({ conversationId, turns: newTurns, patch });
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
      const opened = await open(input);
      // A conversation just created has no turns, key or log entries: its first batch need not read it.
      if (opened.created && maxFlushes === 1) appender.remember(opened.row.id, { row: opened.row, key: null, lastLeaf: null });
      return { conversation: toConversation(opened.row, contentKeys), created: opened.created };
    },
    find,
    async context(id, recent, externalKeys) {
      if (!UUID.test(id)) return undefined;
      const [found] = await database.run(CONTEXT, { id, recent, page: DEFAULT_PAGE, external_keys: externalKeys });
      if (!found) return undefined;
      const { recent: aggregated, wrappedKey, keysSeen, ...row } = found;
      const turns = typeof aggregated === 'string' ? (JSON.parse(aggregated) as AggregatedTurn[]) : aggregated;
      const key = unwrapKey(contentKeys, row.id, wrappedKey);
      return {
        conversation: toConversation(row, contentKeys),
        recentTurns: turns.map(({ sealed, ...t }) =>
          withContent(toTurn({ ...t, data: t.data as TurnData, createdAt: new Date(t.createdAt) }), fromHex(sealed), key),
        ),
        keysSeen: keysSeen === true,
      };
    },
    async tokenHash(id) {
      if (!UUID.test(id)) return undefined;
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
