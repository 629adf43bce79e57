import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { describe, expect, it } from 'vitest';
import { createFirewall, SCREEN_MARGIN_CHARS } from '../../src/core/index.js';
import { seededMnemonic } from '../support/mnemonics.js';

const firewall = createFirewall({ maxMessageChars: 200 });
const phrase = seededMnemonic('firewall-unit', english);
const underscored = phrase.replace(/ /g, '_');

describe('the firewall', () => {
  it('screens every text field of a message: its text and each file name and declared type, and reports what it removed', () => {
    const message = firewall.screen({
      text: `[document] my seed is ${phrase}`,
      attachments: [{ type: 'document', fileId: 'doc-1', fileUniqueId: 'u1', fileName: `${underscored}.txt`, mimeType: 'text/plain', fileSize: 10 }],
    });
    expect(message.text).toBe('[document] my seed is [recovery phrase removed]');
    expect(message.attachments).toEqual([
      { type: 'document', fileId: 'doc-1', fileUniqueId: 'u1', fileName: '[recovery phrase removed].txt', mimeType: 'text/plain', fileSize: 10 },
    ]);
    expect(message.screening).toEqual({
      secretTypes: ['recovery_phrase'],
      secretCount: 2,
      truncated: false,
      originalLength: `[document] my seed is ${phrase}`.length,
      acrossMessages: false,
    });
  });

  it("keeps only ids that look like the channel's and drops a declared type that is not a MIME type", () => {
    const [file] = firewall.screen({
      attachments: [{ type: 'photo', fileId: 'not an id: my password is hunter22', fileUniqueId: 'ok_1', mimeType: `image/jpeg; ${phrase}` }],
    }).attachments;
    expect(file).toEqual({ type: 'photo', fileId: null, fileUniqueId: 'ok_1' });
  });

  it('screens only the limit plus a margin of a long text, removes a secret across the cut whole, and never cuts inside a marker', () => {
    const long = `${'x'.repeat(190)} ${phrase} ${'y'.repeat(100_000)}`;
    const message = firewall.screen({ text: long });
    expect(message.text).toBe('x'.repeat(190));
    expect(message.screening).toMatchObject({ secretTypes: ['recovery_phrase'], truncated: true, originalLength: long.length });
    // A phrase beyond the limit and the margin is never looked at: it is cut off unread.
    const far = firewall.screen({ text: `${'z '.repeat(200 + SCREEN_MARGIN_CHARS)}${phrase}` });
    expect(far.screening.secretTypes).toEqual([]);
    expect(far.text).not.toContain(phrase.split(' ')[0]);
  });

  it('screens the name a customer goes by', () => {
    expect(firewall.screenName(`${phrase} Zhang`)).toBe('[recovery phrase removed] Zhang');
    expect(firewall.screenName('@wei_zhang')).toBe('@wei_zhang');
    expect(firewall.screenName('')).toBeNull();
  });

  it('revives a message kept as JSON by screening it again, keeping what was found the first time', () => {
    const kept = JSON.parse(JSON.stringify(firewall.screen({ text: `my seed is ${phrase}` })));
    expect(firewall.revive(kept)).toEqual(firewall.screen({ text: `my seed is ${phrase}` }));
    // Whatever was put in its place is screened too.
    const tampered = firewall.revive({ ...kept, text: `my seed is ${phrase}` });
    expect(tampered?.text).toBe('my seed is [recovery phrase removed]');
    expect(tampered?.screening.secretCount).toBe(2);
    expect(firewall.revive({ text: 1 })).toBeUndefined();
    expect(firewall.revive(null)).toBeUndefined();
  });

  it('continues from the previous message: the part of a split phrase in this one goes, and the report says it spans both', () => {
    const words = phrase.split(' ');
    const first = firewall.screen({ text: `my seed phrase is ${words.slice(0, 5).join(' ')}` });
    expect(first.screening.secretTypes).toEqual([]);
    const second = firewall.screen({ text: `${words.slice(5).join(' ')} thanks` });
    expect(second.screening.secretTypes).toEqual([]);
    const continued = firewall.continueFrom(second, first.text);
    expect(continued.text).toBe('[recovery phrase removed] thanks');
    expect(continued.screening).toMatchObject({ secretTypes: ['recovery_phrase'], secretCount: 1, acrossMessages: true });
    expect(firewall.continueFrom(second, undefined)).toBe(second);
    expect(firewall.continueFrom(firewall.screen({ text: 'and my deposit?' }), first.text).screening.acrossMessages).toBe(false);
  });
});
