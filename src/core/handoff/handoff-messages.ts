import type { Language } from '../model.js';
import type { WaitEstimate, WorkingHours } from './working-hours.js';

/** What the customer is told about the human handoff, in both languages. */
export function toWaitNotice(language: Language, wait: WaitEstimate, hours: WorkingHours, urgent = false): string {
  if (wait.open) {
    if (urgent) {
      return language === 'zh'
        ? `紧急问题优先处理：人工客服预计约 ${wait.minutes} 分钟内回复您。`
        : `Urgent cases are handled first: a human agent should reply in about ${wait.minutes} minute${wait.minutes === 1 ? '' : 's'}.`;
    }
    return language === 'zh'
      ? `人工客服预计约 ${wait.minutes} 分钟内回复您。`
      : `A human agent should reply in about ${wait.minutes} minute${wait.minutes === 1 ? '' : 's'}.`;
  }
  const when = new Intl.DateTimeFormat(language === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: hours.timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(wait.nextOpening);
  return language === 'zh'
    ? `现在是人工客服的非工作时间（${hours.label}，${hours.timeZone}）。客服将在 ${when} 上班后尽快回复您，您的消息会被保留。`
    : `Our agents are offline right now (hours: ${hours.label}, ${hours.timeZone}). They open again on ${when} and will reply then; your messages are kept.`;
}

export function toClaimedNotice(language: Language, agentName: string): string {
  return language === 'zh' ? `客服 ${agentName} 正在处理您的问题。` : `${agentName} from our support team is now handling your request.`;
}

export function toReminderNotice(language: Language): string {
  return language === 'zh'
    ? '抱歉让您久等了，所有客服都在忙，我们没有忘记您，会尽快回复。'
    : "Sorry for the wait: all our agents are busy, but we haven't forgotten you and will reply as soon as we can.";
}

export function toHandedBackNotice(language: Language): string {
  return language === 'zh'
    ? '人工客服已将对话交回给智能助手，您可以继续提问。需要人工时随时输入"人工"。'
    : 'Our agent has handed you back to the assistant: ask me anything. Type "human" at any time to reach a person again.';
}

export function toResolvedNotice(language: Language): string {
  return language === 'zh'
    ? '您的问题已标记为解决。请为本次服务打分：回复 1 到 5 的数字（5 为非常满意）。'
    : 'Your request has been marked as resolved. How did we do? Reply with a number from 1 to 5 (5 = excellent).';
}

export function toRatingThanks(language: Language, rating: number): string {
  return language === 'zh' ? `感谢您的评分（${rating}/5）！` : `Thank you for your rating (${rating}/5)!`;
}

/** A message that is only a 1–5 rating ("4", "4/5", "５"). */
export function toRating(text: string): number | undefined {
  const normalized = text.trim().replace(/[１-５]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  const m = /^([1-5])(?:\s*\/\s*5)?\s*(?:分|星|stars?)?[.!。！]?$/i.exec(normalized);
  return m ? Number(m[1]) : undefined;
}
