import { entropyToMnemonic } from '@scure/bip39';
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { wordlist as simplifiedChinese } from '@scure/bip39/wordlists/simplified-chinese.js';
import { wordlist as traditionalChinese } from '@scure/bip39/wordlists/traditional-chinese.js';
import { describe, expect, it } from 'vitest';
import { readKnowledgeFiles } from '../../src/adapters/knowledge-files/read-knowledge-files.js';
import { createFirewall, detectSecrets, hasValidChecksum, maskSecrets, normalizeInput, toStorableJson } from '../../src/core/index.js';
import { HOSTILE_MESSAGES } from '../../scripts/bench/screening.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';
import { repeatedWordsMnemonic, seededMnemonic, withLookalike } from '../support/mnemonics.js';

const types = (text: string) => maskSecrets(text).types;

/** Three consecutive words of an English phrase, or four characters of a Chinese one, left in a text. */
function leftOf(phrase: string, text: string): string | undefined {
  const words = phrase.split(' ');
  if (/[\u3400-\u9fff]/.test(phrase)) {
    const han = [...text].filter((c) => /[\u3400-\u9fff]/.test(c)).join('');
    return words.map((_, i) => words.slice(i, i + 4).join('')).find((piece, i) => i + 4 <= words.length && han.includes(piece));
  }
  const flat = ` ${text.toLowerCase().replace(/[^a-z]+/g, ' ')} `;
  return words.map((_, i) => words.slice(i, i + 3).join(' ')).find((piece, i) => i + 3 <= words.length && flat.includes(` ${piece} `));
}

describe('recovery phrases', () => {
  const phrase = seededMnemonic('unit-en', english);
  const long = seededMnemonic('unit-en-long', english, 256);

  it.each([
    ['spaces', phrase],
    [
      'numbered lines',
      phrase
        .split(' ')
        .map((w, i) => `${i + 1}. ${w}`)
        .join('\n'),
    ],
    [
      'numbered inline with parentheses',
      phrase
        .split(' ')
        .map((w, i) => `(${i + 1}) ${w}`)
        .join(' '),
    ],
    ['commas in a sentence', `please check, my seed: ${long.split(' ').join(', ')} thanks`],
    ['capitals', phrase.toUpperCase()],
    ['a JSON array', JSON.stringify(long.split(' '))],
  ])('removes an English phrase written with %s', (_, text) => {
    const masked = maskSecrets(text);
    expect(masked.types).toEqual(['recovery_phrase']);
    expect(masked.text).toContain('[recovery phrase removed]');
    for (const word of phrase.split(' ').slice(2, 10)) expect(masked.text.toLowerCase()).not.toMatch(new RegExp(`\\b${word}\\b.*\\b${word}\\b`));
  });

  it('removes Chinese phrases from both Chinese wordlists, spaced, numbered or glued to 助记词', () => {
    const hans = seededMnemonic('unit-hans', simplifiedChinese);
    const hant = seededMnemonic('unit-hant', traditionalChinese, 256);
    expect(maskSecrets(hans).text).toBe('[recovery phrase removed]');
    expect(
      maskSecrets(
        hant
          .split(' ')
          .map((w, i) => `${i + 1}.${w}`)
          .join('\n'),
      ).text,
    ).toBe('1.[recovery phrase removed]');
    // "是" may end the label or start the phrase: it is removed with the phrase when both read as one.
    expect(maskSecrets(`我的助记词是${hans.replace(/ /g, '')}，怎么办`).text).toMatch(/^我的助记词是?\[recovery phrase removed\]，怎么办$/);
    expect(maskSecrets(`助記詞：${hant.replace(/ /g, '')}`).text).toBe('助記詞：[recovery phrase removed]');
  });

  it('removes all of 300 seeded phrases per wordlist when spaced or labelled, and at least 99% when bare and unspaced', () => {
    const missed: string[] = [];
    const bareMissed: string[] = [];
    let bare = 0;
    for (const [name, list] of [
      ['en', english],
      ['hans', simplifiedChinese],
      ['hant', traditionalChinese],
    ] as const) {
      for (let i = 0; i < 300; i++) {
        const phrase = seededMnemonic(`${name}-${i}`, list, i % 2 ? 256 : 128);
        const found = (text: string) => maskSecrets(text).types.includes('recovery_phrase');
        for (const v of [phrase, name === 'en' ? `my seed: ${phrase}` : `助记词${phrase.replace(/ /g, '')}`]) if (!found(v)) missed.push(v);
        if (name === 'en') continue;
        bare++;
        if (!found(phrase.replace(/ /g, ''))) bareMissed.push(phrase);
      }
    }
    expect(missed).toEqual([]);
    expect(bareMissed.length / bare).toBeLessThanOrEqual(0.01);
  });

  it('validates BIP-39 checksums', () => {
    const words = entropyToMnemonic(new Uint8Array(16).fill(7), english).split(' ');
    expect(hasValidChecksum(words)).toBe(true);
    expect(hasValidChecksum([...words.slice(0, 11), words[0] === 'zoo' ? 'abandon' : 'zoo'])).toBe(false);
    expect(hasValidChecksum(words.slice(0, 11))).toBe(false);
  });

  it('leaves ordinary English and Chinese alone, even when made of wordlist words', () => {
    for (const text of [
      'Please help. '.repeat(20),
      'I can not access my account after I changed my phone, what should I do about the two factor code?',
      '我的提现一直没到账，已经等了三个小时了，请帮我看看是怎么回事，谢谢你们的帮助',
      '为什么我的充值还没有到账？我已经转了很久了，交易所说已经发出了',
      'card lost stolen frozen account balance transfer fee limit exchange rate cash',
    ]) {
      expect(detectSecrets(text), text).toEqual([]);
    }
  });

  it('finds no secret in any text of the starter knowledge base', async () => {
    for (const file of await readKnowledgeFiles(KNOWLEDGE_DIR)) {
      if ('error' in file) continue;
      const fm = file.frontMatter as { title: string; questions?: string[] };
      for (const text of [file.body, fm.title, ...(fm.questions ?? [])]) expect(detectSecrets(text), `${file.source}: ${text}`).toEqual([]);
    }
  });
});

