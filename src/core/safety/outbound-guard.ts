import { type ChannelKind, isAllowedContact, type OfficialAllowlist } from './official-channels.js';

export interface FoundContact {
  kind: Exclude<ChannelKind, 'unknown'>;
  value: string;
  start: number;
  end: number;
}

// Top-level domains a scam link would use; a bare "name.tld" with one of these counts as a link.
const COMMON_TLDS =
  'com|net|org|io|co|app|xyz|info|biz|me|top|vip|cc|tk|ru|cn|hk|tw|sg|uk|us|de|jp|kr|in|ai|dev|link|site|online|pro|club|live|shop|store|finance|exchange|example|support|help|world|today|trade|money|cash|pw|ly|gl|gg|to|su|ws|eu|asia|mobi|one|tech|global|network|services|center';

const URL_PATTERN = new RegExp(
  String.raw`\b(?:https?:\/\/|www\.)[^\s<>"'\u3000-\u303f\uff01-\uff5e]+|\b(?:[a-z0-9-]+\.)+(?:${COMMON_TLDS})\b(?:\/[^\s<>"'\u3000-\u303f\uff01-\uff5e]*)?`,
  'gi',
);
const EMAIL_PATTERN = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;
const HANDLE_PATTERN = /(?<![\w@./])@[A-Za-z][A-Za-z0-9_]{3,31}\b/g;
const PHONE_PATTERN = /(?<![\w+])(?:\+\d[\d\s().-]{6,18}\d|\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b|\b1[3-9]\d{9}\b|\b[48]00[\s-]?\d{3}[\s-]?\d{4}\b)(?![\w])/g;

/** Every URL, Telegram handle, e-mail address and phone number in a text, in order. */
export function findContacts(text: string): FoundContact[] {
  const found: FoundContact[] = [];
  const add = (kind: FoundContact['kind'], pattern: RegExp, clean = (v: string) => v) => {
    for (const m of text.matchAll(pattern)) {
      const value = clean(m[0]);
      const start = m.index as number;
      const end = start + value.length;
      if (found.some((f) => start < f.end && end > f.start)) continue;
      found.push({ kind, value, start, end });
    }
  };
  add('email', EMAIL_PATTERN);
  add('url', URL_PATTERN, (v) => v.replace(/[.,;:!?)\]}*_]+$/, ''));
  add('telegram', HANDLE_PATTERN);
  add('phone', PHONE_PATTERN, (v) => v.trim());
  return found.sort((a, b) => a.start - b.start);
}

// A request for a secret: an imperative to send/share/tell … the secret (not "never share it").
const SECRET_NOUN_EN = String.raw`(?:seed|recovery|mnemonic|secret|backup)\s*(?:phrase|words?|key)|private\s*keys?|priv\s*key|password|passcode|pin(?:\s*code)?|2fa(?:\s*code)?|otp|one[- ]time\s*(?:code|password)|verification\s*codes?|authenticator\s*codes?|sms\s*codes?|security\s*codes?|api\s*(?:secret|key)s?|secret\s*key`;
const ASK_EN = new RegExp(
  String.raw`\b(?:send|give|share|provide|tell|submit|forward|dm|message|reply\s+with|respond\s+with|paste|post|write|type|enter|confirm|verify|read\s+out|let\s+(?:me|us)\s+(?:know|have))\b(?:\s+(?:me|us|it|them|over|here|in\s+this\s+chat|to\s+(?:me|us|the\s+agent|support)))*\s+(?:(?:your|the|all|all\s+of\s+your|those|these|its|full|complete|(?:\d+|twelve|twenty-four)[- ]words?|current|wallet'?s?|account'?s?)\s+){0,3}(?:${SECRET_NOUN_EN})\b`,
  'i',
);
const ASK_EN_TRAILING = new RegExp(
  String.raw`\b(?:what\s+is|what's|whats)\s+(?:your|the)\s+(?:current\s+)?(?:${SECRET_NOUN_EN})\b|\b(?:i|we)\s+(?:need|require|must\s+have|will\s+need)\s+(?:your|the)\s+(?:${SECRET_NOUN_EN})\b|\b(?:your|the)\s+(?:${SECRET_NOUN_EN})\s+(?:is|are)\s+(?:needed|required)\b|\b(?:ask|request|collect|obtain|get|require)\s+(?:the\s+|a\s+)?(?:customer|user|client|caller|them|him|her)(?:'s)?\s+(?:for\s+|to\s+(?:send|provide|give|share|tell)\s+)?(?:(?:their|his|her|the|a)\s+)?(?:${SECRET_NOUN_EN})\b`,
  'i',
);
const NEGATION_EN = /\b(?:never|not|don't|dont|do not|won't|will not|no one|nobody|no|nor|without|refuse|avoid|cannot|can't|shouldn't|should not)\b[^.!?\n]*$/i;
// "type the code in the app" is an instruction for the app, not a request to send it here.
const ELSEWHERE_EN =
  /^[^.!?\n]{0,60}\b(?:in|into|on)\s+(?:the\s+|your\s+)?(?:app|page|website|site|login|field|box|screen|form|authenticator|wallet|settings|browser|security\s+settings)\b/i;
