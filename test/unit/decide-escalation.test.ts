import { describe, expect, it } from 'vitest';
import { decideEscalation, type EscalationInput } from '../../src/core/index.js';

const confident: EscalationInput = {
  text: 'how do I reset my password',
  action: undefined,
  confidence: 0.9,
  threshold: 0.5,
  topTopic: 'password-reset-en',
  recentAnswerTopics: [],
  failed: false,
};

describe('decideEscalation', () => {
  it('lets the bot answer a confident match', () => {
    expect(decideEscalation(confident)).toBeNull();
  });

  it('escalates a button press for a human', () => {
    expect(decideEscalation({ ...confident, text: '', action: 'human' })).toMatchObject({
      reason: 'customer_requested_human',
      priority: 'normal',
    });
  });

  it.each(['I want to talk to a human', '转人工', 'agent', '我要找真人客服', 'human please', 'pls a human', 'live agent now'])(
    'escalates "%s" as a request for a human',
    (text) => {
      expect(decideEscalation({ ...confident, text })?.reason).toBe('customer_requested_human');
    },
  );

  it.each(['人工客服一般多久回复', '真人客服幾點上班', 'when do your human agents work', 'what are the working hours of live agents'])(
    'lets the bot answer "%s", a question about the human team rather than a request for it',
    (text) => {
      expect(decideEscalation({ ...confident, text })).toBeNull();
    },
  );

  it.each([
    '有人自称是你们客服加我微信，让我转USDT做验证，是真的吗',
    'someone called me saying they are from ExampleX and asked me to move my funds to a safe wallet, is that legit?',
    '有人冒充你們客服私訊我，要我匯款，是詐騙嗎',
  ])('answers "%s", a question whether a contact is genuine that asks for no secret', (text) => {
    expect(decideEscalation({ ...confident, text })).toBeNull();
  });

  it.each([
    '有个客服在电报上找我，说要我的助记词才能帮我解冻',
    'a guy from ExampleX support on telegram wants my 12 recovery words to unlock my withdrawal',
    'someone asked for my seed phrase, is that legit?',
  ])('escalates "%s" as a scam report: someone wants a secret', (text) => {
    expect(decideEscalation({ ...confident, text })?.reason).toBe('scam_report');
  });

  it('still escalates a reported loss phrased as a question', () => {
    expect(decideEscalation({ ...confident, text: '我被骗了，钱被转走了，是诈骗吗' })?.reason).toBe('sensitive_topic');
  });

  it.each(['转人工要多久', 'I want to talk to a human, how long will it take'])('still escalates "%s", a request with a question about the wait', (text) => {
    expect(decideEscalation({ ...confident, text })?.reason).toBe('customer_requested_human');
  });

  it.each([
    'my account was hacked and my BTC is gone',
    'someone logged into my account',
    'I did not make this withdrawal',
    'my account is frozen',
    '我的账户被盗了',
    '币被转走了，不是我操作的',
    '账号被冻结了怎么办',
  ])('escalates "%s" as an urgent sensitive topic', (text) => {
    expect(decideEscalation({ ...confident, text })).toMatchObject({ reason: 'sensitive_topic', priority: 'urgent' });
  });

  it('keeps urgency when a customer in a sensitive case asks for a human', () => {
    expect(decideEscalation({ ...confident, text: 'my account was hacked, let me talk to a human' })).toMatchObject({
      reason: 'customer_requested_human',
      priority: 'urgent',
    });
  });

  it.each([
    'support asked me for my recovery words',
    'the agent told me to enter my seed phrase on their site to unlock withdrawals',
    'someone on telegram says they are ExampleX support and wants my 2FA code',
    'A guy claiming to be from ExampleX support asked me to pay a 0.1 BTC fee to unfreeze my account',
    'Got a call from support telling me to move my funds to a safe wallet',
    '客服让我提供助记词',
    '自称ExampleX客服的人私信我，要我提供验证码',
    '有人冒充客服加我微信',
    '对方让我先交解冻费才能提币',
  ])('escalates "%s" at once as an urgent scam report', (text) => {
    // Confident or not, whatever else it asks: a scam in progress goes to a human first.
    expect(decideEscalation({ ...confident, text })).toMatchObject({ reason: 'scam_report', priority: 'urgent' });
    expect(decideEscalation({ ...confident, text, confidence: 0.1 })).toMatchObject({ reason: 'scam_report', priority: 'urgent' });
    expect(decideEscalation({ ...confident, text: `${text}. I want a human` })).toMatchObject({ reason: 'scam_report' });
  });

  it.each([
    'will support ever ask for my password?',
    'Does ExampleX support ask for my seed phrase?',
    'the app asks for my 2FA code every time I log in',
    'support told me to reset my password',
    'they told me my password was wrong',
    '客服会要我的密码吗',
    '官方让我重置密码',
    '客服多久回复',
  ])('does not take the question "%s" for a scam report', (text) => {
    expect(decideEscalation({ ...confident, text })?.reason).not.toBe('scam_report');
  });

  it('escalates a low-confidence match instead of guessing', () => {
    expect(decideEscalation({ ...confident, text: 'weather in paris', confidence: 0.2 })).toMatchObject({
      reason: 'low_confidence',
    });
  });

  it('escalates when the customer says the answer did not help', () => {
    expect(decideEscalation({ ...confident, text: 'that did not help' })?.reason).toBe('customer_unsatisfied');
    expect(decideEscalation({ ...confident, text: '没用，还是不行' })?.reason).toBe('customer_unsatisfied');
  });

  it('escalates a retrieval or model failure', () => {
    expect(decideEscalation({ ...confident, failed: true, confidence: undefined })?.reason).toBe('model_failure');
  });

  it('escalates the third question on a topic already answered twice', () => {
    const twice = { ...confident, recentAnswerTopics: ['password-reset-en', 'password-reset-en'] };
    expect(decideEscalation(twice)?.reason).toBe('repeated_failure');
    expect(decideEscalation({ ...confident, recentAnswerTopics: ['password-reset-en'] })).toBeNull();
    expect(decideEscalation({ ...twice, topTopic: 'kyc-how-to-en' })).toBeNull();
  });

  it('never escalates a "solved" press', () => {
    expect(decideEscalation({ ...confident, text: '', action: 'solved', confidence: undefined })).toBeNull();
  });
});

describe('decideEscalation in Traditional Chinese', () => {
  it.each([
    ['帳號被凍結了怎麼辦，裡面還有錢', 'sensitive_topic'],
    ['我的幣被盜了！帳戶被別人登入', 'sensitive_topic'],
    ['幫我轉人工', 'customer_requested_human'],
    ['還是不行，沒有用', 'customer_unsatisfied'],
  ])('reads "%s" as its Simplified form: %s', (text, reason) => {
    expect(decideEscalation({ ...confident, text })?.reason).toBe(reason);
  });
});
