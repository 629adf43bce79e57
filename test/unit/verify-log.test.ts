import { describe, expect, it } from 'vitest';
import { type AuditEntry, createLogVerifier, leafHash, LOG_FORMAT_VERSION, toHeaderBytes } from '../../src/core/index.js';

const CONV = '0d119389-47d4-45b7-91a4-25632c56fa8a';

/** Close entries of one conversation (no content to check), each naming `prev` as its previous. */
function closeEntry(idx: number, prev: string | null): AuditEntry {
  const header = toHeaderBytes({ v: LOG_FORMAT_VERSION, kind: 'close', conv: CONV, seq: 0, prev, at: 1_700_000_000_000 + idx });
  return { idx, leafHash: leafHash(header), header, kind: 'close', conversationId: CONV, seq: 0 };
}

function audit(prevOfSecond: (firstLeafHex: string) => string | null) {
  const v = createLogVerifier({ origin: 'test', verifier: undefined });
  const first = closeEntry(0, null);
  v.feed(first);
  v.feed(closeEntry(1, prevOfSecond(Buffer.from(first.leafHash).toString('hex'))));
  return v.finish(undefined);
}

describe('the audit of conversation links', () => {
  it('accepts an entry whose prev is the lowercase hex of the previous leaf', () => {
    expect(audit((hex) => hex).violations).toEqual([]);
  });

  it.each([
    ['uppercase hex', (hex: string) => hex.toUpperCase()],
    ['another leaf', (hex: string) => `${hex.slice(0, 63)}${hex[63] === '0' ? '1' : '0'}`],
    ['a prefix', (hex: string) => hex.slice(0, 62)],
    ['trailing text', (hex: string) => `${hex}00`],
    ['no prev', () => null],
  ])('reports a broken link when prev is %s', (_, prev) => {
    const report = audit(prev);
    expect(report.firstFailingIndex).toBe(1);
    expect(report.violations.map((x) => x.reason)).toEqual([
      `conversation ${CONV}: link to the previous entry is broken (an entry was removed, inserted or reordered)`,
    ]);
  });
});
