import type { Language } from '../model.js';
import type { SecretType } from './detect-secrets.js';
import type { OfficialAllowlist, OfficialChannelCheck } from './official-channels.js';

const SECRET_NAMES: Record<SecretType, Record<Language, string>> = {
  recovery_phrase: { en: 'a recovery (seed) phrase', zh: '助记词' },
  private_key: { en: 'a private key', zh: '私钥' },
  api_secret: { en: 'an API secret', zh: 'API 密钥' },
  password: { en: 'a password', zh: '密码' },
  two_factor_code: { en: 'a 2FA / verification code', zh: '验证码（2FA）' },
};

const ACTION: Record<SecretType, Record<Language, string>> = {
  recovery_phrase: {
    en: 'If it was real, treat that wallet as compromised: move your funds to a new wallet with a new phrase now.',
    zh: '如果是真实的，请视该钱包已泄露：立即把资产转到使用新助记词的新钱包。',
  },
  private_key: {
    en: 'If it was real, treat that wallet as compromised: move your funds to a new wallet now.',
    zh: '如果是真实的，请视该钱包已泄露：立即把资产转到新钱包。',
  },
  api_secret: {
    en: 'If it was real, delete that API key in your account settings now and create a new one.',
    zh: '如果是真实的，请立即在账户设置中删除该 API 密钥并重新创建。',
  },
  password: {
    en: 'If it was real, change your password now from a device you trust.',
    zh: '如果是真实的，请立即在可信设备上修改密码。',
  },
  two_factor_code: {
    en: 'If it was real, do not use it, and change your password if someone asked you for it.',
    zh: '如果是真实的，请不要再使用它；如果是别人向您索要的，请立即修改密码。',
  },
};

/**
 * The immediate warning after a customer posted a secret (removed before anything kept it). When
 * it was split over two messages, the part in the earlier one had been stored already: said so.
 */
export function toSecretWarning(language: Language, types: SecretType[], exchangeName: string, acrossMessages = false): string {
  const names = types.map((t) => SECRET_NAMES[t][language]);
  const actions = types.map((t) => ACTION[t][language]);
  if (language === 'zh') {
    const what = acrossMessages
      ? `您最近两条消息合起来似乎包含${names.join('、')}。我们已删除这条消息中的部分，但上一条消息中的部分已被记录，请视其为已泄露。`
      : `您的消息中似乎包含${names.join('、')}。我们已将其删除，没有保存、转发或记录。`;
    return `⚠️ ${what}${exchangeName} 客服永远不需要它，任何索要它的人都是骗子。\n${actions.join('\n')}`;
  }
  const what = acrossMessages
    ? `Your last two messages together seemed to contain ${names.join(' and ')}. I removed the part in this message, but the part in your previous message had already been recorded: treat it as exposed.`
    : `Your message seemed to contain ${names.join(' and ')}. I removed it: it was not stored, forwarded or logged.`;
  return `⚠️ ${what} ${exchangeName} support never needs it, and anyone who asks for it is a scammer.\n${actions.join('\n')}`;
}

export function toTruncationNotice(language: Language, keptChars: number, originalChars: number): string {
  return language === 'zh'
    ? `您的消息较长（${originalChars} 个字符），我只保留了前 ${keptChars} 个字符。如有遗漏，请分几条发送。`
    : `Your message was long (${originalChars} characters), so I kept the first ${keptChars}. If something got cut off, please send it in a few shorter messages.`;
}

export function toRateLimitReply(language: Language, retryAfterSeconds: number): string {
  return language === 'zh'
    ? `您发送得有点快，请稍候 ${retryAfterSeconds} 秒再发。您之前的消息我们都已收到。`
    : `You're sending messages a little fast. Please wait ${retryAfterSeconds} seconds and try again; everything you sent before has been received.`;
}

/** One line listing the official channels, for the greeting, /start and the widget. */
export function toOfficialChannelsLine(language: Language, allowlist: OfficialAllowlist, exchangeName: string): string {
  const { telegramHandles, urls, emails, phones } = allowlist.display;
  const parts = [...telegramHandles, ...urls, ...emails, ...phones];
  if (parts.length === 0) return '';
  const noPhone = phones.length === 0;
  if (language === 'zh') {
    return `${exchangeName} 官方渠道仅限：${parts.join('、')}。${noPhone ? '我们没有电话客服。' : ''}不确定某个账号或链接是否官方？发送 /verify 加账号或链接，或在网页聊天中点击“核实官方渠道”。`;
  }
  return `${exchangeName}'s only official channels: ${parts.join(', ')}.${noPhone ? ' We have no phone support.' : ''} Not sure a handle or link is ours? Send /verify followed by it, or use "Verify a channel" in the website chat.`;
}

const KIND_NAMES: Record<OfficialChannelCheck['kind'], Record<Language, string>> = {
  telegram: { en: 'Telegram account', zh: 'Telegram 账号' },
  url: { en: 'website', zh: '网站' },
  email: { en: 'e-mail address', zh: '邮箱地址' },
  phone: { en: 'phone number', zh: '电话号码' },
  unknown: { en: 'contact', zh: '联系方式' },
};

/** The answer to "is this official?". */
export function toOfficialChannelReply(
  language: Language,
  input: string,
  check: OfficialChannelCheck,
  allowlist: OfficialAllowlist,
  exchangeName: string,
): string {
  const shown = input.trim().slice(0, 200);
  const kind = KIND_NAMES[check.kind][language];
  const list = toOfficialChannelsLine(language, allowlist, exchangeName);
  if (check.official) {
    return language === 'zh'
      ? `✅ ${shown} 是 ${exchangeName} 的官方${kind}（${check.matched}）。即便如此，官方客服也绝不会索要您的密码、验证码、助记词或私钥。`
      : `✅ ${shown} is an official ${exchangeName} ${kind} (${check.matched}). Even so, official support never asks for your password, 2FA codes, recovery phrase or private keys.`;
  }
  if (check.kind === 'unknown') {
    return language === 'zh'
      ? `我无法识别“${shown}”。请发送完整的 Telegram 账号（如 @name）、链接、邮箱或电话号码。\n${list}`
      : `I couldn't recognize "${shown}". Please send a full Telegram handle (like @name), link, e-mail address or phone number.\n${list}`;
  }
  const imitation = check.imitates
    ? language === 'zh'
      ? `它在模仿官方的 ${check.imitates}，很可能是诈骗。`
      : `It imitates the official ${check.imitates}, which is typical of scams.`
    : '';
  return language === 'zh'
    ? `❌ ${shown} 不是 ${exchangeName} 的官方${kind}。${imitation}请不要向它转账，也不要提供任何信息。\n${list}`
    : `❌ ${shown} is NOT an official ${exchangeName} ${kind}. ${imitation}${imitation ? ' ' : ''}Do not send it money or any information.\n${list}`;
}