const IN_APP_VERBS = new Set(['enter', 'type', 'write', 'confirm', 'verify', 'paste', 'post']);
const CHAT_TARGET = /\b(?:here|in (?:this|the) chat|below|to (?:me|us)|in your (?:reply|next message)|with me|for me)\b/i;
const SECRET_NOUN_ZH =
  '(?:助记词|助記詞|记忆词|恢复短语|私钥|私鑰|密钥|密鑰|密码|密碼|验证码|驗證碼|动态码|谷歌验证码|短信验证码|2FA|二次验证码|PIN码|API\\s*密钥)';
const ASK_ZH = new RegExp(
  `(?:(?:发送|發送)(?!到|至|给您|給您|给你|給你)|发给(?!您|你)|發給(?!您|你)|发我|發我|发过来|發過來|提供|告诉|告訴|告知|回复|回覆|私信|给我|給我|报给|報給|说出|說出|截图发|截圖發|输入到这里|在这里输入|在此输入|填写到这里|交给|交給)[^。！？!?\\n]{0,12}?${SECRET_NOUN_ZH}|${SECRET_NOUN_ZH}(?:是多少|是什么|是什麼|发给我|發給我|告诉我|告訴我|发过来|發過來|发一下|發一下)`,
);
const NEGATION_ZH = /(?:不要|切勿|绝不|絕不|从不|從不|不会|不會|请勿|請勿|别|別|永远不|永遠不|不能|不可|不应|不應|禁止|勿|不得|谨防|謹防|索要)[^。！？!?\n]*$/;

/** Whether a message asks the customer for a recovery phrase, private key, password or 2FA code. */
export function asksForSecret(text: string): boolean {
  for (const pattern of [ASK_EN, ASK_EN_TRAILING]) {
    const global = new RegExp(pattern.source, 'gi');
    for (const m of text.matchAll(global)) {
      const index = m.index as number;
      const sentenceStart = Math.max(
        text.lastIndexOf('.', index - 1),
        text.lastIndexOf('!', index - 1),
        text.lastIndexOf('?', index - 1),
        text.lastIndexOf('\n', index - 1),
      );
      const before = text.slice(sentenceStart + 1, index);
      if (NEGATION_EN.test(before)) continue;
      const after = text.slice(index + m[0].length);
      if (/^\s*(?:to|with)\s+(?:anyone|anybody|someone|others|strangers|a third party)\b/i.test(after)) continue;
      if (ELSEWHERE_EN.test(after)) continue;
      // "Enter the code we send you" is a step in the app; it asks for the secret here only when it says so.
      const verb = (/^\s*(\w+)/.exec(m[0])?.[1] ?? '').toLowerCase();
      const sentence = `${m[0]}${after.split(/[.!?\n]/)[0] ?? ''}`;
      if (IN_APP_VERBS.has(verb) && !CHAT_TARGET.test(sentence)) continue;
      return true;
    }
  }
  const zh = new RegExp(ASK_ZH.source, 'g');
  for (const m of text.matchAll(zh)) {
    const index = m.index as number;
    const sentenceStart = Math.max(...['。', '！', '？', '!', '?', '\n'].map((p) => text.lastIndexOf(p, index - 1)));
    const before = text.slice(sentenceStart + 1, index + m[0].length);
    if (NEGATION_ZH.test(text.slice(sentenceStart + 1, index)) || /(?:不要|切勿|绝不|勿|别)/.test(before)) continue;
    return true;
  }
  return false;
}

