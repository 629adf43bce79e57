import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { freshRandom } from '../../../core/index.js';

/**
 * The master keys that wrap every content key kept in the database. They never enter the database:
 * they come from a file (created with mode 0600 on first start in the embedded default) or from an
 * environment variable. A backup or WAL copied before an erasure holds the erased customer's key
 * only wrapped under a master key that the erasure retired (see rotateContentKeys), so what remains
 * cannot open it.
 *
 * Text format (file or variable): one key per line (or comma), `v<version>:<base64 of 32 bytes>`;
 * the highest version wraps new keys, every listed version unwraps.
 */

const MASTER_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** How often, at most, the key file is looked at for a rotation by another process (see `reload`). */
const RELOAD_CHECK_MS = 200;
/** Wrapped content key: 0x01, master version (u32), iv, ciphertext (32), tag. */
const WRAPPED_KEY = 0x01;
/** Sealed payload: 0x02, master version (u32), iv, ciphertext, tag. */
const SEALED_PAYLOAD = 0x02;
const HEADER_BYTES = 5;
const WRAPPED_BYTES = HEADER_BYTES + IV_BYTES + 32 + TAG_BYTES;

export interface ContentKeys {
  /** Version of the master key that wraps and seals now. */
  readonly current: number;
  /** Wraps a conversation's content key under the current master key, bound to `context` (its conversation id). */
  wrap(key: Uint8Array, context: string): Buffer;
  /**
   * Unwraps a stored content key. A key stored raw (32 bytes, before master keys existed) comes back
   * as it is. Throws when its master key is not known (re-reading the key file first, in case
   * another process rotated).
   */
  unwrap(wrapped: Uint8Array, context: string): Buffer;
  /** Master version a stored key or payload is under (0: stored raw / not sealed). */
  versionOf(stored: Uint8Array): number;
  /**
   * Seals a channel payload (inbox update, outbox message, send result) under a key derived from
   * the current master key: these rows hold customer words for a short while and are re-sealed or
   * purged when the master key changes.
   */
  seal(plaintext: Buffer, context: string): Buffer;
  open(sealed: Uint8Array, context: string): Buffer;
  /** Public fingerprint of each known master version: lets a process check it holds the same keys as the database's writers. */
  fingerprints(): Array<{ version: number; fingerprint: string }>;
  /** Adds a new master version (written to the file before it is used); returns it. Throws when the keys come from a variable. */
  addVersion(): number;
  /** Forgets every master version below `version` (rewrites the file). */
  retireBelow(version: number): void;
  /** The master keys as text, for this process's worker threads only (never written anywhere). */
  exportText(): string;
  /** Where the keys come from: `file:<path>`, `env` or `memory`. */
  readonly source: string;
}

export function generateMasterKeyText(version = 1): string {
  return `v${version}:${randomBytes(MASTER_BYTES).toString('base64')}`;
}

export function parseMasterKeys(text: string): Map<number, Buffer> {
  const keys = new Map<number, Buffer>();
  for (const part of text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^v(\d{1,9}):([A-Za-z0-9+/=]+)$/.exec(part);
    const key = match ? Buffer.from(match[2] as string, 'base64') : undefined;
    if (!match || !key || key.length !== MASTER_BYTES) throw new Error('content master key: expected lines v<version>:<base64 of 32 bytes>');
    keys.set(Number(match[1]), key);
  }
  if (keys.size === 0) throw new Error('content master key: no key given');
  return keys;
}

const toText = (keys: Map<number, Buffer>) =>
  `${[...keys]
    .sort((a, b) => b[0] - a[0])
    .map(([v, k]) => `v${v}:${k.toString('base64')}`)
    .join('\n')}\n`;

/** Writes the file whole (temporary file, then rename) with mode 0600. */
function writeKeyFile(file: string, keys: Map<number, Buffer>): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, toText(keys), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

/**
 * Master keys from `text` (an environment variable) when given, else from `file`; an absent file is
 * created with a fresh key when `createIfMissing`. `memory` keys (no file, no variable) live as long
 * as the process: for in-memory databases only.
 */
export function loadContentKeys(options: { text?: string | undefined; file?: string; createIfMissing?: boolean }): { keys: ContentKeys; created: boolean } {
  if (options.text) return { keys: createContentKeys(parseMasterKeys(options.text), 'env'), created: false };
  const file = options.file;
  if (!file) return { keys: createContentKeys(new Map([[1, randomBytes(MASTER_BYTES)]]), 'memory'), created: false };
  let created = false;
  if (!existsSync(file)) {
    if (!options.createIfMissing) throw new Error(`content master key file ${file} not found`);
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeFileSync(file, `${generateMasterKeyText(1)}\n`, { mode: 0o600, flag: 'wx' });
      created = true;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
  }
  return { keys: createContentKeys(parseMasterKeys(readFileSync(file, 'utf8')), `file:${file}`), created };
}

