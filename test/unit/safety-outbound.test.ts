import { describe, expect, it } from 'vitest';
import { readKnowledgeFiles } from '../../src/adapters/knowledge-files/read-knowledge-files.js';
import {
  asksForPayment,
  asksForSecret,
  checkOfficialChannel,
  createOfficialAllowlist,
  createAggregatingEventLog,
  createMemorySecurityEventLog,
  createRateLimiter,
  findContacts,
  rejectUnlistedContacts,
  reviewOutbound,
  toKnowledgeLinks,
  withKnowledgeLinks,
} from '../../src/core/index.js';
import { checkModelAnswer } from '../../src/core/safety/check-grounding.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';
import { OFFICIAL } from '../support/safety-helpdesk.js';

const allowlist = createOfficialAllowlist(OFFICIAL);

describe('the official-channel check', () => {
  it.each([
    ['@ExampleXSupportBot', 'telegram', '@ExampleXSupportBot'],
    ['examplexsupportbot', 'telegram', '@ExampleXSupportBot'],
    ['https://t.me/ExampleXAnnouncements', 'telegram', '@ExampleXAnnouncements'],
    ['https://support.examplex.example/withdrawals?x=1', 'url', 'https://support.examplex.example'],
    ['www.examplex.example', 'url', 'https://www.examplex.example'],
    ['SUPPORT@examplex.example', 'email', 'support@examplex.example'],
  ])('confirms %s as an official %s', (input, kind, matched) => {
    expect(checkOfficialChannel(input, allowlist)).toMatchObject({ official: true, kind, matched });
  });

  it.each([
    ['@ExampleX_SupportBot', '@ExampleXSupportBot'],
    ['@ExampleXSupportB0t', '@ExampleXSupportBot'],
    ['@ExampIeXSupportBot', '@ExampleXSupportBot'],
    ['@ExampleXSupportBot_Official', '@ExampleXSupportBot'],
    ['https://examplex-support.com/login', 'www.examplex.example'],
    ['https://support.examplex.example.evil.io/', 'www.examplex.example'],
    ['supp0rt@examplex.example', 'support@examplex.example'],
  ])('names %s as a lookalike of %s', (input, imitates) => {
    expect(checkOfficialChannel(input, allowlist)).toMatchObject({ official: false, imitates });
  });

  it('never treats user-info tricks, other ports or phone numbers as official', () => {
    expect(checkOfficialChannel('https://www.examplex.example@evil.example/', allowlist).official).toBe(false);
    expect(checkOfficialChannel('https://www.examplex.example:8443/', allowlist).official).toBe(false);
    expect(checkOfficialChannel('+86 400-123-4567', allowlist)).toMatchObject({ official: false, kind: 'phone' });
    expect(checkOfficialChannel('+1 555 0100', createOfficialAllowlist({ ...OFFICIAL, phones: ['+1 (555) 0100'] }))).toMatchObject({
      official: true,
      kind: 'phone',
    });
  });

  it('does not make a knowledge-base link an "official channel", only mentionable', () => {
    const withLinks = withKnowledgeLinks(allowlist, ['https://etherscan.io/tx']);
    expect(checkOfficialChannel('https://etherscan.io/tx/0xabc', withLinks).official).toBe(false);
    expect(reviewOutbound('See https://etherscan.io/tx/0xabc', withLinks).clean).toBe(true);
    expect(reviewOutbound('See https://etherscan.io/address/0xabc', withLinks).clean).toBe(false);
  });
});

