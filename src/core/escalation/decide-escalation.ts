import { toSimplifiedChinese } from '../chinese-script.js';
import type { CustomerAction, EscalationDecision } from '../model.js';

const ASKS_FOR_HUMAN = [
  /^\s*\/?(?:(?:please|pls|plz)\s+)?(?:an?\s+)?(?:human|agent|person|operator|representative|support|real person|live agent)(?:\s+(?:please|pls|plz|now|agent))?\s*[.!?]*\s*$/i,
  /\b(?:talk|speak|chat|connect|transfer|put)\b.{0,30}\b(?:human|person|agent|representative|someone|somebody|staff|operator|real support)\b/i,
  /\b(?:real|live|actual)\s+(?:human|person|agent|support)\b/i,
  /\b(?:want|need|get me|give me)\s+(?:a|an|to talk to a)?\s*(?:human|agent|person|representative)\b/i,
  /人工|真人|转客服|找客服|客服人员|联系客服人员/,
];

const SENSITIVE = [
  /\b(?:stolen|stole|steal|hacked|hacker|hijacked|compromised|scammed|drained|taken over|took over)\b/i,
  /\bunauthori[sz]ed\b/i,
  /\bsomeone\b.{0,30}\b(?:logged|log|signed|sign|got|accessed|withdr[ae]w|transferred|took|changed)\b/i,
  /\b(?:didn'?t|did not|never)\s+(?:make|do|authori[sz]e|request|initiate)\b.{0,30}\b(?:withdrawal|transfer|login|trade)/i,
  /\baccount\b.{0,20}\b(?:frozen|freezed|suspended|blocked by|restricted)\b|\bfrozen\b.{0,20}\baccount\b/i,
  /\b(?:funds?|money|coins?|balance|assets?|crypto|btc|usdt|eth)\b.{0,25}\b(?:missing|gone|disappeared|vanished|stolen)\b/i,
  /被盗|盗号|盗刷|被黑|黑客|被入侵|被人登录|被别人登录|异地登录|陌生.{0,4}登录|不是我(?:本人)?(?:操作|提的|提现|登录|转的)|被转走|被提走|被冻结|冻结了|账户冻结|账号冻结|资产.{0,4}(?:丢失|不见|没了)|(?:钱|币|余额).{0,4}(?:不见了|没了|丢了)|被骗|诈骗/,
];

const UNSATISFIED = [
  /\b(?:didn'?t|doesn'?t|does not|did not|not|never)\s+(?:help|helpful|work|solve|answer|useful)/i,
  /\b(?:useless|wrong answer|not what i asked|still (?:not|doesn'?t|isn'?t|can'?t)|you are not helping|you're not helping)\b/i,
  /没用|没有用|没帮助|没有帮助|没解决|没有解决|答非所问|不是我问的|不是这个问题|还是不行|还是没|不管用|没啥用/,
];

// The Chinese patterns are written in Simplified characters; Traditional text is folded first.
const matchesAny = (patterns: RegExp[], text: string) => {
  const folded = toSimplifiedChinese(text);
  return patterns.some((p) => p.test(folded));
};

export const asksForHuman = (text: string) => matchesAny(ASKS_FOR_HUMAN, text);
export const isSensitive = (text: string) => matchesAny(SENSITIVE, text);
export const isUnsatisfied = (text: string) => matchesAny(UNSATISFIED, text);

export interface EscalationInput {
  /** The customer's text, already normalized; empty for a button press. */
  text: string;
  action: CustomerAction | undefined;
  /** Retrieval confidence of the best entry; undefined when retrieval failed. */
  confidence: number | undefined;
  threshold: number;
  /** Topic the bot would answer with now. */
  topTopic: string | undefined;
  /**
   * Topics of the bot's most recent answers in this conversation, newest first, back to the last
   * time the customer said it was solved.
   */
  recentAnswerTopics: string[];
  /** Retrieval or model failed and no offline answer can stand in. */
  failed: boolean;
}

/**
 * The escalation policy: decides whether a human takes over, why, and how urgently. Pure: the same
 * input always gives the same decision. Returns null when the bot should answer.
 */
export function decideEscalation(input: EscalationInput): EscalationDecision | null {
  const sensitive = input.text !== '' && isSensitive(input.text);
  if (input.action === 'human' || (input.text !== '' && asksForHuman(input.text))) {
    return {
      reason: 'customer_requested_human',
      priority: sensitive ? 'urgent' : 'normal',
      detail: input.action === 'human' ? 'pressed "talk to a human"' : 'asked for a human in their message',
    };
  }
  if (input.action === 'solved') return null;
  if (sensitive) {
    return { reason: 'sensitive_topic', priority: 'urgent', detail: 'possible theft, account takeover or frozen account' };
  }
  if (input.failed) {
    return { reason: 'model_failure', priority: 'normal', detail: 'retrieval or the model failed' };
  }
  if (isUnsatisfied(input.text)) {
    return { reason: 'customer_unsatisfied', priority: 'normal', detail: 'said the answer did not help' };
  }
  const confidence = input.confidence ?? 0;
  if (confidence < input.threshold || input.topTopic === undefined) {
    return {
      reason: 'low_confidence',
      priority: 'normal',
      detail: `best match confidence ${confidence.toFixed(2)} below threshold ${input.threshold.toFixed(2)}`,
    };
  }
  // The customer asked again about the topic the bot already answered twice: both answers failed.
  const [last, beforeLast] = input.recentAnswerTopics;
  if (last === input.topTopic && beforeLast === input.topTopic) {
    return {
      reason: 'repeated_failure',
      priority: 'normal',
      detail: `asked again after two answers from "${input.topTopic}"`,
    };
  }
  return null;
}