function createContentKeys(initial: Map<number, Buffer>, source: string): ContentKeys {
  let masters = initial;
  // The file is always replaced by a rename: a new inode (or time) means another process rotated.
  const stamp = (path: string) => {
    const st = statSync(path);
    return `${st.ino}:${st.mtimeMs}:${st.size}`;
  };
  let seen = source.startsWith('file:') ? stamp(source.slice(5)) : '';
  const derived = new Map<number, Buffer>();
  const latest = () => Math.max(...masters.keys());
  const file = source.startsWith('file:') ? source.slice(5) : undefined;

  let checkedAt = 0;

  /**
   * Another process may have rotated: the file is read again when it changed. Looked at no more
   * than every `RELOAD_CHECK_MS` (a `stat` per seal cost 0.1 ms of the event loop per Telegram
   * update): a value sealed meanwhile under the version just retired is refused by the database
   * (drizzle/0022), and its writer's retry, later than that, seals under the new one. A version
   * not known here is looked for at once.
   */
  function reload(force = false): boolean {
    if (!file) return false;
    const at = performance.now();
    if (!force && at - checkedAt < RELOAD_CHECK_MS) return false;
    checkedAt = at;
    const now = stamp(file);
    if (now === seen) return false;
    masters = parseMasterKeys(readFileSync(file, 'utf8'));
    seen = now;
    return true;
  }

  function master(version: number): Buffer {
    let key = masters.get(version);
    if (!key && reload(true)) key = masters.get(version);
    if (!key) throw new Error(`content master key v${version} is not known here (${source}): the key file or CONTENT_MASTER_KEY lacks it`);
    return key;
  }

  function payloadKey(version: number): Buffer {
    let key = derived.get(version);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', master(version), Buffer.alloc(0), 'helpdesk channel payloads', 32));
      derived.set(version, key);
    }
    return key;
  }

  function encrypt(tag: number, version: number, key: Buffer, plaintext: Uint8Array, context: string): Buffer {
    const iv = freshRandom(IV_BYTES);
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt8(tag, 0);
    header.writeUInt32BE(version, 1);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.concat([header, Buffer.from(context, 'utf8')]));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, iv, body, cipher.getAuthTag()]);
  }

  function decrypt(stored: Uint8Array, key: Buffer, context: string): Buffer {
    const b = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    const decipher = createDecipheriv('aes-256-gcm', key, b.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES));
    decipher.setAAD(Buffer.concat([b.subarray(0, HEADER_BYTES), Buffer.from(context, 'utf8')]));
    decipher.setAuthTag(b.subarray(b.length - TAG_BYTES));
    const plain = decipher.update(b.subarray(HEADER_BYTES + IV_BYTES, b.length - TAG_BYTES));
    decipher.final();
    return plain;
  }

  const versionOf = (stored: Uint8Array) =>
    stored.length >= HEADER_BYTES + IV_BYTES + TAG_BYTES && (stored[0] === WRAPPED_KEY || stored[0] === SEALED_PAYLOAD)
      ? Buffer.from(stored).readUInt32BE(1)
      : 0;

  return {
    get current() {
      reload(true);
      return latest();
    },
    source,
    wrap(key, context) {
      reload();
      const version = latest();
      return encrypt(WRAPPED_KEY, version, master(version), key, context);
    },
    unwrap(wrapped, context) {
      if (wrapped.length === 32) return Buffer.from(wrapped);
      if (wrapped.length !== WRAPPED_BYTES || wrapped[0] !== WRAPPED_KEY) throw new Error('stored content key has an unknown format');
      return decrypt(wrapped, master(versionOf(wrapped)), context);
    },
    versionOf,
    seal(plaintext, context) {
      reload();
      const version = latest();
      return encrypt(SEALED_PAYLOAD, version, payloadKey(version), plaintext, context);
    },
    open(sealed, context) {
      if (sealed[0] !== SEALED_PAYLOAD) throw new Error('sealed payload has an unknown format');
      return decrypt(sealed, payloadKey(versionOf(sealed)), context);
    },
    exportText: () => toText(masters),
    fingerprints() {
      return [...masters].map(([version, key]) => ({
        version,
        fingerprint: createHash('sha256').update('helpdesk content master key\n').update(key).digest('hex'),
      }));
    },
    addVersion() {
      if (source === 'env') {
        throw new Error('content master keys come from CONTENT_MASTER_KEY: add a new version there (see README, "Erasure"), then run npm run keys:rotate');
      }
      reload(true);
      const version = latest() + 1;
      const next = new Map(masters);
      next.set(version, randomBytes(MASTER_BYTES));
      if (file) writeKeyFile(file, next);
      masters = next;
      if (file) seen = stamp(file);
      return version;
    },
    retireBelow(version) {
      reload(true);
      const kept = new Map([...masters].filter(([v]) => v >= version));
      if (kept.size === 0) throw new Error('refusing to retire every content master key');
      if (source === 'env') {
        masters = kept;
        return;
      }
      if (file) writeKeyFile(file, kept);
      masters = kept;
      for (const v of [...derived.keys()]) if (v < version) derived.delete(v);
      if (file) seen = stamp(file);
    },
  };
}

const SEALED_TEXT_PREFIX = 'sealed:';

/** A short customer-provided text (a name or handle) sealed for a text column: `sealed:<base64>`. */
export function sealText(keys: ContentKeys, text: string | null | undefined, context: string): string | null {
  if (text === null || text === undefined) return null;
  return `${SEALED_TEXT_PREFIX}${keys.seal(Buffer.from(text, 'utf8'), context).toString('base64')}`;
}

/** The text of a `sealText` value; a value stored before sealing comes back as it is, one that no longer opens as null. */
export function openText(keys: ContentKeys, stored: string | null | undefined, context: string): string | null {
  if (stored === null || stored === undefined) return null;
  if (!stored.startsWith(SEALED_TEXT_PREFIX)) return stored;
  try {
    return keys.open(Buffer.from(stored.slice(SEALED_TEXT_PREFIX.length), 'base64'), context).toString('utf8');
  } catch {
    return null;
  }
}