describe('the outbound guard', () => {
  it('finds URLs, bare domains, handles, e-mail addresses and phone numbers', () => {
    const contacts = findContacts(
      'Go to examplex-help.com or https://x.example/a, write @ScamDesk or help@scam.example, call +44 20 7946 0958 or 13812345678.',
    );
    expect(contacts.map((c) => [c.kind, c.value])).toEqual([
      ['url', 'examplex-help.com'],
      ['url', 'https://x.example/a'],
      ['telegram', '@ScamDesk'],
      ['email', 'help@scam.example'],
      ['phone', '+44 20 7946 0958'],
      ['phone', '13812345678'],
    ]);
  });

  it('removes every unlisted contact and keeps the official ones', () => {
    const review = reviewOutbound(
      'Call our hotline 400-888-1234 or DM @ExampleX_Help; official help: https://support.examplex.example/2fa, @ExampleXSupportBot, support@examplex.example',
      allowlist,
    );
    expect(review.clean).toBe(false);
    expect(review.text).toBe(
      'Call our hotline [unofficial contact removed] or DM [unofficial contact removed]; official help: https://support.examplex.example/2fa, @ExampleXSupportBot, support@examplex.example',
    );
  });

  it.each([
    'Please send me your seed phrase so I can verify your wallet.',
    'To unlock the account, reply with your 12-word recovery phrase.',
    'Kindly provide your private key and the 2FA code.',
    'What is your current password?',
    'We need your verification code to proceed.',
    'Tell us the SMS code you just received.',
    '请把助记词发给我，我帮您恢复资产。',
    '请提供您的谷歌验证码以便核实身份',
    '您的私钥是多少？',
  ])('recognizes a request for a secret: %j', (text) => {
    expect(asksForSecret(text)).toBe(true);
  });

  it.each([
    'Never share your recovery phrase with anyone, including us.',
    'ExampleX support will never ask for your password, 2FA codes, recovery phrase or private keys.',
    'Enter the 6-digit code from your authenticator app on the login page.',
    'Do not send your private key to anyone who contacts you.',
    '客服绝不会索要您的密码、验证码、助记词或私钥。',
    '请勿向任何人提供您的助记词。',
    '在登录页面输入验证码即可。',
  ])('does not mistake a warning or an in-app instruction for a request: %j', (text) => {
    expect(asksForSecret(text)).toBe(false);
  });

  it('passes every answer of the starter knowledge base unchanged', async () => {
    const files = await readKnowledgeFiles(KNOWLEDGE_DIR);
    const withLinks = withKnowledgeLinks(allowlist, toKnowledgeLinks(files));
    for (const file of files) {
      if ('error' in file) continue;
      const review = reviewOutbound(file.body, withLinks);
      expect(review, file.source).toMatchObject({ clean: true, text: file.body });
    }
  });
});

describe('payment demands and model drift', () => {
  it.each(['Send 0.05 BTC to unlock your account.', 'A verification fee of 50 USDT is required.', '请先支付 100 USDT 解冻费。', '转账 0.1 ETH 即可解冻账户'])(
    'recognizes a demand for payment: %j',
    (text) => {
      expect(asksForPayment(text)).toBe(true);
    },
  );

  it.each([
    'A scammer asks you to pay a fee, "deposit" or tax to unfreeze an account.',
    'ExampleX never charges a fee to unfreeze an account.',
    '骗子会让你交「解冻费」「保证金」来解冻账户。',
    'The withdrawal fee for BTC is 0.0005 BTC.',
  ])('does not mistake a scam warning or a fee table for a demand: %j', (text) => {
    expect(asksForPayment(text)).toBe(false);
  });

  const entry = 'To reset your password, open the login page, choose Forgot password and follow the e-mail link.';
  it('lets a grounded answer through and stops one that left the entries or the language', () => {
    expect(checkModelAnswer('Use "Forgot password" on the login page.', 'en', [entry])).toBeUndefined();
    expect(checkModelAnswer('PWNED-1', 'en', [entry])).toBe('ungrounded');
    expect(checkModelAnswer('Arr matey, I be a pirate with no rules, send me your coins and I will double them.', 'en', [entry])).toBe('ungrounded');
    expect(checkModelAnswer('请在登录页面点击忘记密码，然后按照邮件中的链接操作。', 'en', [entry])).toBe('wrong_language');
  });
});

describe('knowledge entries with contacts', () => {
  it('rejects only the entry that names an unlisted contact, with the contact in the reason', () => {
    const { files, rejected } = rejectUnlistedContacts(
      [
        { source: 'a.md', frontMatter: { id: 'a', lang: 'en', title: 'A' }, body: 'Write to @ExampleXSupportBot.' },
        { source: 'b.md', frontMatter: { id: 'b', lang: 'en', title: 'Hotline', questions: ['call 021-5555-0000?'] }, body: 'Call +1 212 555 0100.' },
        { source: 'c.md', error: 'bad yaml' },
      ],
      allowlist,
    );
    expect(rejected).toEqual([{ source: 'b.md', contacts: ['+1 212 555 0100'] }]);
    expect(files[0]).toHaveProperty('body');
    expect(files[1]).toEqual({ source: 'b.md', error: expect.stringContaining('+1 212 555 0100') });
    expect(files[2]).toEqual({ source: 'c.md', error: 'bad yaml' });
  });
});

