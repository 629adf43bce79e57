import type { CustomerAction, EscalationReason, Language, Priority, TurnAction } from '../model.js';

/** Everything the bot says on its own, in both languages. Knowledge-base text is not here. */
export function toGreeting(language: Language, exchangeName: string): string {
  return language === 'zh'
    ? `您好！我是 ${exchangeName} 客服助手，可以解答充值、提现、账户安全、身份认证和费用等问题。随时输入"人工"即可联系人工客服。\n请注意：${exchangeName} 客服绝不会索要您的密码、验证码、助记词或私钥。`
    : `Hi! I'm the ${exchangeName} support assistant. Ask me about deposits, withdrawals, account security, identity verification or fees. Type "human" at any time to reach a person.\nPlease note: ${exchangeName} support will never ask for your password, 2FA codes, recovery phrase or private keys.`;
}

/**
 * The web widget's greeting: two short lines. The widget shows the safety reminder in its header
 * and the official channels behind its "Verify a channel" control, so they are not repeated here.
 */
export function toWebGreeting(language: Language, exchangeName: string): string {
  return language === 'zh'
    ? `您好！我是 ${exchangeName} 客服助手。\n请直接描述您的问题，例如「USDT 提现一直没到账」；需要人工时输入"人工"。`
    : `Hi! I'm the ${exchangeName} support assistant.\nDescribe your problem, e.g. "my USDT withdrawal hasn't arrived"; type "human" to reach a person.`;
}

const REASON_TEXT: Record<EscalationReason, Record<Language, string>> = {
  customer_requested_human: { en: 'you asked for a human', zh: '您要求人工服务' },
  low_confidence: { en: "I couldn't find a reliable answer in our help articles", zh: '我在帮助文档中没有找到可靠的答案' },
  sensitive_topic: { en: 'this looks like an urgent security matter', zh: '这看起来是紧急的账户安全问题' },
  scam_report: { en: 'this looks like a scam attempt against you', zh: '这看起来是针对您的诈骗' },
  customer_unsatisfied: { en: "my answer didn't solve your problem", zh: '我的回答没有解决您的问题' },
  model_failure: { en: 'our assistant had a technical problem', zh: '助手出现了技术问题' },
  repeated_failure: { en: "my answers haven't solved this so far", zh: '我的回答一直没能解决这个问题' },
  repeated_abuse: { en: 'a person is better placed to help you from here', zh: '接下来由人工客服为您处理更合适' },
};

export function toEscalationNotice(language: Language, reason: EscalationReason, priority: Priority): string {
  const why = REASON_TEXT[reason][language];
  if (language === 'zh') {
    const urgent =
      priority === 'urgent' ? '\n已标记为紧急，安全团队会优先处理。如果您怀疑账户被他人控制，请立即在"安全设置"中禁用账户，并从安全的设备修改密码。' : '';
    return `已为您转接人工客服（原因：${why}）。客服人员会在这里回复您，无需重复发送。${urgent}\n提醒：客服绝不会索要您的密码、验证码、助记词或私钥。`;
  }
  const urgent =
    priority === 'urgent'
      ? '\nIt is marked urgent and our security team handles it first. If someone else may control your account, disable it now from Security settings and change your password from a device you trust.'
      : '';
  return `I've passed your conversation to our support team (${why}). A human agent will reply here; there's no need to repeat your message.${urgent}\nReminder: support will never ask for your password, 2FA codes, recovery phrase or private keys.`;
}

export function toActions(language: Language): TurnAction[] {
  return language === 'zh'
    ? [
        { id: 'solved', label: '已解决' },
        { id: 'human', label: '转人工' },
      ]
    : [
        { id: 'solved', label: 'This solved it' },
        { id: 'human', label: 'Talk to a human' },
      ];
}

/** The button that takes a customer waiting for a human back to the bot. */
export function toAskBotAction(language: Language): TurnAction {
  return { id: 'bot', label: language === 'zh' ? '继续问机器人' : 'Ask the bot instead' };
}

export function toActionText(language: Language, action: CustomerAction): string {
  return [...toActions(language), toAskBotAction(language)].find((a) => a.id === action)?.label ?? action;
}

export function toSolvedReply(language: Language): string {
  return language === 'zh' ? '很高兴帮到您！如还有其他问题，随时告诉我。' : "Glad that helped! If there's anything else, just ask.";
}

export function toLanguageSwitched(language: Language): string {
  return language === 'zh' ? '好的，接下来我会用中文回复您。' : "Sure, I'll reply in English from now on.";
}

export function toOtherLanguageNote(language: Language): string {
  return language === 'zh' ? '（此条目暂无中文版本，以下为英文原文。）\n\n' : '(This article is only available in Chinese for now.)\n\n';
}

export function toEmptyMessageReply(language: Language): string {
  return language === 'zh' ? '请用文字描述您的问题，我会尽力帮您。' : "Please describe your question in words and I'll do my best to help.";
}
