import { describe, expect, it } from 'vitest';
import {
  generateSignerKey,
  isCanonicalJsonText,
  jsonEqual,
  newContentKey,
  openCheckpoint,
  openContent,
  openNote,
  parseHeader,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  signNote,
  toCanonicalJson,
  toContentBytes,
  toContentCommitment,
  toTurnEntry,
} from '../../src/core/index.js';

const facts = {
  conversationId: '6f1c2a4e-1111-4c2b-9f00-0123456789ab',
  seq: 7,
  role: 'customer' as const,
  kind: 'message' as const,
  language: 'zh',
  data: { citations: [{ id: 'withdrawal-pending', title: '提现', version: 3 }] },
  answerMode: null,
  escalation: null,
  text: '我的提现一直没到账 🙏 — naïve \ud800 "quotes"\n第二行',
  prev: 'ab'.repeat(32),
  at: 1_795_000_000_123,
};

describe('canonical log entries', () => {
  it('encodes JSON canonically: sorted keys, no whitespace, exact Unicode', () => {
    expect(toCanonicalJson({ b: 1, a: [true, null, 'é'], c: { z: 0.5, y: -2 } })).toBe('{"a":[true,null,"é"],"b":1,"c":{"y":-2,"z":0.5}}');
    expect(isCanonicalJsonText({ a: 1, b: 2 }, '{"a":1,"b":2}')).toBe(true);
    expect(isCanonicalJsonText(JSON.parse('{"b":2,"a":1}'), '{"b":2,"a":1}')).toBe(false);
    expect(isCanonicalJsonText(JSON.parse('{"a": 1}'), '{"a": 1}')).toBe(false);
    expect(isCanonicalJsonText(JSON.parse('{"a":"\\u00e9"}'), '{"a":"\\u00e9"}')).toBe(false);
    expect(() => toCanonicalJson({ a: Number.NaN })).toThrow();
  });

  it('compares JSON values exactly when their canonical encodings are equal', () => {
    const values: unknown[] = [
      null,
      0,
      -0,
      1,
      1.5,
      '1',
      '',
      'é',
      true,
      false,
      [],
      {},
      [1, 2],
      [2, 1],
      [null],
      [[]],
      { a: 1 },
      { a: 1, b: 2 },
      { b: 2, a: 1 },
      { a: [1, { c: 'x' }] },
      { a: [1, { c: 'y' }] },
      { a: null },
      { b: null },
      { a: {} },
      { a: [] },
      { citations: [{ id: 'faq', version: 2 }] },
    ];
    for (const a of values) {
      for (const b of values) {
        const x = JSON.parse(JSON.stringify(a));
        const y = JSON.parse(JSON.stringify(b));
        expect(jsonEqual(x, y), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(toCanonicalJson(x) === toCanonicalJson(y));
      }
    }
  });

  it('commits to the content with a salt and keeps personal data out of the header', () => {
    const key = newContentKey();
    const { header, headerBytes, sealed } = toTurnEntry(facts, key);
    const text = headerBytes.toString('utf8');
    expect(text).not.toContain('提现一直');
    expect(text).toContain('"cites":[["withdrawal-pending",3]]');
    expect(header.at).toBe(1_795_000_000_123);
    const parsed = parseHeader(headerBytes);
    expect(parsed.ok && parsed.header).toEqual(header);
    const opened = openContent(key, facts.conversationId, facts.seq, sealed);
    if (!opened) throw new Error('content did not open');
    expect(toContentCommitment(opened.salt, opened.contentBytes)).toBe(header.commit);
    expect(opened.contentBytes.equals(toContentBytes({ text: facts.text, data: facts.data, escalationDetail: null }))).toBe(true);
    // Unicode (emoji, CJK, a lone surrogate) survives exactly: the lone surrogate as an escape.
    expect(JSON.parse(opened.contentBytes.toString('utf8')).text).toBe(facts.text);
    // The same content twice gives different commitments (salted), so short answers cannot be guessed.
    expect(toTurnEntry(facts, key).header.commit).not.toBe(header.commit);
  });

  it('refuses sealed content moved to another turn, another key, or altered', () => {
    const key = newContentKey();
    const { sealed } = toTurnEntry(facts, key);
    expect(openContent(key, facts.conversationId, facts.seq + 1, sealed)).toBeUndefined();
    expect(openContent(newContentKey(), facts.conversationId, facts.seq, sealed)).toBeUndefined();
    const altered = Buffer.from(sealed);
    altered[20] = (altered[20] as number) ^ 1;
    expect(openContent(key, facts.conversationId, facts.seq, altered)).toBeUndefined();
  });

  it('refuses headers that are not canonical, not UTF-8 or of an unknown kind', () => {
    const { headerBytes } = toTurnEntry(facts, newContentKey());
    const spaced = Buffer.from(headerBytes.toString('utf8').replace('{', '{ '));
    expect(parseHeader(spaced)).toMatchObject({ ok: false, reason: 'header bytes are not canonical' });
    expect(parseHeader(Buffer.from([0x7b, 0xff, 0x7d]))).toMatchObject({ ok: false });
    expect(parseHeader(Buffer.from('{"at":1,"conv":"x","kind":"wipe","prev":null,"v":1}'))).toMatchObject({ ok: false, reason: 'unknown entry kind wipe' });
  });
});

describe('signed notes and checkpoints (C2SP)', () => {
  it('signs and verifies checkpoints; rejects another key, an edited body and a wrong origin', () => {
    const signer = parseSignerKey(generateSignerKey('log.example/turns'));
    const verifier = parseVerifierKey(signer.verifierKey);
    const root = Buffer.alloc(32, 7);
    const note = signCheckpoint({ origin: 'log.example/turns', size: 42, root }, signer);
    expect(note).toMatch(/^log\.example\/turns\n42\n[A-Za-z0-9+/]{43}=\n\n\u2014 log\.example\/turns [A-Za-z0-9+/]+=*\n$/);
    const opened = openCheckpoint(note, verifier, 'log.example/turns');
    expect(opened.ok && opened.checkpoint.size).toBe(42);
    expect(openCheckpoint(note.replace('\n42\n', '\n43\n'), verifier, 'log.example/turns')).toMatchObject({ ok: false, reason: 'invalid signature' });
    expect(openCheckpoint(note, verifier, 'other.example/turns')).toMatchObject({ ok: false });
    const other = parseVerifierKey(parseSignerKey(generateSignerKey('log.example/turns')).verifierKey);
    expect(openNote(note, other)).toMatchObject({ ok: false, reason: 'no signature by key log.example/turns' });
  });

  it('round-trips key strings whose base64 contains "+"', () => {
    let tested = 0;
    for (let i = 0; i < 200 && tested < 3; i++) {
      const text = generateSignerKey('k.example');
      const signer = parseSignerKey(text);
      if (!text.split('+').slice(4).join('+').includes('+') && !signer.verifierKey.split('+').slice(2).join('+').includes('+')) continue;
      tested += 1;
      const verifier = parseVerifierKey(signer.verifierKey);
      expect(openNote(signNote('hello\n', signer), verifier).ok).toBe(true);
    }
    expect(tested).toBe(3);
  });
});