describe('phrases the detector used to miss', () => {
  const lists = [
    ['hans', simplifiedChinese],
    ['hant', traditionalChinese],
  ] as const;

  it('removes a Chinese phrase glued into a sentence, with text glued on after it too', () => {
    const missed: string[] = [];
    for (const [name, list] of lists) {
      for (let i = 0; i < 150; i++) {
        const phrase = seededMnemonic(`glued-${name}-${i}`, list, i % 3 ? 128 : 256);
        const label = name === 'hans' ? '我的助记词是' : '我的助記詞是';
        const after = ['请帮我找回钱包', '谢谢你们', '怎么办啊', '帮我看看是不是被盗了'][i % 4] as string;
        const text = `${label}${phrase.replace(/ /g, '')}${after}`;
        const masked = maskSecrets(text).text;
        if (leftOf(phrase, masked)) missed.push(text);
      }
    }
    expect(missed).toEqual([]);
    const example = seededMnemonic('glued-example', simplifiedChinese);
    expect(maskSecrets(`我的助记词是${example.replace(/ /g, '')}请帮我找回钱包`).text).toMatch(/^我的助记词是?\[recovery phrase removed\]/);
  });

  it('removes a private key in a message about a deposit, and keeps a transaction hash there', () => {
    const hex = 'e9873d79c6d87dc0fb6a5778633389f4453213303da61f20bd67fc233aa33262';
    for (const text of [
      `my deposit failed, my key is ${hex}`,
      `deposit not credited. Here is my private key: 0x${hex}`,
      `提现失败了，我的私钥是 ${hex}`,
      `the transfer is stuck, this is the key of my wallet ${hex}`,
    ]) {
      expect(maskSecrets(text).types, text).toEqual(['private_key']);
    }
    for (const text of [
      `my deposit failed, txid ${hex}`,
      `deposit not credited, the tx hash is 0x${hex}`,
      `充值没到账，交易哈希 ${hex}`,
      `my withdrawal key question: where is it? hash ${hex}`,
    ]) {
      expect(maskSecrets(text).types, text).toEqual([]);
    }
  });

  it('removes a phrase with a Cyrillic look-alike letter in one of its words', () => {
    const missed: string[] = [];
    for (let i = 0; i < 300; i++) {
      const phrase = seededMnemonic(`lookalike-${i}`, english, i % 2 ? 256 : 128);
      const text = withLookalike(phrase, String(i));
      const masked = maskSecrets(i % 3 ? text : `my seed: ${text}`);
      if (!masked.types.includes('recovery_phrase') || leftOf(phrase, masked.text)) missed.push(text);
    }
    expect(missed).toEqual([]);
    expect(maskSecrets('аbandon').text).toBe('аbandon');
  });

  it('removes a phrase whose valid checksum decides, even when it repeats words', () => {
    const missed: string[] = [];
    for (let i = 0; i < 300; i++) {
      const phrase = repeatedWordsMnemonic(String(i), english, 6 + (i % 3));
      expect(new Set(phrase.split(' ')).size).toBeGreaterThanOrEqual(6);
      expect(new Set(phrase.split(' ')).size).toBeLessThan(10);
      const masked = maskSecrets(i % 2 ? phrase : `my recovery phrase is ${phrase}, please help`);
      if (leftOf(phrase, masked.text)) missed.push(phrase);
    }
    expect(missed).toEqual([]);
    // Repetition without a checksum still is not a phrase.
    expect(detectSecrets('Please help. '.repeat(20))).toEqual([]);
    expect(detectSecrets('help me please help me please help me please help me please help me please')).toEqual([]);
  });

  it('removes the part of a phrase split over two messages that is in the second one', () => {
    const missed: string[] = [];
    for (let i = 0; i < 200; i++) {
      const chinese = i % 4 === 3;
      const phrase = seededMnemonic(`split-${i}`, chinese ? simplifiedChinese : english, i % 2 ? 256 : 128);
      const words = phrase.split(' ');
      const cut = 3 + (i % (words.length - 6));
      const join = (w: string[]) => (chinese ? w.join('') : w.join(' '));
      // The first message as stored: screened on its own (fewer than 12 words: not a phrase yet).
      const first = maskSecrets(`${chinese ? '我的助记词是' : 'my seed phrase is '}${join(words.slice(0, cut))}`).text;
      const second = join(words.slice(cut));
      const masked = maskSecrets(second, { before: first });
      if (!masked.types.includes('recovery_phrase') || leftOf(words.slice(cut).join(' '), masked.text)) missed.push(`${first} | ${second}`);
    }
    expect(missed).toEqual([]);
    // Alone, the second part is no phrase; two ordinary messages make none either.
    const phrase = seededMnemonic('split-example', english).split(' ');
    expect(detectSecrets(phrase.slice(6).join(' '))).toEqual([]);
    expect(detectSecrets('thanks, that fixed it', { before: 'my deposit has not arrived after two hours' })).toEqual([]);
    expect(detectSecrets('还是没有到账', { before: '我的提现一直没到账，已经等了三个小时了' })).toEqual([]);
  });
});

