import { and, eq, inArray, sql } from 'drizzle-orm';
import { openContent, type Turn, type TurnContent } from '../../../../core/index.js';
import type { ContentKeys } from '../../db/content-keys.js';
import { contentKeysOf, type Db } from '../../db/database.js';
import { conversationKey, turnContent } from '../../schema/index.js';
import { type TurnRow, toTurn } from './rows.js';

/**
 * A turn with its content: rows written as SEALED_ROW_DATA keep none, their content is opened from
 * `sealed` with the conversation's key; a row whose key or content is gone (erased) reads as empty.
 * Rows written before content was sealed only keep their content in the row.
 */
export function withContent(t: Turn, sealed: Uint8Array | null | undefined, key: Buffer | null): Turn {
  const data = t.data as Record<string, unknown>;
  if (data.sealed !== 1) return t;
  const opened = sealed && key ? openContent(key, t.conversationId, t.seq, sealed) : undefined;
  if (!opened) return { ...t, data: {} };
  const content = JSON.parse(opened.contentBytes.toString('utf8')) as TurnContent;
  return { ...t, text: content.text, data: content.data, escalation: t.escalation ? { ...t.escalation, detail: content.escalationDetail ?? '' } : null };
}

/** The content key of a conversation as stored (wrapped), unwrapped; null when none (never written, or erased). */
export function unwrapKey(keys: ContentKeys, conversationId: string, wrapped: Uint8Array | null | undefined): Buffer | null {
  return wrapped ? keys.unwrap(wrapped, conversationId) : null;
}

const isSealed = (r: TurnRow) => (r.data as { sealed?: number }).sealed === 1;

/** Turn rows of one conversation with their content opened (one read of the sealed contents and the key). */
export async function openTurns(db: Db, conversationId: string, rows: TurnRow[]): Promise<Turn[]> {
  const contentKeys = contentKeysOf(db);
  const seqs = rows.filter(isSealed).map((r) => r.seq);
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

/** Turn rows of any conversations with their content opened, in two reads (contents, keys) whatever their number. */
export async function openTurnsOfMany(db: Db, rows: TurnRow[]): Promise<Turn[]> {
  const sealedRows = rows.filter(isSealed);
  if (sealedRows.length === 0) return rows.map(toTurn);
  const ids = [...new Set(sealedRows.map((r) => r.conversationId))];
  const pairs = sealedRows.map((r) => sql`(${r.conversationId}::uuid, ${r.seq}::integer)`);
  const [contents, wrapped] = await Promise.all([
    db
      .select({ conversationId: turnContent.conversationId, seq: turnContent.seq, sealed: turnContent.sealed })
      .from(turnContent)
      .where(sql`(${turnContent.conversationId}, ${turnContent.seq}) IN (${sql.join(pairs, sql`, `)})`),
    db
      .select({ conversationId: conversationKey.conversationId, key: conversationKey.key })
      .from(conversationKey)
      .where(inArray(conversationKey.conversationId, ids)),
  ]);
  const contentKeys = contentKeysOf(db);
  const sealed = new Map(contents.map((c) => [`${c.conversationId}:${c.seq}`, c.sealed]));
  const keys = new Map(wrapped.map((w) => [w.conversationId, unwrapKey(contentKeys, w.conversationId, w.key)]));
  return rows.map((r) => withContent(toTurn(r), sealed.get(`${r.conversationId}:${r.seq}`), keys.get(r.conversationId) ?? null));
}
