import type { WidgetSettings } from './settings.js';

export type Language = 'zh' | 'en';

export function isLanguage(value: unknown): value is Language {
  return value === 'zh' || value === 'en';
}

export function otherLanguage(language: Language): Language {
  return language === 'zh' ? 'en' : 'zh';
}

/** The value of a `lang` attribute for text in this language. */
export function htmlLang(language: Language): 'zh-CN' | 'en' {
  return language === 'zh' ? 'zh-CN' : 'en';
}

/** Every text the widget itself shows (the server's turns come in their own language). */
export interface Texts {
  title: string;
  subtitle: string;
  subtitleEscalated: string;
  subtitleClosed: string;
  safety: string;
  verify: string;
  verifyLabel: string;
  verifyPlaceholder: string;
  verifyCheck: string;
  inputLabel: string;
  placeholder: string;
  send: string;
  human: string;
  transcript: string;
  transcriptSoon: string;
  transcriptReady: string;
  /** Before the titles of the entries an answer used. */
  source: string;
  /** The rating control after an agent resolved the conversation. */
  rate: string;
  rateLabel(rating: number): string;
  /** The header while an agent is handling the conversation. */
  subtitleWithAgent(name: string): string;
  typing: string;
  connecting: string;
  errorGeneric: string;
  errorNetwork: string;
  errorTimeout: string;
  retry: string;
  dismiss: string;
  bot: string;
  agent: string;
  you: string;
  notSent: string;
  sending: string;
  open: string;
  close: string;
  switchLang: string;
  closed: string;
  newConversation: string;
  expired: string;
  urgent: string;
  messages: string;
  /** The character counter, e.g. "3600 / 4000". */
  counter(length: number): string;
  /** The launcher's label suffix while replies wait unread. */
  unread(count: number): string;
  attach: string;
  attachRemove: string;
  attachTooBig: string;
  attachWrongType: string;
  attachFailed: string;
  uploading: string;
  screenshot: string;
  /** Offered while no agent is on duty: leave an e-mail for the answer (`until`: when the team is back, or ''). */
  emailOffer(until: string): string;
  emailLabel: string;
  emailPlaceholder: string;
  emailSubmit: string;
  emailInvalid: string;
  /** The page's title while agents' replies wait unseen in a hidden tab. */
  newReplyTitle(count: number): string;
  soundOn: string;
  soundOff: string;
}

/** The keys of the plain texts: what an element's `data-i18n` attribute may name. */
export type TextKey = { [K in keyof Texts]: Texts[K] extends string ? K : never }[keyof Texts];

export function isTextKey(texts: Texts, key: string | null): key is TextKey {
  return key !== null && Object.prototype.hasOwnProperty.call(texts, key) && typeof texts[key as keyof Texts] === 'string';
}

