import { createHash, hash } from 'node:crypto';
import { inclusionSides } from './inclusion-path.js';

/**
 * RFC 6962 / RFC 9162 Merkle tree hashing and proofs. Leaves hash as SHA-256(0x00 || data), inner
 * nodes as SHA-256(0x01 || left || right): the prefixes keep a 64-byte leaf from passing for a node.
 */
export const HASH_BYTES = 32;
const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

export const EMPTY_ROOT = createHash('sha256').digest();

// Hashing is one-shot over a reused buffer: a Hash object per call costs little time by itself, but
// millions of them (the audit) keep the garbage collector busy with their native handles.
let scratch = Buffer.allocUnsafe(4096);
function prefixedSha256(prefix: Uint8Array, a: Uint8Array, b?: Uint8Array): Buffer {
  const length = prefix.length + a.length + (b?.length ?? 0);
  if (length > scratch.length) scratch = Buffer.allocUnsafe(Math.max(length, 2 * scratch.length));
  scratch.set(prefix, 0);
  scratch.set(a, prefix.length);
  if (b) scratch.set(b, prefix.length + a.length);
  return hash('sha256', scratch.subarray(0, length), 'buffer');
}

export function leafHash(data: Uint8Array): Buffer {
  return prefixedSha256(LEAF_PREFIX, data);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return prefixedSha256(NODE_PREFIX, left, right);
}

/** Largest power of two strictly below n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPowerOfTwo = (n: number) => n > 0 && Number.isInteger(Math.log2(n));

/**
 * The right edge of a tree of `size` leaves: the roots of its complete subtrees, largest first (one
 * per set bit of `size`). Enough to append and to compute the root, at most ~64 hashes.
 */
export interface Frontier {
  size: number;
  hashes: Buffer[];
}

export const emptyFrontier = (): Frontier => ({ size: 0, hashes: [] });

/**
 * Appends a leaf hash. `onNode(level, index, hash)` is told about every complete subtree this closes
 * (level >= 1): storage keeps some of them so proofs never need to read every leaf.
 */
export function appendLeaf(frontier: Frontier, leaf: Buffer, onNode?: (level: number, index: number, hash: Buffer) => void): void {
  const hashes = frontier.hashes;
  hashes.push(leaf);
  let size = frontier.size;
  let level = 0;
  const newSize = size + 1;
  while (size % 2 === 1) {
    const right = hashes.pop() as Buffer;
    const left = hashes.pop() as Buffer;
    const combined = nodeHash(left, right);
    hashes.push(combined);
    level += 1;
    onNode?.(level, Math.floor(newSize / 2 ** level) - 1, combined);
    size = Math.floor(size / 2);
  }
  frontier.size = newSize;
}

export function frontierRoot(frontier: Frontier): Buffer {
  const { hashes } = frontier;
  if (hashes.length === 0) return EMPTY_ROOT;
  let root = hashes[hashes.length - 1] as Buffer;
  for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i] as Buffer, root);
  return root;
}

export function encodeFrontier(frontier: Frontier): Buffer {
  return Buffer.concat(frontier.hashes);
}

export function decodeFrontier(size: number, bytes: Uint8Array): Frontier {
  const count = popcount(size);
  if (bytes.length !== count * HASH_BYTES) throw new Error(`frontier of size ${size} needs ${count} hashes, got ${bytes.length} bytes`);
  const hashes: Buffer[] = [];
  for (let i = 0; i < count; i++) hashes.push(Buffer.from(bytes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)));
  return { size, hashes };
}

function popcount(n: number): number {
  let count = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) count += x % 2;
  return count;
}

/** A half-open range of leaves [start, end) whose Merkle tree hash a proof needs. */
export type LeafRange = readonly [start: number, end: number];

/** Ranges of the RFC 9162 inclusion proof PATH(index, D[0:size]), in proof order. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`index ${index} outside a tree of ${size}`);
  const out: LeafRange[] = [];
  const walk = (m: number, start: number, end: number) => {
    const n = end - start;
    if (n <= 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, start, start + k);
      out.push([start + k, end]);
    } else {
      walk(m - k, start + k, end);
      out.push([start, start + k]);
    }
  };
  walk(index, 0, size);
  return out;
}

/** Ranges of the RFC 9162 consistency proof PROOF(m, D[0:n]), in proof order. */
export function consistencyRanges(m: number, n: number): LeafRange[] {
  if (!(m >= 0 && m <= n)) throw new RangeError(`cannot prove ${m} consistent with ${n}`);
  if (m === 0 || m === n) return [];
  const out: LeafRange[] = [];
  const sub = (mm: number, start: number, end: number, whole: boolean) => {
    const nn = end - start;
    if (mm === nn) {
      if (!whole) out.push([start, end]);
      return;
    }
    const k = splitPoint(nn);
    if (mm <= k) {
      sub(mm, start, start + k, whole);
      out.push([start + k, end]);
    } else {
      sub(mm - k, start + k, end, false);
      out.push([start, start + k]);
    }
  };
  sub(m, 0, n, true);
  return out;
}

/**
 * Decomposes a range into complete, aligned subtrees (level, index): the hash of the range folds
 * them right to left. Ranges produced by the proof functions always decompose this way.
 */
export function completeSubtrees(start: number, end: number): Array<{ level: number; index: number }> {
  const out: Array<{ level: number; index: number }> = [];
  let s = start;
  while (s < end) {
    let size = 1;
    while (s % (size * 2) === 0 && s + size * 2 <= end) size *= 2;
    const level = Math.log2(size);
    out.push({ level, index: s / size });
    s += size;
  }
  return out;
}

/** Folds the hashes of `completeSubtrees(start, end)` into the range's Merkle tree hash. */
export function foldSubtrees(hashes: Buffer[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  let h = hashes[hashes.length - 1] as Buffer;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i] as Buffer, h);
  return h;
}

/** RFC 9162 2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: Uint8Array[], root: Uint8Array): boolean {
  const sides = inclusionSides(index, size, proof.length);
  if (!sides || proof.some((p) => p.length !== HASH_BYTES)) return false;
  let r: Uint8Array = leaf;
  proof.forEach((p, i) => {
    r = sides[i] ? nodeHash(p, r) : nodeHash(r, p);
  });
  return Buffer.compare(Buffer.from(r), Buffer.from(root)) === 0;
}

/** RFC 9162 2.1.4.2: does `proof` show the tree of `size1` (`root1`) is a prefix of `size2` (`root2`)? */
export function verifyConsistency(size1: number, size2: number, proof: Uint8Array[], root1: Uint8Array, root2: Uint8Array): boolean {
  const eq = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1) return false;
  if (proof.some((p) => p.length !== HASH_BYTES)) return false;
  if (size1 === size2) return proof.length === 0 && eq(root1, root2);
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0] as Uint8Array;
  let sr: Uint8Array = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return eq(fr, root1) && eq(sr, root2) && sn === 0;
}

/** Root of a whole list of leaf hashes (in memory): for tests, bundles and small trees. */
export function rootOfLeaves(leaves: Buffer[]): Buffer {
  const f = emptyFrontier();
  for (const leaf of leaves) appendLeaf(f, leaf);
  return frontierRoot(f);
}
