import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { EscalationDecision, EscalationReason } from '../../core/index.js';

/**
 * Links from a group to a private chat with the bot (https://t.me/<bot>?start=<payload>), for what
 * is personal: a member's transcript, or their conversation with a human agent. The payload names
 * the group and what to continue, and carries a MAC over them and the member's Telegram user id;
 * Telegram tells the bot who pressed Start, so a link opened by anyone else (forwarded, copied,
 * guessed) matches nobody and continues nothing. At most 64 characters of [A-Za-z0-9_-], as
 * Telegram requires.
 */
export type PrivateTopic = { topic: 'transcript' } | { topic: 'handoff'; escalation: Pick<EscalationDecision, 'reason' | 'priority'> };

const REASONS: EscalationReason[] = [
  'customer_requested_human',
  'sensitive_topic',
  'customer_unsatisfied',
  'model_failure',
  'low_confidence',
  'repeated_failure',
];
const TAG_CHARS = 16;

export function createPrivateLinks(botToken: string) {
  const key = createHash('sha256').update(`telegram-private-link:${botToken}`).digest();
  const tag = (code: string, groupId: number, userId: number) =>
    createHmac('sha256', key).update(`${code}:${groupId}:${userId}`).digest('base64url').slice(0, TAG_CHARS);
  const encodeChat = (id: number) => (id < 0 ? `n${(-id).toString(36)}` : `p${id.toString(36)}`);
  const decodeChat = (text: string) => {
    const n = Number.parseInt(text.slice(1), 36);
    if (!/^[np][0-9a-z]{1,13}$/.test(text) || !Number.isSafeInteger(n)) return undefined;
    return text.startsWith('n') ? -n : n;
  };

  return {
    /** The deep link for `userId` of group `groupId` to continue `what` in private with bot `botUsername`. */
    link(botUsername: string, what: PrivateTopic, groupId: number, userId: number): string {
      const code =
        what.topic === 'transcript' ? 't' : `h${Math.max(0, REASONS.indexOf(what.escalation.reason))}${what.escalation.priority === 'urgent' ? 'u' : 'n'}`;
      return `https://t.me/${botUsername}?start=${code}_${encodeChat(groupId)}_${tag(code, groupId, userId)}`;
    },
    /**
     * What a /start payload asks `userId` to continue, and from which group; undefined when it is
     * not such a link, or was made for someone else.
     */
    read(payload: string, userId: number): (PrivateTopic & { groupId: number }) | undefined {
      const match = /^(t|h[0-5][nu])_([np][0-9a-z]+)_([A-Za-z0-9_-]{16})$/.exec(payload);
      if (!match) return undefined;
      const [, code, chat, given] = match as unknown as [string, string, string, string];
      const groupId = decodeChat(chat);
      if (groupId === undefined) return undefined;
      const expected = Buffer.from(tag(code, groupId, userId));
      if (!timingSafeEqual(expected, Buffer.from(given))) return undefined;
      if (code === 't') return { topic: 'transcript', groupId };
      return {
        topic: 'handoff',
        groupId,
        escalation: { reason: REASONS[Number(code[1])] as EscalationReason, priority: code[2] === 'u' ? 'urgent' : 'normal' },
      };
    },
    /** Whether a /start payload looks like one of these links (whoever it was made for). */
    isLink: (payload: string) => /^(t|h[0-5][nu])_[np][0-9a-z]+_[A-Za-z0-9_-]{16}$/.test(payload),
  };
}

export type PrivateLinks = ReturnType<typeof createPrivateLinks>;
