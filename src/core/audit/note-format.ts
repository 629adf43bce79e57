import { concatBytes, fromBase64, toBase64, utf8 } from './bytes.js';

/**
 * The text formats of C2SP signed notes (https://c2sp.org/signed-note), checkpoints
 * (https://c2sp.org/tlog-checkpoint) and verifier keys, without the cryptography: parsed here once
 * for the Node signer and audit (signed-note.ts) and for the transcript verifier that also runs in
 * browsers (transcript.ts). Base64 must be in its canonical spelling.
 */
export const ED25519_ALG = 0x01;
export const SIGNATURE_DASH = '\u2014 ';
export const ED25519_PUBLIC_KEY_BYTES = 32;

export type NoteFailureCode =
  | 'not_note'
  | 'malformed_signature'
  | 'no_signature'
  | 'invalid_signature'
  | 'wrong_origin'
  | 'malformed_size'
  | 'malformed_root'
  | 'bad_key';

export interface NoteFailure {
  ok: false;
  code: NoteFailureCode;
  reason: string;
}

const fail = (code: NoteFailureCode, reason: string): NoteFailure => ({ ok: false, code, reason });

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  signature: Uint8Array;
}

/** A note split into its body (ending in a newline) and its signature lines. */
export function parseNote(note: string): { ok: true; body: string; signatures: NoteSignature[] } | NoteFailure {
  if (typeof note !== 'string') return fail('not_note', 'not a signed note');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) return fail('not_note', 'not a signed note');
  const signatures: NoteSignature[] = [];
  for (const line of note.slice(split + 2, -1).split('\n')) {
    if (!line.startsWith(SIGNATURE_DASH)) return fail('malformed_signature', 'malformed signature line');
    const parts = line.slice(SIGNATURE_DASH.length).split(' ');
    const raw = parts.length === 2 && parts[0] ? fromBase64(parts[1] as string) : null;
    if (!raw || raw.length < 4) return fail('malformed_signature', 'malformed signature line');
    signatures.push({ name: parts[0] as string, keyId: raw.subarray(0, 4), signature: raw.subarray(4) });
  }
  return { ok: true, body: note.slice(0, split + 1), signatures };
}

export interface CheckpointBody {
  origin: string;
  size: number;
  root: Uint8Array;
}

/** The checkpoint lines `origin\nsize\nbase64(root)\n` (extension lines after them are allowed). */
export function parseCheckpointBody(body: string, origin: string): { ok: true; checkpoint: CheckpointBody } | NoteFailure {
  const [noteOrigin, sizeText, rootText] = body.split('\n');
  if (noteOrigin !== origin) return fail('wrong_origin', `wrong origin "${noteOrigin}" (expected "${origin}")`);
  if (!sizeText || !/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) return fail('malformed_size', 'malformed tree size');
  const root = fromBase64(rootText ?? '');
  if (root?.length !== 32) return fail('malformed_root', 'malformed root hash');
  return { ok: true, checkpoint: { origin: noteOrigin, size: Number(sizeText), root } };
}

export function checkKeyName(name: string): void {
  if (!name || /[\s+]/.test(name)) throw new Error(`key name "${name}" must be non-empty without spaces or "+"`);
}

/** Splits `a+b+…+rest` into `count` parts: the last (base64) may itself contain "+". */
export function splitKey(text: string, count: number): string[] {
  const parts = text.trim().split('+');
  return parts.length < count ? parts : [...parts.slice(0, count - 1), parts.slice(count - 1).join('+')];
}

/** A verifier key `name+hex(keyId)+base64(0x01||publicKey)`, taken apart; the id is not yet checked. */
export function splitVerifierKey(text: string): { ok: true; name: string; keyIdHex: string; publicKey: Uint8Array } | NoteFailure {
  const parts = typeof text === 'string' ? splitKey(text, 3) : [];
  if (parts.length !== 3) return fail('bad_key', 'not a verifier key (name+id+key)');
  const name = parts[0] as string;
  try {
    checkKeyName(name);
  } catch (error) {
    return fail('bad_key', (error as Error).message);
  }
  const raw = fromBase64(parts[2] as string);
  if (!raw || raw.length !== 1 + ED25519_PUBLIC_KEY_BYTES || raw[0] !== ED25519_ALG) return fail('bad_key', 'verifier key is not an Ed25519 key');
  return { ok: true, name, keyIdHex: parts[1] as string, publicKey: raw.subarray(1) };
}

/** What a key id is the SHA-256 of (its first 4 bytes): `name\n || 0x01 || publicKey`. */
export function keyIdPreimage(name: string, publicKey: Uint8Array): Uint8Array {
  return concatBytes(utf8(`${name}\n`), new Uint8Array([ED25519_ALG]), publicKey);
}

/** A signed receipt: the log accepted the leaf at this index (immediate evidence before a checkpoint). */
export function toReceiptBody(origin: string, index: number, leaf: Uint8Array): string {
  return `${origin}/receipt\n${index}\n${toBase64(leaf)}\n`;
}