describe('screening cost', () => {
  /** CPU time of one call, in ms: wall time on a loaded machine says little. */
  const cpuMs = (run: () => unknown) => {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  };

  it.each(Object.entries(HOSTILE_MESSAGES))('screens a hostile 64 KB message of %s in well under a second', (_, text) => {
    // Linear and bounded: milliseconds (npm run bench measures them). The quadratic detector took
    // seconds to minutes on some of these.
    expect(cpuMs(() => detectSecrets(text))).toBeLessThan(1_000);
    const firewall = createFirewall({ maxMessageChars: 4_000 });
    expect(cpuMs(() => firewall.screen({ text }))).toBeLessThan(1_000);
  });
});

describe('keys and API secrets', () => {
  const hex = 'e9873d79c6d87dc0fb6a5778633389f4453213303da61f20bd67fc233aa33262';

  it('removes a 64-hex private key and keeps a transaction hash of the same shape', () => {
    expect(maskSecrets(`my private key ${hex}`).text).toBe('my private key [private key removed]');
    expect(maskSecrets(`0x${hex}`).text).toBe('[private key removed]');
    expect(maskSecrets(`deposit not credited, txid 0x${hex}`).types).toEqual([]);
    expect(maskSecrets(`交易哈希 ${hex} 还没到账`).types).toEqual([]);
  });

  it('removes WIF keys (checksum-verified), extended private keys and 64-byte keypairs, but not addresses or xpubs', () => {
    expect(types('5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ')).toEqual(['private_key']);
    expect(types('KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn')).toEqual(['private_key']);
    expect(types('xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi')).toEqual(['private_key']);
    expect(types('send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 please')).toEqual([]);
    expect(types('bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq')).toEqual([]);
    expect(types('xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8')).toEqual([]);
    // A flipped character breaks the WIF checksum: not recognized as a key (still removed as an unnamed secret).
    expect(types('5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTk')).toEqual(['api_secret']);
  });

  it('removes exchange API secrets when named, and long mixed-case tokens even when not', () => {
    expect(maskSecrets('api secret: 9f8SDk3lQm2Zx7Pq0aB1cD4eF').text).toBe('api secret: [API secret removed]');
    expect(maskSecrets('我的API密钥是Tq8zR2mV9xK4pL7sN3wY6bH1，被盗用了').text).toBe('我的API密钥是[API secret removed]，被盗用了');
    expect(types('vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A')).toEqual(['api_secret']);
    expect(types('my ETH address is 0x52908400098527886E0F7030069857D2E4169EE7')).toEqual([]);
  });
});

