import type {
  AnswerMode,
  Channel,
  Conversation,
  ConversationState,
  EscalationReason,
  Language,
  Priority,
  Role,
  Turn,
  TurnData,
  TurnKind,
} from '../../../../core/index.js';
import { type ContentKeys, openText } from '../../db/content-keys.js';
import type { conversation, turn } from '../../schema/index.js';

export type ConversationRow = typeof conversation.$inferSelect;

/** The columns of a turn row that core's Turn is made from (its plain metadata columns repeat its content). */
export type TurnRow = Pick<
  typeof turn.$inferSelect,
  | 'conversationId'
  | 'seq'
  | 'role'
  | 'kind'
  | 'text'
  | 'language'
  | 'data'
  | 'answerMode'
  | 'escalationReason'
  | 'escalationPriority'
  | 'escalationDetail'
  | 'createdAt'
>;

/**
 * A conversation row's columns for hand-written statements, named as drizzle names them, so that
 * their rows are `ConversationRow`s too; `table` qualifies them (an alias, or empty).
 */
export function conversationColumns(table = ''): string {
  const q = table ? `${table}.` : '';
  return `${q}id, ${q}channel, ${q}external_id AS "externalId", ${q}token_hash AS "tokenHash", ${q}language,
    ${q}language_chosen AS "languageChosen", ${q}state, ${q}priority, ${q}escalation_reason AS "escalationReason",
    ${q}customer_handle AS "customerHandle", ${q}last_seq AS "lastSeq", ${q}created_at AS "createdAt", ${q}updated_at AS "updatedAt"`;
}

/** The same for a turn row (`TurnRow`). */
export function turnColumns(table = ''): string {
  const q = table ? `${table}.` : '';
  return `${q}conversation_id AS "conversationId", ${q}seq, ${q}role, ${q}kind, ${q}text, ${q}language, ${q}data,
    ${q}answer_mode AS "answerMode", ${q}escalation_reason AS "escalationReason", ${q}escalation_priority AS "escalationPriority",
    ${q}escalation_detail AS "escalationDetail", ${q}created_at AS "createdAt"`;
}

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

/** The one mapping of a turn row as core sees it (content as the row holds it: see turn-content.ts). */
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
