import { randomUUID } from 'node:crypto';
import type { NewConversation } from '../../../../core/index.js';
import { type ContentKeys, sealText } from '../../db/content-keys.js';
import type { Connection } from '../../db/database.js';
import { createGroupCommit } from '../../db/group-commit.js';
import { statement } from '../../db/statement.js';
import { type ConversationRow, conversationColumns, handleContext } from './rows.js';

/**
 * Conversations opened together, one statement: each input's row, created by this statement
 * (created true) or there before it (false). A row another transaction created meanwhile, or the
 * same conversation twice in one statement, is in neither part: the caller looks it up.
 */
const OPEN_CONVERSATIONS = statement<
  { id: string[]; channel: string[]; external_id: string[]; token_hash: Array<string | null>; language: string[]; customer_handle: Array<string | null> },
  ConversationRow & { created: boolean }
>(`WITH input AS (
    SELECT * FROM unnest(:id::uuid[], :channel::text[], :external_id::text[], :token_hash::text[], :language::text[], :customer_handle::text[])
      AS i(id, channel, external_id, token_hash, language, customer_handle)),
  ins AS (
    INSERT INTO conversation (id, channel, external_id, token_hash, language, customer_handle)
    SELECT * FROM input
    ON CONFLICT (channel, external_id) DO NOTHING
    RETURNING ${conversationColumns()})
  SELECT *, true AS created FROM ins
  UNION ALL
  SELECT ${conversationColumns('c')}, false
  FROM conversation c WHERE (c.channel, c.external_id) IN (SELECT channel, external_id FROM input)`);

const FIND_BY_EXTERNAL = statement<{ channel: string; external_id: string }, ConversationRow>(
  `SELECT ${conversationColumns()} FROM conversation WHERE channel = :channel::text AND external_id = :external_id::text`,
);

/**
 * Opens conversations: new chats arriving together under load are inserted by one statement. Each
 * caller gets its row and whether it created it; a row another caller created first is looked up.
 */
export function createConversationOpener(connection: Connection, contentKeys: ContentKeys) {
  const openAll = createGroupCommit(async (inputs: NewConversation[]): Promise<Array<{ row: ConversationRow; created: boolean } | undefined>> => {
    const ids = inputs.map(() => randomUUID());
    const rows = await connection.run(OPEN_CONVERSATIONS, {
      id: ids,
      channel: inputs.map((i) => i.channel),
      external_id: inputs.map((i) => i.externalId),
      token_hash: inputs.map((i) => i.tokenHash),
      language: inputs.map((i) => i.language),
      customer_handle: inputs.map((i, n) => sealText(contentKeys, i.customerHandle, handleContext(ids[n] as string))),
    });
    const created = new Map<string, ConversationRow>();
    const existing = new Map<string, ConversationRow>();
    for (const { created: isNew, ...row } of rows) (isNew ? created : existing).set(`${row.channel}\u0000${row.externalId}`, row);
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

  return async (input: NewConversation): Promise<{ row: ConversationRow; created: boolean }> => {
    const opened = await openAll(input);
    if (opened) return opened;
    const [existing] = await connection.run(FIND_BY_EXTERNAL, { channel: input.channel, external_id: input.externalId });
    if (!existing) throw new Error('conversation neither created nor found');
    return { row: existing, created: false };
  };
}
