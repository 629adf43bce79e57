import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import {
  checkKeyName,
  ED25519_ALG,
  keyIdPreimage,
  type NoteFailure,
  parseCheckpointBody,
  parseNote,
  SIGNATURE_DASH,
  splitKey,
  splitVerifierKey,
} from './note-format.js';

export { toReceiptBody } from './note-format.js';

/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, and C2SP checkpoints
 * (https://c2sp.org/tlog-checkpoint): `origin\nsize\nbase64(root)\n` plus signature lines
 * `— name base64(keyId4 || signature)`.
 */
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
  return createHash('sha256').update(keyIdPreimage(name, publicKey)).digest().subarray(0, 4);
}

/** A new signer key string `PRIVATE+KEY+name+hex(keyId)+base64(0x01||seed)`; keep it out of the database. */
export function generateSignerKey(name: string): string {
  checkKeyName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519_PREFIX.length);
  const publicKey = rawPublicKey(privateKey);
  return `PRIVATE+KEY+${name}+${toKeyId(name, publicKey).toString('hex')}+${Buffer.concat([Buffer.from([ED25519_ALG]), seed]).toString('base64')}`;
}

function rawPublicKey(key: KeyObject): Buffer {
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_ED25519_PREFIX.length);
}

export function parseSignerKey(text: string): NoteSigner {
  const parts = splitKey(text, 5);
  if (parts.length !== 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw new Error('not a signer key (PRIVATE+KEY+name+id+key)');
  const name = parts[2] as string;
  checkKeyName(name);
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
  const parts = splitVerifierKey(text);
  if (!parts.ok) throw new Error(parts.reason);
  const { name } = parts;
  const publicKey = Buffer.from(parts.publicKey);
  const keyId = toKeyId(name, publicKey);
  if (keyId.toString('hex') !== parts.keyIdHex) throw new Error('verifier key id does not match its key');
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
  return { name, keyId, publicKey, verify: (message, signature) => signature.length === 64 && verify(null, message, key, signature) };
}

/** Signs a note body (text ending in a newline). */
export function signNote(body: string, signer: NoteSigner): string {
  if (!body.endsWith('\n')) throw new Error('a note body ends with a newline');
  const signature = signer.sign(Buffer.from(body, 'utf8'));
  return `${body}\n${SIGNATURE_DASH}${signer.name} ${Buffer.concat([signer.keyId, signature]).toString('base64')}\n`;
}

export type NoteCheck = { ok: true; body: string } | NoteFailure;

/** Checks that `note` carries a valid signature by `verifier`; returns the signed body. */
export function openNote(note: string, verifier: NoteVerifier): NoteCheck {
  const parsed = parseNote(note);
  if (!parsed.ok) return parsed;
  let unknownOnly = true;
  for (const { name, keyId, signature } of parsed.signatures) {
    if (name !== verifier.name || !verifier.keyId.equals(keyId)) continue;
    unknownOnly = false;
    if (verifier.verify(Buffer.from(parsed.body, 'utf8'), Buffer.from(signature))) return { ok: true, body: parsed.body };
  }
  return unknownOnly
    ? { ok: false, code: 'no_signature', reason: `no signature by key ${verifier.name}` }
    : { ok: false, code: 'invalid_signature', reason: 'invalid signature' };
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

export type CheckpointCheck = { ok: true; checkpoint: Checkpoint } | NoteFailure;

/** Verifies a signed checkpoint: signature by `verifier`, expected origin, well-formed size and root. */
export function openCheckpoint(note: string, verifier: NoteVerifier, origin: string): CheckpointCheck {
  const opened = openNote(note, verifier);
  if (!opened.ok) return opened;
  const parsed = parseCheckpointBody(opened.body, origin);
  if (!parsed.ok) return parsed;
  return { ok: true, checkpoint: { ...parsed.checkpoint, root: Buffer.from(parsed.checkpoint.root) } };
}
