import { sql } from 'drizzle-orm';
import { type ContentKeys, openText, sealText } from '../db/content-keys.js';
import { type Db, queryRows } from '../db/database.js';
import { openPayload, outboxContext, sealPayload, updateContext } from './pg-telegram-store.js';

/** A text[] literal of values that are base64 or null (no quoting needed beyond NULL). */
const toTextArray = (values: Array<string | null>) => `{${values.map((v) => (v === null ? 'NULL' : `"${v}"`)).join(',')}}`;

export interface RotationResult {
  /** The master version everything is wrapped under now. */
  version: number;
  rewrapped: number;
  resealed: number;
  /** Versions no longer needed: forgotten from the key file, or to be removed from CONTENT_MASTER_KEY by the operator. */
  retired: number[];
}

/**
 * Moves every content key and sealed channel payload under a new master key and forgets the old
 * ones, so that whatever was copied before (a backup, the WAL, old row versions) holds keys that
 * nothing left can unwrap: this is what makes an erasure hold against copies of the files.
 *
 * With a key file a new version is added to it first (written before it is used) and the old ones
 * are removed from it at the end. With CONTENT_MASTER_KEY the operator adds the new version to the
 * variable beforehand; this moves everything under the highest version and names the versions to
 * remove. Rows written meanwhile by other instances are locked out for the moment of the re-wrap;
 * instances sharing the key file read the new version from it before they wrap or seal, and a
 * value sealed under a retired version is refused by the database (a trigger), so it is sealed again.
 */
export async function rotateContentKeys(db: Db, keys: ContentKeys): Promise<RotationResult> {
  const version = keys.source === 'env' ? keys.current : keys.addVersion();
  const fingerprint = keys.fingerprints().find((f) => f.version === version)?.fingerprint;
  if (!fingerprint) throw new Error(`content master key v${version} has no fingerprint`);
  await db.execute(sql`INSERT INTO content_master (version, fingerprint) VALUES (${version}, ${fingerprint}) ON CONFLICT DO NOTHING`);
  const counts = await db.transaction(async (tx) => {
    // Writers of wrapped keys, handles and payloads are held off until commit (conversation first:
    // the order in which the turn batch takes them, so that neither waits on the other in a cycle).
    await tx.execute(sql`LOCK TABLE conversation, conversation_key, channel_update, channel_outbox IN SHARE ROW EXCLUSIVE MODE`);
    const q = tx as unknown as Db;
    const stored = await queryRows<{ conversation_id: string; key: Uint8Array }>(q, sql`SELECT conversation_id, key FROM conversation_key`);
    const moved = stored.filter((r) => keys.versionOf(r.key) !== version || r.key.length === 32);
    if (moved.length > 0) {
      const ids = moved.map((r) => r.conversation_id);
      const wrapped = moved.map((r) => keys.wrap(keys.unwrap(r.key, r.conversation_id), r.conversation_id).toString('hex'));
      await tx.execute(
        sql`UPDATE conversation_key k SET key = decode(v.key, 'hex')
            FROM unnest(${`{${ids.join(',')}}`}::uuid[], ${`{${wrapped.join(',')}}`}::text[]) AS v(id, key) WHERE k.conversation_id = v.id`,
      );
    }
    // Replies sent or given up are not needed any more (their dedupe keys stay): emptied, not re-sealed.
    await tx.execute(sql`UPDATE channel_outbox SET payload = '{}'::jsonb WHERE status <> 'pending' AND payload <> '{}'::jsonb`);
    let resealed = 0;
    const updates = await queryRows<{ source: string; update_id: string | number; payload: unknown }>(
      q,
      sql`SELECT source, update_id, payload FROM channel_update WHERE payload IS NOT NULL`,
    );
    for (const u of updates) {
      const context = updateContext(u.source, Number(u.update_id));
      const payload = sealPayload(keys, openPayload(keys, u.payload, context), context);
      await tx.execute(
        sql`UPDATE channel_update SET payload = ${JSON.stringify(payload)}::jsonb WHERE source = ${u.source} AND update_id = ${Number(u.update_id)}`,
      );
      resealed += 1;
    }
    const messages = await queryRows<{ id: string | number; dedupe_key: string; payload: unknown }>(
      q,
      sql`SELECT id, dedupe_key, payload FROM channel_outbox WHERE payload <> '{}'::jsonb`,
    );
    for (const m of messages) {
      const context = outboxContext(m.dedupe_key);
      const payload = sealPayload(keys, openPayload(keys, m.payload, context), context);
      await tx.execute(sql`UPDATE channel_outbox SET payload = ${JSON.stringify(payload)}::jsonb WHERE id = ${Number(m.id)}`);
      resealed += 1;
    }
    const handles = await queryRows<{ id: string; customer_handle: string }>(
      q,
      sql`SELECT id, customer_handle FROM conversation WHERE customer_handle LIKE 'sealed:%'`,
    );
    if (handles.length > 0) {
      const sealed = handles.map((h) => sealText(keys, openText(keys, h.customer_handle, `handle:${h.id}`), `handle:${h.id}`));
      await tx.execute(
        sql`UPDATE conversation c SET customer_handle = v.handle
            FROM unnest(${`{${handles.map((h) => h.id).join(',')}}`}::uuid[], ${toTextArray(sealed)}::text[]) AS v(id, handle) WHERE c.id = v.id`,
      );
      resealed += handles.length;
    }
    // Retired in the same commit: a writer whose insert waited on the locks above, with a value
    // sealed before the new version existed, is refused by the database (drizzle/0022) and seals
    // again, instead of storing a row that nothing could open once the old key is forgotten.
    await tx.execute(sql`DELETE FROM content_master WHERE version < ${version}`);
    return { rewrapped: moved.length, resealed };
  });
  const retired = keys
    .fingerprints()
    .map((f) => f.version)
    .filter((v) => v < version);
  if (keys.source !== 'env') keys.retireBelow(version);
  return { version, ...counts, retired };
}
