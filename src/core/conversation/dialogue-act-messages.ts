import { toTraditionalChinese } from '../chinese-script.js';
import type { Locale } from '../language.js';
import type { SmallTalkAct } from './dialogue-acts.js';

type Texts = { 'zh-Hans': string; en: string };

// What the bot can help with, said in every reply that steers the customer back to support.
const CAN_HELP: Texts = {
  'zh-Hans': '充值、提现、账户安全、身份认证、费用和限额',
  en: 'deposits, withdrawals, account security, identity verification, fees and limits',
};

/** The bot's short reply to each kind of small talk, in Simplified Chinese and English. */
function toTexts(act: SmallTalkAct, exchangeName: string): Texts {
  switch (act) {
    case 'greeting':
      return {
        'zh-Hans': '您好！请问有什么可以帮您？直接描述您遇到的问题就好，比如「USDT 提现一直没到账」。',
        en: 'Hi! How can I help you today? Just describe the problem, for example "my USDT withdrawal hasn\'t arrived".',
      };
    case 'are_you_there':
      return {
        'zh-Hans': '我在的！请直接告诉我您遇到的问题，我马上帮您看。',
        en: "I'm here! Tell me what you need help with and I'll look into it right away.",
      };
    case 'thanks':
      return {
        'zh-Hans': '不客气！还有其他问题随时问我。',
        en: "You're welcome! If there's anything else, just ask.",
      };
    case 'acknowledgement':
      return {
        'zh-Hans': '好的。还有其他需要帮忙的吗？',
        en: 'Okay. Is there anything else I can help with?',
      };
    case 'farewell':
      return {
        'zh-Hans': '感谢您的咨询，再见！之后有问题随时回来找我。',
        en: 'Thanks for reaching out. Goodbye, and come back any time you need help!',
      };
    case 'emoji_only':
      return {
        'zh-Hans': '🙂 需要帮忙的话，直接用文字告诉我您的问题就好。',
        en: '🙂 If there is something I can help with, just tell me in a few words.',
      };
    case 'laughter':
      return {
        'zh-Hans': '😄 还有什么可以帮您的吗？',
        en: '😄 Is there anything else I can help you with?',
      };
    case 'abuse':
      return {
        'zh-Hans': `抱歉让您这么不愉快，我是真心想帮您解决问题。请告诉我具体遇到了什么情况（比如提现、充值或登录），如果希望由人工客服处理，输入「人工」即可。`,
        en: `I'm sorry this has been so frustrating, and I do want to help. Tell me what went wrong (a withdrawal, a deposit, logging in, …), or type "human" if you'd rather talk to a person.`,
      };
    case 'chit_chat':
      return {
        'zh-Hans': `我是 ${exchangeName} 的客服助手（机器人），可以解答${CAN_HELP['zh-Hans']}等问题。需要人工客服时输入「人工」即可。`,
        en: `I'm the ${exchangeName} support assistant, a bot. I can help with ${CAN_HELP.en}. Type "human" any time to reach a person.`,
      };
    case 'out_of_scope':
      return {
        'zh-Hans': `抱歉，这个问题不在我能帮忙的范围内，我们也不提供投资建议或价格预测。我可以解答 ${exchangeName} 账户的${CAN_HELP['zh-Hans']}等问题。`,
        en: `Sorry, I can't help with that, and we don't give investment advice or price predictions. I can answer questions about your ${exchangeName} account: ${CAN_HELP.en}.`,
      };
  }
}

/**
 * The bot's reply to a small-talk message, in the customer's locale. Traditional Chinese is
 * converted from the Simplified text by OpenCC, so the two never drift apart.
 */
export function toDialogueActReply(act: SmallTalkAct, locale: Locale, exchangeName: string): string {
  const texts = toTexts(act, exchangeName);
  if (locale === 'en') return texts.en;
  return locale === 'zh-Hant' ? toTraditionalChinese(texts['zh-Hans']) : texts['zh-Hans'];
}
