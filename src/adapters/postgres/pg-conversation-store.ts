import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import type {
  AnswerMode,
  AppendResult,
  Channel,
  Conversation,
  ConversationPatch,
  ConversationState,
  ConversationStore,
  EscalationReason,
  Language,
  NewTurn,
  Priority,
  Role,
  Turn,
  TurnData,
  TurnKind,
} from '../../core/index.js';
import type { Db } from './database.js';
import { conversation, turn } from './schema.js';

type ConversationRow = typeof conversation.$inferSelect;
type TurnRow = typeof turn.$inferSelect;

const DEFAULT_PAGE = 200;
const UNIQUE_VIOLATION = '23505';

function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    channel: row.channel as Channel,
    externalId: row.externalId,
    language: row.language as Language,
    languageChosen: row.languageChosen,
    state: row.state as ConversationState,
    priority: row.priority as Priority,
    escalationReason: (row.escalationReason as EscalationReason | null) ?? null,
    customerHandle: row.customerHandle,
    lastSeq: row.lastSeq,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function toTurn(row: TurnRow): Turn {
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

function isUniqueViolation(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === UNIQUE_VIOLATION) return true;
  }
  return false;
}

/** Conversations and their append-only turns in PostgreSQL (or PGlite). */
export function createPgConversationStore(db: Db): ConversationStore {
  async function find(id: string) {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const [row] = await db.select().from(conversation).where(eq(conversation.id, id));
    return row ? toConversation(row) : undefined;
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
    const turns = [first, ...(end === -1 ? following : following.slice(0, end))].map(toTurn);
    const current = await find(first.conversationId);
    if (!current) return undefined;
    return { conversation: current, turns, duplicate: true };
  }

  async function append(conversationId: string, newTurns: NewTurn[], patch: ConversationPatch = {}): Promise<AppendResult> {
    const keys = newTurns.flatMap((t) => (t.externalKey ? [t.externalKey] : []));
    if (keys.length > 0) {
      const duplicate = await findDuplicate(keys);
      if (duplicate) return duplicate;
    }
    try {
      return await db.transaction(async (tx) => {
        const [locked] = await tx.select().from(conversation).where(eq(conversation.id, conversationId)).for('update');
        if (!locked) throw new Error(`conversation ${conversationId} not found`);
        const rows =
          newTurns.length === 0
            ? []
            : await tx
                .insert(turn)
                .values(
                  newTurns.map((t, i) => ({
                    conversationId,
                    seq: locked.lastSeq + 1 + i,
                    role: t.role,
                    kind: t.kind,
                    text: t.text,
                    language: t.language,
                    data: t.data ?? {},
                    answerMode: t.answerMode ?? null,
                    escalationReason: t.escalation?.reason ?? null,
                    escalationPriority: t.escalation?.priority ?? null,
                    escalationDetail: t.escalation?.detail ?? null,
                    externalKey: t.externalKey ?? null,
                  })),
                )
                .returning();
        const [updated] = await tx
          .update(conversation)
          .set({
            lastSeq: locked.lastSeq + newTurns.length,
            updatedAt: new Date(),
            ...(patch.language !== undefined ? { language: patch.language } : {}),
            ...(patch.languageChosen !== undefined ? { languageChosen: patch.languageChosen } : {}),
            ...(patch.state !== undefined ? { state: patch.state } : {}),
            ...(patch.priority !== undefined ? { priority: patch.priority } : {}),
            ...(patch.escalationReason !== undefined ? { escalationReason: patch.escalationReason } : {}),
          })
          .where(eq(conversation.id, conversationId))
          .returning();
        if (!updated) throw new Error(`conversation ${conversationId} vanished`);
        return {
          conversation: toConversation(updated),
          turns: rows.sort((a, b) => a.seq - b.seq).map(toTurn),
          duplicate: false,
        };
      });
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
      const [created] = await db
        .insert(conversation)
        .values({
          id: randomUUID(),
          channel: input.channel,
          externalId: input.externalId,
          tokenHash: input.tokenHash,
          language: input.language,
          customerHandle: input.customerHandle ?? null,
        })
        .onConflictDoNothing({ target: [conversation.channel, conversation.externalId] })
        .returning();
      if (created) return { conversation: toConversation(created), created: true };
      const [existing] = await db
        .select()
        .from(conversation)
        .where(and(eq(conversation.channel, input.channel), eq(conversation.externalId, input.externalId)));
      if (!existing) throw new Error('conversation neither created nor found');
      return { conversation: toConversation(existing), created: false };
    },
    find,
    async tokenHash(id) {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      const [row] = await db.select({ tokenHash: conversation.tokenHash }).from(conversation).where(eq(conversation.id, id));
      return row ? row.tokenHash : undefined;
    },
    append,
    async turns(conversationId, afterSeq, limit = DEFAULT_PAGE) {
      const rows = await db
        .select()
        .from(turn)
        .where(and(eq(turn.conversationId, conversationId), gt(turn.seq, afterSeq)))
        .orderBy(asc(turn.seq))
        .limit(limit);
      return rows.map(toTurn);
    },
    async listByState(state) {
      const rows = await db
        .select()
        .from(conversation)
        .where(eq(conversation.state, state))
        .orderBy(desc(sql`${conversation.priority} = 'urgent'`), asc(conversation.updatedAt));
      return rows.map(toConversation);
    },
  };
}
