import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';

/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, and C2SP checkpoints
 * (https://c2sp.org/tlog-checkpoint): `origin\nsize\nbase64(root)\n` plus signature lines
 * `— name base64(keyId4 || signature)`.
 */
const ED25519_ALG = 0x01;
const SIGNATURE_DASH = '\u2014 ';
// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// SubjectPublicKeyInfo wrapping of a raw 32-byte Ed25519 public key.
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface NoteSigner {
  name: string;
  keyId: Buffer;
  /** The verifier key string `name+hex(keyId)+base64(0x01||publicKey)` to publish. */
  verifierKey: string;
  sign(message: Buffer): Buffer;
}

export interface NoteVerifier {
  name: string;
  keyId: Buffer;
  publicKey: Buffer;
  verify(message: Buffer, signature: Buffer): boolean;
}

function toKeyId(name: string, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from(`${name}\n`, 'utf8'))
    .update(Buffer.from([ED25519_ALG]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

function checkName(name: string): void {
  if (!name || /[\s+]/.test(name)) throw new Error(`key name "${name}" must be non-empty without spaces or "+"`);
}

/** A new signer key string `PRIVATE+KEY+name+hex(keyId)+base64(0x01||seed)`; keep it out of the database. */
export function generateSignerKey(name: string): string {
  checkName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519_PREFIX.length);
  const publicKey = rawPublicKey(privateKey);
  return `PRIVATE+KEY+${name}+${toKeyId(name, publicKey).toString('hex')}+${Buffer.concat([Buffer.from([ED25519_ALG]), seed]).toString('base64')}`;
}

function rawPublicKey(key: KeyObject): Buffer {
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_ED25519_PREFIX.length);
}

/** Splits `a+b+…+rest` into `count` parts: the last (base64) may itself contain "+". */
function splitKey(text: string, count: number): string[] {
  const parts = text.trim().split('+');
  return parts.length < count ? parts : [...parts.slice(0, count - 1), parts.slice(count - 1).join('+')];
}

export function parseSignerKey(text: string): NoteSigner {
  const parts = splitKey(text, 5);
  if (parts.length !== 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw new Error('not a signer key (PRIVATE+KEY+name+id+key)');
  const name = parts[2] as string;
  checkName(name);
  const raw = Buffer.from(parts[4] as string, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519_ALG) throw new Error('signer key is not an Ed25519 key');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, raw.subarray(1)]), format: 'der', type: 'pkcs8' });
  const publicKey = rawPublicKey(privateKey);
  const keyId = toKeyId(name, publicKey);
  if (keyId.toString('hex') !== parts[3]) throw new Error('signer key id does not match its key');
  return {
    name,
    keyId,
    verifierKey: `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([ED25519_ALG]), publicKey]).toString('base64')}`,
    sign: (message) => sign(null, message, privateKey),
  };
}

export function parseVerifierKey(text: string): NoteVerifier {
  const parts = splitKey(text, 3);
  if (parts.length !== 3) throw new Error('not a verifier key (name+id+key)');
  const name = parts[0] as string;
  checkName(name);
  const raw = Buffer.from(parts[2] as string, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519_ALG) throw new Error('verifier key is not an Ed25519 key');
  const publicKey = raw.subarray(1);
  const keyId = toKeyId(name, publicKey);
  if (keyId.toString('hex') !== parts[1]) throw new Error('verifier key id does not match its key');
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
  return { name, keyId, publicKey, verify: (message, signature) => signature.length === 64 && verify(null, message, key, signature) };
}

/** Signs a note body (text ending in a newline). */
export function signNote(body: string, signer: NoteSigner): string {
  if (!body.endsWith('\n')) throw new Error('a note body ends with a newline');
  const signature = signer.sign(Buffer.from(body, 'utf8'));
  return `${body}\n${SIGNATURE_DASH}${signer.name} ${Buffer.concat([signer.keyId, signature]).toString('base64')}\n`;
}

export type NoteCheck = { ok: true; body: string } | { ok: false; reason: string };

/** Checks that `note` carries a valid signature by `verifier`; returns the signed body. */
export function openNote(note: string, verifier: NoteVerifier): NoteCheck {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) return { ok: false, reason: 'not a signed note' };
  const body = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  let unknownOnly = true;
  for (const line of lines) {
    if (!line.startsWith(SIGNATURE_DASH)) return { ok: false, reason: 'malformed signature line' };
    const [name, b64] = line.slice(SIGNATURE_DASH.length).split(' ');
    if (!name || !b64) return { ok: false, reason: 'malformed signature line' };
    const raw = Buffer.from(b64, 'base64');
    if (name !== verifier.name || raw.length < 4 || !raw.subarray(0, 4).equals(verifier.keyId)) continue;
    unknownOnly = false;
    if (verifier.verify(Buffer.from(body, 'utf8'), raw.subarray(4))) return { ok: true, body };
  }
  return { ok: false, reason: unknownOnly ? `no signature by key ${verifier.name}` : 'invalid signature' };
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

export function toCheckpointBody(checkpoint: Checkpoint): string {
  return `${checkpoint.origin}\n${checkpoint.size}\n${checkpoint.root.toString('base64')}\n`;
}

export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): string {
  return signNote(toCheckpointBody(checkpoint), signer);
}

export type CheckpointCheck = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string };

/** Verifies a signed checkpoint: signature by `verifier`, expected origin, well-formed size and root. */
export function openCheckpoint(note: string, verifier: NoteVerifier, origin: string): CheckpointCheck {
  const opened = openNote(note, verifier);
  if (!opened.ok) return opened;
  const lines = opened.body.split('\n');
  const [noteOrigin, sizeText, rootText] = lines;
  if (noteOrigin !== origin) return { ok: false, reason: `wrong origin "${noteOrigin}" (expected "${origin}")` };
  if (!sizeText || !/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) return { ok: false, reason: 'malformed tree size' };
  const root = Buffer.from(rootText ?? '', 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootText) return { ok: false, reason: 'malformed root hash' };
  return { ok: true, checkpoint: { origin: noteOrigin, size: Number(sizeText), root } };
}

/** A signed receipt: the log accepted the leaf at this index (immediate evidence before a checkpoint). */
export function toReceiptBody(origin: string, index: number, leaf: Buffer): string {
  return `${origin}/receipt\n${index}\n${leaf.toString('base64')}\n`;
}
