import { describe, expect, it } from 'vitest';
import { classifyDialogueAct, DIALOGUE_ACTS, detectLocale, isSmallTalk, toDialogueActReply } from '../../src/core/index.js';

describe('classifyDialogueAct: small talk in Simplified Chinese, Traditional Chinese and English', () => {
  it.each([
    // greeting
    ['你好', 'greeting'],
    ['您好！', 'greeting'],
    ['哈喽', 'greeting'],
    ['hi', 'greeting'],
    ['Hello there', 'greeting'],
    ['hiiii', 'greeting'],
    ['Good morning!!', 'greeting'],
    ['客服你好', 'greeting'],
    ['早安', 'greeting'],
    ['hey 👋', 'greeting'],
    ['can you help me', 'greeting'],
    ['我有个问题', 'greeting'],
    ['想問一下', 'greeting'],
    ['您好客服', 'greeting'],
    ['我想咨询一下', 'greeting'],
    // are you there
    ['在吗', 'are_you_there'],
    ['在嗎？', 'are_you_there'],
    ['人呢？？', 'are_you_there'],
    ['有人吗', 'are_you_there'],
    ['有人在嗎', 'are_you_there'],
    ['anyone there?', 'are_you_there'],
    ['hello?', 'are_you_there'],
    ['is anyone here?', 'are_you_there'],
    ['你好？在吗', 'are_you_there'],
    ['?', 'are_you_there'],
    ['？？？', 'are_you_there'],
    // thanks
    ['谢谢', 'thanks'],
    ['谢谢谢谢', 'thanks'],
    ['謝謝你', 'thanks'],
    ['thanks!', 'thanks'],
    ['thx!!', 'thanks'],
    ['Ｔｈａｎｋｓ', 'thanks'],
    ['ok thanks', 'thanks'],
    ['好的，谢谢', 'thanks'],
    ['到账了 谢谢🙏', 'thanks'],
    ['got it, thank you so much!!', 'thanks'],
    ['辛苦了', 'thanks'],
    // acknowledgement
    ['ok', 'acknowledgement'],
    ['okkk', 'acknowledgement'],
    ['好的', 'acknowledgement'],
    ['好的👌', 'acknowledgement'],
    ['嗯', 'acknowledgement'],
    ['嗯嗯', 'acknowledgement'],
    ['收到', 'acknowledgement'],
    ['了解了', 'acknowledgement'],
    ['明白了，我試試', 'acknowledgement'],
    ['got it', 'acknowledgement'],
    ['it worked', 'acknowledgement'],
    // farewell
    ['bye', 'farewell'],
    ['ok bye!', 'farewell'],
    ['再见', 'farewell'],
    ['拜拜～', 'farewell'],
    ['謝謝，再見', 'farewell'],
    ['88', 'farewell'],
    ["that's all, thanks", 'farewell'],
    ['没事了', 'farewell'],
    ['没有别的问题了 谢谢', 'farewell'],
    // emoji or sticker only
    ['👍', 'emoji_only'],
    ['😂😂😂', 'emoji_only'],
    ['🙏🏻', 'emoji_only'],
    [':)', 'emoji_only'],
    // laughter
    ['hahaha', 'laughter'],
    ['哈哈哈哈', 'laughter'],
    ['lol', 'laughter'],
    ['233333', 'laughter'],
    ['呵呵', 'laughter'],
    // abuse
    ['傻逼客服', 'abuse'],
    ['你们这个垃圾平台', 'abuse'],
    ['fuck you', 'abuse'],
    ['stupid bot', 'abuse'],
    ['you guys are scammers', 'abuse'],
    ['垃圾機器人', 'abuse'],
    ['wtf', 'abuse'],
    // chit-chat
    ['are you a bot?', 'chit_chat'],
    ['你是真人吗', 'chit_chat'],
    ['你是機器人嗎', 'chit_chat'],
    ['how are you', 'chit_chat'],
    ['hi, how are you today?', 'chit_chat'],
    ["what's your name", 'chit_chat'],
    ['你叫什么名字', 'chit_chat'],
    ['what can you do?', 'chit_chat'],
    ['who am i talking to', 'chit_chat'],
    // out of scope
    ["what's the weather in Paris", 'out_of_scope'],
    ['今天天气怎么样', 'out_of_scope'],
    ['tell me a joke', 'out_of_scope'],
    ['讲个笑话', 'out_of_scope'],
    ['比特币明天会涨吗', 'out_of_scope'],
    ['比特幣會漲嗎', 'out_of_scope'],
    ['what coin should I buy', 'out_of_scope'],
    ['will BTC go up this week?', 'out_of_scope'],
    ['现在买什么币好', 'out_of_scope'],
    ['can you help me with my homework', 'out_of_scope'],
    ['帮我写作业', 'out_of_scope'],
    ["what's the price of bitcoin going to be next year", 'out_of_scope'],
    ['recommend me a good altcoin', 'out_of_scope'],
    // a report that the problem is gone, ending in thanks, even when it names the topic
    ['fixed it, the phone time was wrong. thanks', 'thanks'],
    ['it works now thank you', 'thanks'],
    ['搞定了，是手机时间不对，谢谢', 'thanks'],
    ['到账了 謝謝', 'thanks'],
  ])('reads %s as %s', (text, act) => {
    expect(classifyDialogueAct(text)).toBe(act);
  });
});

