import type { CustomerAction, Language, Turn } from '../model.js';

/** Where a waiting conversation stands in the human queue, as the desk sees it. */
export interface QueueStatus {
  /** 1 = next to be claimed; urgent conversations come before all others. */
  position: number;
  urgent: boolean;
  /** The desk's wait estimate (minutes, or the next opening time), in the customer's language. */
  waitText: string;
}

/** What the bot does with a customer message while the conversation is with humans. */
export type WaitingStep =
  /** Claimed by an agent, or already acknowledged: the message goes to the agents, the bot says nothing. */
  | { kind: 'silent' }
  /** Unclaimed: tell the customer once that the message is seen (`ack`), or that they are already queued (`human_again`). */
  | { kind: 'acknowledge'; waiting: 'ack' | 'human_again' }
  /** Unclaimed, and the customer pressed "Ask the bot instead". */
  | { kind: 'back_to_bot' };

/**
 * Decides the bot's part while a conversation waits for a human. Pure: reads the recent turns back
 * to the latest escalation. When that escalation is no longer among them, the customer has written
 * a lot since and was acknowledged already: the bot stays silent.
 */
export function decideWhileWaiting(input: { recent: Turn[]; action: CustomerAction | undefined; asksForHuman: boolean }): WaitingStep {
  let escalationSeen = false;
  let claimed = false;
  const given = new Set<string>();
  for (const turn of [...input.recent].reverse()) {
    if (turn.kind === 'handoff' && turn.data.handoff === 'claimed') claimed = true;
    if (turn.role === 'bot' && turn.data.waiting) given.add(turn.data.waiting);
    if (turn.kind === 'escalation') {
      escalationSeen = true;
      break;
    }
  }
  if (claimed || !escalationSeen) return { kind: 'silent' };
  if (input.action === 'bot') return { kind: 'back_to_bot' };
  if (input.action === 'human' || input.asksForHuman) {
    return given.has('human_again') ? { kind: 'silent' } : { kind: 'acknowledge', waiting: 'human_again' };
  }
  return given.has('ack') || given.has('human_again') ? { kind: 'silent' } : { kind: 'acknowledge', waiting: 'ack' };
}

/** The acknowledgement: the message is seen, the place in the queue and the wait (when the desk says). */
export function toWaitingText(language: Language, waiting: 'ack' | 'human_again', status: QueueStatus | undefined): string {
  const zh = language === 'zh';
  const first =
    waiting === 'human_again'
      ? zh
        ? '您已经在人工客服的队列中了，无需再次申请。'
        : "You're already in the queue for a human agent; no need to ask again."
      : zh
        ? '收到您的消息，已转给人工客服，他们接手后会看到全部内容。'
        : "Got it: your messages are with our agents and they'll see everything when they pick up.";
  const place = !status
    ? ''
    : status.urgent
      ? zh
        ? `您的问题已标记为紧急，排在最前（第 ${status.position} 位）。`
        : `Your case is marked urgent and placed first in the queue (position ${status.position}).`
      : zh
        ? `您目前排在第 ${status.position} 位。`
        : `You are number ${status.position} in the queue.`;
  const offer = zh ? '等待期间，您也可以点「继续问机器人」回到智能助手。' : 'While you wait, you can press "Ask the bot instead" to go back to the assistant.';
  return [first, [place, status?.waitText ?? ''].filter(Boolean).join(' '), offer].filter(Boolean).join('\n');
}

export function toBackToBotText(language: Language): string {
  return language === 'zh'
    ? '好的，接下来由智能助手为您解答，请直接描述您的问题。需要人工时随时输入「人工」。'
    : 'Sure, the assistant is back: ask me anything. Type "human" whenever you want a person again.';
}