describe('passwords and 2FA codes, when the text says so', () => {
  it.each([
    ['my password is hunter22', 'my password is [password removed]'],
    ['Password: Tr0ub4dor&3 and it still fails', 'Password: [password removed] and it still fails'],
    ['密码是abc12345', '密码是[password removed]'],
    ['登录密码：Qwerty!9，账号被锁了', '登录密码：[password removed]，账号被锁了'],
    ['my pin is 4821', 'my pin is [password removed]'],
    ['my 2FA code is 123 456', 'my 2FA code is [2FA code removed]'],
    ['验证码 902113', '验证码 [2FA code removed]'],
    ['短信验证码是６５４３２１', '短信验证码是[2FA code removed]'],
    ['Google Authenticator backup key: JBSWY3DPEHPK3PXP', 'Google Authenticator backup key: [2FA code removed]'],
  ])('masks %j', (text, masked) => {
    expect(maskSecrets(text).text).toBe(masked);
  });

  it.each([
    'my password is not working',
    'my password is wrong and my account is locked',
    'What is my PIN?',
    'I waited 10 minutes for the verification code',
    'the verification code expired after 5 minutes',
    'error code 100234 when I withdraw',
    'I entered the code 3 times',
    '验证码收不到，已经等了 10 分钟',
    '密码是什么时候改的',
    'how many digits does the 2FA code have',
  ])('leaves %j alone', (text) => {
    expect(detectSecrets(text)).toEqual([]);
  });
});

describe('input normalization', () => {
  it('drops control and bidi characters, repairs lone surrogates, keeps emoji and line breaks', () => {
    expect(normalizeInput('a\u0000b\u0007c\u202ed\u200be\r\nf\ud800g👍🏽', 100).text).toBe('abcde\nf\ufffdg👍🏽');
  });

  it('truncates by characters, never inside a surrogate pair, and says so', () => {
    const result = normalizeInput('😀'.repeat(10), 4);
    expect(result).toEqual({ text: '😀'.repeat(4), truncated: true, originalLength: 10 });
    expect(normalizeInput('short', 10)).toEqual({ text: 'short', truncated: false, originalLength: 5 });
  });

  it('makes a raw payload storable as jsonb: U+0000 and lone surrogates become U+FFFD, everywhere', () => {
    expect(toStorableJson({ a: 'x\u0000y', b: ['\ud800', 1, null], 'k\u0000': { c: 'ok 👍' } })).toEqual({
      a: 'x\ufffdy',
      b: ['\ufffd', 1, null],
      'k\ufffd': { c: 'ok 👍' },
    });
  });

  it('sees through invisible characters inserted to evade the firewall', () => {
    const phrase = seededMnemonic('unit-invisible', english).split(' ').join('\u200b \u200b');
    expect(maskSecrets(normalizeInput(phrase, 10_000).text).types).toEqual(['recovery_phrase']);
  });
});