describe('classifyDialogueAct: everything else is a question', () => {
  it.each([
    // A greeting, thanks or are-you-there with a question in it is the question.
    '你好，我的提现没到账',
    'hi, my withdrawal failed',
    '在嗎？我充值沒到賬',
    'Hello! How do I reset my 2FA?',
    '谢谢，但是还是没到账',
    'thanks, but it still has not arrived',
    'ok and how long does KYC take?',
    '好的，那手续费是多少',
    // An insult with a problem in it is answered as the problem.
    '垃圾平台，提现三天了还没到账',
    'wtf my deposit is gone',
    // Requests and complaints the escalation policy handles.
    'talk to a human',
    '转人工',
    'that did not help',
    'useless',
    // Support questions that mention small-talk words.
    'transaction history',
    'is the trading fee going up next month?',
    'where do I see my deposit history',
    'USDT提现pending了',
    // Not small talk at all.
    '1',
    '0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE',
    'hidden fees?',
    'ok so what is the withdrawal limit',
    '垃圾箱里也没有验证码邮件',
    'what are your official channels',
    '哈哈 我的充值到了吗',
    // "fixed it" with a problem that remains or a question in it
    'fixed it but why is my withdrawal still pending? thanks',
    'it worked but my deposit is still missing thanks',
    '好了，但是提现还没到，谢谢',
    '到了吗谢谢',
  ])('reads %s as a question', (text) => {
    expect(classifyDialogueAct(text)).toBe('question');
  });

  it('reads a long message as a question whatever it starts with', () => {
    expect(classifyDialogueAct(`谢谢${'，'.repeat(10)}${'我想问一下'.repeat(30)}`)).toBe('question');
    expect(classifyDialogueAct('hi '.repeat(200))).toBe('question');
  });

  it('reads an empty message as a question (the usual path refuses it)', () => {
    expect(classifyDialogueAct('   ')).toBe('question');
  });
});

describe('toDialogueActReply', () => {
  const acts = DIALOGUE_ACTS.filter(isSmallTalk);

  it('has a reply for every small-talk act in every locale', () => {
    for (const act of acts) {
      for (const locale of ['zh-Hans', 'zh-Hant', 'en'] as const) {
        const reply = toDialogueActReply(act, locale, 'ExampleX');
        expect(reply.length, `${act} ${locale}`).toBeGreaterThan(5);
        expect(detectLocale(reply) ?? 'zh-Hans', `${act} ${locale}: ${reply}`).toBe(locale);
      }
    }
  });

  it('writes Traditional Chinese replies in Traditional characters', () => {
    expect(toDialogueActReply('thanks', 'zh-Hant', 'ExampleX')).toBe('不客氣！還有其他問題隨時問我。');
    expect(toDialogueActReply('thanks', 'zh-Hans', 'ExampleX')).toBe('不客气！还有其他问题随时问我。');
  });

  it('declines out-of-scope questions by saying what the bot can help with', () => {
    expect(toDialogueActReply('out_of_scope', 'en', 'ExampleX')).toMatch(/withdrawals/);
    expect(toDialogueActReply('out_of_scope', 'zh-Hans', 'ExampleX')).toMatch(/提现/);
    expect(toDialogueActReply('out_of_scope', 'zh-Hant', 'ExampleX')).toMatch(/提現/);
  });

  it('answers abuse calmly and offers a person', () => {
    const reply = toDialogueActReply('abuse', 'en', 'ExampleX');
    expect(reply).toMatch(/sorry/i);
    expect(reply).toMatch(/human/);
  });

  it.each([
    ['ok so 24h', 'acknowledgement'],
    ['ok I will not pay', 'acknowledgement'],
    ['好的 我明天再看', 'acknowledgement'],
    ['thanks, will try tomorrow', 'thanks'],
  ] as const)('reads "%s", a short restatement after ok or thanks, as %s', (text, act) => {
    expect(classifyDialogueAct(text)).toBe(act);
  });

  it.each(['ok so how long does it take', 'ok what now?', '好的 那要等多久', 'ok my withdrawal is still pending', 'thanks but where is my deposit'])(
    'reads "%s" as a question, not a closing',
    (text) => {
      expect(classifyDialogueAct(text)).toBe('question');
    },
  );
});
