import { createCipheriv, createDecipheriv } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { type CustomerFileStore, type CustomerImageType, freshRandom, type StoredFileInfo } from '../../../core/index.js';
import { contentKeysOf, type Db } from '../db/database.js';
import { conversationKey, customerFile } from '../schema/index.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Bound to the file and the part (bytes or name): a sealed value moved to another row does not open. */
const context = (conversationId: string, fileId: string, part: 'data' | 'name') => Buffer.from(`customer-file:${conversationId}:${fileId}:${part}`, 'utf8');

function seal(key: Buffer, aad: Buffer, plaintext: Uint8Array): Buffer {
  const iv = freshRandom(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function open(key: Buffer, aad: Buffer, sealed: Uint8Array): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const plain = decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES));
  decipher.final();
  return plain;
}

/** Thrown by save when the conversation holds no content key (erased, or nothing written yet). */
export class NoContentKeyError extends Error {
  override readonly name = 'NoContentKeyError';
}

/**
 * Customers' uploaded files in PostgreSQL (or PGlite), sealed with AES-256-GCM under the
 * conversation's content key (the same key as its turns): erasing the conversation deletes the key
 * and these rows (pg-turn-log.ts), and the master key rotation that follows leaves earlier copies
 * unreadable too.
 */
/** What a file's listing needs: everything but the sealed bytes. */
const INFO_COLUMNS = {
  id: customerFile.id,
  conversationId: customerFile.conversationId,
  mediaType: customerFile.mediaType,
  size: customerFile.size,
  sealedName: customerFile.sealedName,
  createdAt: customerFile.createdAt,
};

export function createPgCustomerFileStore(db: Db): CustomerFileStore {
  const keys = contentKeysOf(db);

  async function keyOf(conversationId: string): Promise<Buffer | undefined> {
    const [row] = await db.select({ key: conversationKey.key }).from(conversationKey).where(eq(conversationKey.conversationId, conversationId));
    return row ? keys.unwrap(row.key, conversationId) : undefined;
  }

  const toInfo = (row: Omit<typeof customerFile.$inferSelect, 'sealed'>, name: string | null): StoredFileInfo => ({
    id: row.id,
    conversationId: row.conversationId,
    mediaType: row.mediaType as CustomerImageType,
    size: row.size,
    fileName: name,
    createdAt: row.createdAt,
  });

  function openName(key: Buffer, row: { id: string; conversationId: string; sealedName: Buffer | null }): string | null {
    return row.sealedName ? open(key, context(row.conversationId, row.id, 'name'), row.sealedName).toString('utf8') : null;
  }

  return {
    async save(file) {
      const key = await keyOf(file.conversationId);
      if (!key) throw new NoContentKeyError(`conversation ${file.conversationId} has no content key`);
      const [row] = await db
        .insert(customerFile)
        .values({
          id: file.id,
          conversationId: file.conversationId,
          mediaType: file.mediaType,
          size: file.data.byteLength,
          sealedName: file.fileName ? seal(key, context(file.conversationId, file.id, 'name'), Buffer.from(file.fileName, 'utf8')) : null,
          sealed: seal(key, context(file.conversationId, file.id, 'data'), file.data),
        })
        .returning(INFO_COLUMNS);
      if (!row) throw new Error('customer file insert returned nothing');
      return toInfo(row, file.fileName ?? null);
    },

    async read(fileId) {
      if (!/^[0-9a-f-]{36}$/i.test(fileId)) return undefined;
      const [row] = await db.select().from(customerFile).where(eq(customerFile.id, fileId));
      if (!row) return undefined;
      const key = await keyOf(row.conversationId);
      if (!key) return undefined;
      return { ...toInfo(row, openName(key, row)), data: open(key, context(row.conversationId, row.id, 'data'), row.sealed) };
    },

    async list(conversationId) {
      const rows = await db
        .select(INFO_COLUMNS)
        .from(customerFile)
        .where(eq(customerFile.conversationId, conversationId))
        .orderBy(asc(customerFile.createdAt), asc(customerFile.id));
      if (rows.length === 0) return [];
      const key = await keyOf(conversationId);
      if (!key) return [];
      return rows.map((row) => toInfo(row, openName(key, row)));
    },

    async remove(fileId) {
      await db.delete(customerFile).where(eq(customerFile.id, fileId));
    },
  };
}