// A demand for money to unlock, unfreeze or verify an account: the classic impersonation scam.
const PAYMENT_EN =
  /\b(?:send|pay|transfer|deposit)\b(?:[^.!?\n]|\.(?=\d)){0,40}\b(?:to|for|in order to)\s+(?:unlock|unfreeze|verify|activate|release|recover)\b|\b(?:unlock|unfreez\w*|verification|activation|release|security)\s+(?:fee|deposit|payment)\b/i;
const PAYMENT_ZH =
  /(?:解冻|解凍|解锁|解鎖|激活|验证|驗證)(?:费|費|金|保证金|保證金)|(?:支付|转账|轉賬|充值|缴纳|繳納)[^。！？\n]{0,20}(?:才能|即可|以便)?(?:解冻|解凍|解锁|解鎖|激活)/;

// "A scammer asks you to pay a fee to unfreeze…" describes the scam; it does not demand the payment.
const DESCRIBES_SCAM =
  /\b(?:asks?|wants?|tells?|requires?|demands?|requests?|urges?)\s+(?:you|customers?|users?|victims?)\b|\b(?:scam\w*|fraud\w*|impostors?|fake)\b|让你|要你|要求你|叫你|骗子|騙子|诈骗|詐騙|冒充/i;

/** Whether a message demands a payment to unlock, unfreeze or verify an account (support never does). */
export function asksForPayment(text: string): boolean {
  for (const pattern of [PAYMENT_EN, PAYMENT_ZH]) {
    const m = pattern.exec(text);
    if (!m) continue;
    const sentenceStart = Math.max(...['.', '!', '?', '\n', '。', '！', '？'].map((p) => text.lastIndexOf(p, m.index - 1)));
    const before = text.slice(sentenceStart + 1, m.index);
    if (NEGATION_EN.test(before) || NEGATION_ZH.test(before) || DESCRIBES_SCAM.test(before)) continue;
    return true;
  }
  return false;
}

export interface OutboundReview {
  /** The text with unlisted contacts replaced by a marker. */
  text: string;
  /** Contacts that are not on the official allowlist (and not cited by the knowledge base). */
  unlisted: FoundContact[];
  asksForSecret: boolean;
  asksForPayment: boolean;
  /** True when the text may go out as it is. */
  clean: boolean;
}

export const CONTACT_REMOVED = '[unofficial contact removed]';

/** Why a message may not go out, in the order an agent should hear them. */
export type OutboundBlockReason = 'asks_for_secret' | 'asks_for_payment' | 'unlisted_contact';

export function blockReasons(review: OutboundReview): OutboundBlockReason[] {
  return [
    ...(review.asksForSecret ? (['asks_for_secret'] as const) : []),
    ...(review.asksForPayment ? (['asks_for_payment'] as const) : []),
    ...(review.unlisted.length > 0 ? (['unlisted_contact'] as const) : []),
  ];
}

/**
 * Reviews a bot or agent message before it reaches a customer: it must not ask for a secret or
 * demand a payment, and may name only official contacts (configuration) or links the knowledge
 * base cites. Without an allowlist, contacts are not checked.
 */
export function reviewOutbound(text: string, allowlist: OfficialAllowlist | undefined): OutboundReview {
  const unlisted = allowlist ? findContacts(text).filter((c) => !isAllowedContact(c.value, allowlist)) : [];
  let redacted = text;
  for (const c of [...unlisted].reverse()) redacted = `${redacted.slice(0, c.start)}${CONTACT_REMOVED}${redacted.slice(c.end)}`;
  const asks = asksForSecret(text);
  const pay = asksForPayment(text);
  return { text: redacted, unlisted, asksForSecret: asks, asksForPayment: pay, clean: unlisted.length === 0 && !asks && !pay };
}