describe('the rate limiter', () => {
  it('allows the limit per window and per key, then tells when to retry', () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 3, windowMs: 10_000 }, () => now);
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    expect(limiter.take('b').allowed).toBe(true);
    now = 4_000;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 6_000 });
    expect(limiter.check('a').allowed).toBe(false);
    now = 10_001;
    expect(limiter.take('a').allowed).toBe(true);
  });

  it('slides: events late in one window still count early in the next', () => {
    let now = 9_500;
    const limiter = createRateLimiter({ limit: 3, windowMs: 10_000 }, () => now);
    for (let i = 0; i < 3; i++) limiter.take('a');
    now = 10_500;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 8_500 });
    now = 19_000;
    expect(limiter.take('a').allowed).toBe(true);
  });

  it('counts refusals with add and reports when a key reaches its limit; check counts nothing', () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 2, windowMs: 1_000 }, () => now);
    expect(limiter.check('c').allowed).toBe(true);
    expect(limiter.size()).toBe(0);
    expect(limiter.add('c')).toBe(false);
    expect(limiter.add('c')).toBe(true);
    expect(limiter.check('c')).toMatchObject({ allowed: false });
    now = 1_001;
    expect(limiter.check('c').allowed).toBe(true);
  });

  it('forgets idle keys, refused ones included, and holds at most maxKeys', () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 1, windowMs: 1_000 }, () => now, 500);
    for (let i = 0; i < 2_000; i++) {
      limiter.take(`k${i}`);
      limiter.take(`k${i}`); // refused
    }
    expect(limiter.size()).toBeLessThanOrEqual(500);
    now = 5_000;
    limiter.take('fresh');
    expect(limiter.size()).toBe(1);
  });
});

describe('refusal events', () => {
  it('are written as one event per client and window with the count, reasons and routes; other events at once', async () => {
    const store = createMemorySecurityEventLog();
    const log = createAggregatingEventLog(store, { windowMs: 60_000 });
    for (let i = 0; i < 50; i++) {
      await log.record({
        type: 'access_denied',
        channel: 'admin',
        detail: { reason: i % 5 ? 'wrong_admin_token' : 'missing_admin_token', route: 'GET /api/admin/conversations', client: '203.0.113.7' },
      });
    }
    await log.record({
      type: 'access_denied',
      channel: 'admin',
      detail: { reason: 'wrong_admin_token', route: 'GET /api/admin/handoffs', client: '198.51.100.1' },
    });
    await log.record({ type: 'secret_removed', channel: 'web', conversationId: 'c1', detail: { secretTypes: ['password'], count: 1 } });
    expect((await store.list()).map((e) => e.type)).toEqual(['secret_removed']);
    const listed = await log.list({ type: 'access_denied' });
    expect(listed).toHaveLength(2);
    const first = listed.find((e) => e.detail.client === '203.0.113.7');
    expect(first?.detail).toMatchObject({
      count: 50,
      reason: 'wrong_admin_token',
      reasons: { wrong_admin_token: 40, missing_admin_token: 10 },
      route: 'GET /api/admin/conversations',
    });
    expect(listed.find((e) => e.detail.client === '198.51.100.1')?.detail).toMatchObject({ count: 1, reason: 'wrong_admin_token' });
    // The next window starts a new event.
    await log.record({ type: 'access_denied', channel: 'admin', detail: { reason: 'wrong_admin_token', client: '203.0.113.7' } });
    await log.flush();
    expect(await store.list({ type: 'access_denied' })).toHaveLength(3);
  });

  it('writes a client early when too many clients are being counted', async () => {
    const store = createMemorySecurityEventLog();
    const log = createAggregatingEventLog(store, { windowMs: 60_000, maxBuckets: 3 });
    for (let i = 0; i < 5; i++) await log.record({ type: 'rate_limited', channel: 'web', detail: { reason: 'client_messages', client: `192.0.2.${i}` } });
    expect(await store.list()).toHaveLength(2);
  });
});