/** The widget's texts in both languages, with the product's name and message limit in them. */
export function createTexts(settings: Pick<WidgetSettings, 'exchangeName' | 'maxMessageChars'>): Record<Language, Texts> {
  const name = settings.exchangeName;
  const counter = (length: number) => `${length} / ${settings.maxMessageChars}`;
  return {
    en: {
      title: `${name} Support`,
      subtitle: 'AI assistant + live agents',
      subtitleEscalated: 'Waiting for a human agent…',
      subtitleClosed: 'Conversation ended',
      safety: 'Support never asks for your password, 2FA codes, recovery phrase or private keys.',
      verify: 'Verify a channel',
      verifyLabel: 'Is this handle, link, e-mail or phone number official?',
      verifyPlaceholder: '@handle, https://…, e-mail or phone',
      verifyCheck: 'Check',
      inputLabel: 'Your message',
      placeholder: 'Type your question…',
      send: 'Send',
      human: 'Talk to a human',
      transcript: 'Transcript',
      transcriptSoon: 'Transcript download is coming soon.',
      transcriptReady: 'Transcript downloaded.',
      source: 'Source: ',
      rate: 'Rate this conversation',
      rateLabel: (n) => `${n} out of 5`,
      subtitleWithAgent: (name) => `${name} is helping you`,
      typing: 'Support is typing…',
      connecting: 'Connecting…',
      errorGeneric: 'Sorry, something went wrong. Please try again.',
      errorNetwork: "We couldn't reach the support server. Please check your connection and try again.",
      errorTimeout: 'The server is taking too long to respond. Please try again.',
      retry: 'Retry',
      dismiss: 'Dismiss',
      bot: `${name} Assistant`,
      agent: 'Support agent',
      you: 'You',
      notSent: 'Not sent',
      sending: 'Sending…',
      open: `Open ${name} support chat`,
      close: 'Close chat',
      switchLang: '切换到中文',
      closed: 'This conversation has ended.',
      newConversation: 'Start a new conversation',
      expired: 'Your previous conversation has expired, so a new one has been started.',
      urgent: 'Urgent',
      messages: 'Conversation',
      counter,
      unread: (count) => (count === 1 ? '1 new message' : `${count} new messages`),
      attach: 'Attach a screenshot',
      attachRemove: 'Remove the image',
      attachTooBig: 'This image is larger than 10 MB. Please send a smaller screenshot.',
      attachWrongType: 'Only images can be sent here: PNG, JPEG, WebP or GIF.',
      attachFailed: 'The image could not be sent. Please try again.',
      uploading: 'Uploading…',
      screenshot: 'Screenshot',
      emailOffer: (until) =>
        `Our agents are offline${until ? ` until ${until}` : ' right now'}. Leave your e-mail address and we'll answer you there as well as here.`,
      emailLabel: 'Your e-mail address',
      emailPlaceholder: 'name@example.com',
      emailSubmit: 'Leave e-mail',
      emailInvalid: 'Please enter a valid e-mail address.',
      newReplyTitle: (count) => (count === 1 ? '(1) New reply' : `(${count}) New replies`),
      soundOn: 'Sound on',
      soundOff: 'Sound off',
    },
    zh: {
      title: `${name} 客服`,
      subtitle: '智能助手 · 可转人工',
      subtitleEscalated: '正在等待人工客服…',
      subtitleClosed: '对话已结束',
      safety: '客服绝不会索要您的密码、验证码、助记词或私钥。',
      verify: '核实官方渠道',
      verifyLabel: '这个账号、链接、邮箱或电话是官方的吗？',
      verifyPlaceholder: '@账号、https://…、邮箱或电话',
      verifyCheck: '核实',
      inputLabel: '您的消息',
      placeholder: '请输入您的问题…',
      send: '发送',
      human: '转人工',
      transcript: '聊天记录',
      transcriptSoon: '聊天记录下载功能即将上线。',
      transcriptReady: '聊天记录已下载。',
      source: '来源：',
      rate: '为本次服务评分',
      rateLabel: (n) => `${n} 分（满分 5 分）`,
      subtitleWithAgent: (name) => `${name} 正在为您服务`,
      typing: '客服正在输入…',
      connecting: '正在连接…',
      errorGeneric: '抱歉，出现了一点问题，请重试。',
      errorNetwork: '无法连接客服服务器，请检查网络后重试。',
      errorTimeout: '服务器响应超时，请重试。',
      retry: '重试',
      dismiss: '关闭',
      bot: `${name} 智能助手`,
      agent: '人工客服',
      you: '您',
      notSent: '未发送',
      sending: '发送中…',
      open: `打开 ${name} 在线客服`,
      close: '关闭对话',
      switchLang: 'Switch to English',
      closed: '本次对话已结束。',
      newConversation: '开始新对话',
      expired: '之前的对话已失效，已为您开始新的对话。',
      urgent: '加急',
      messages: '对话内容',
      counter,
      unread: (count) => `${count} 条新消息`,
      attach: '添加截图',
      attachRemove: '移除图片',
      attachTooBig: '图片超过 10 MB，请发送小一些的截图。',
      attachWrongType: '这里只能发送图片：PNG、JPEG、WebP 或 GIF。',
      attachFailed: '图片未能发送，请重试。',
      uploading: '正在上传…',
      screenshot: '截图',
      emailOffer: (until) => `人工客服${until ? `将于 ${until} 上班` : '目前不在线'}。留下您的邮箱，我们会在这里和邮箱中回复您。`,
      emailLabel: '您的邮箱',
      emailPlaceholder: 'name@example.com',
      emailSubmit: '留下邮箱',
      emailInvalid: '请输入有效的邮箱地址。',
      newReplyTitle: (count) => `(${count}) 新回复`,
      soundOn: '提示音：开',
      soundOff: '提示音：关',
    },
  };
}
