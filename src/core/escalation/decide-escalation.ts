import { toSimplifiedChinese } from '../chinese-script.js';
import type { CustomerAction, EscalationDecision } from '../model.js';

const ASKS_FOR_HUMAN = [
  /^\s*\/?(?:(?:please|pls|plz)\s+)?(?:an?\s+)?(?:human|agent|person|operator|representative|support|real person|live agent)(?:\s+(?:please|pls|plz|now|agent))?\s*[.!?]*\s*$/i,
  /\b(?:talk|speak|chat|connect|transfer|put)\b.{0,30}\b(?:human|person|agent|representative|someone|somebody|staff|operator|real support)\b/i,
  /\b(?:real|live|actual)\s+(?:human|person|agent|support)\b/i,
  /\b(?:want|need|get me|give me)\s+(?:a|an|to talk to a)?\s*(?:human|agent|person|representative)\b/i,
  /人工|真人|转客服|找客服|客服人员|联系客服人员/,
];

// "When do your agents work?", 「人工客服一般多久回复」: a question about the human team, answered from the
// knowledge base, unless it also asks for one in so many words (「转人工要多久」).
const ABOUT_HUMANS =
  /多久|几点|什么时候|何时|上班|下班|工作时间|营业时间|周末|节假日|多长时间|\bhow long\b|\bwhat time\b|\bwhen (?:do|does|are|is|will)\b|\b(?:working|business|opening|office) hours\b|\bweekends?\b/i;
const EXPLICIT_HUMAN_REQUEST = [
  /(?:转|找|要|接|联系|呼叫|叫)个?(?:人工|真人)|人工服务|^\s*(?:人工|真人)(?:客服)?\s*[!！。.]*\s*$/,
  /\b(?:talk|speak|chat|connect|transfer|put)\b.{0,30}\b(?:human|person|agent|representative|someone|somebody|staff|operator)\b/i,
  /\b(?:want|need|get me|give me)\s+(?:a|an|to talk to a)?\s*(?:human|agent|person|representative)\b/i,
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

// Someone (often posing as support) asked the customer for a secret or a fee, or posed as support:
// the customer is being scammed now. Reports of it, not questions about the policy ("will support
// ever ask for my password?"), nor what the app asks for at login.
const WHO_EN = String.raw`\b(?:support|agent|admin|moderator|staff|employee|customer service|service team|someone|somebody|guy|man|woman|person|they|he|she|scammer|caller|account)\b`;
const GIVE_EN = String.raw`(?:give|send|share|provide|enter|type|tell|confirm|verify|input|reveal|submit|import|read out|write down|paste)`;
const SECRET_EN = String.raw`(?:my |our |the |a |all |his |her |their |your )?(?:(?:12|24|twelve|twenty[- ]four)[- ])?(?:wallet |full |whole |login |account |google |sms |e-?mail |backup |exchange )?(?:recovery|seed|mnemonic|secret|private key|phrase|(?:12|24|twelve|twenty[- ]four) words|password|passcode|2fa|otp|one[- ]time code|verification code|auth(?:enticator)? code|sms code|pin)`;
const ASKED_EN = String.raw`\b(?:asked|asks|asking|requested|requests|requesting|wanted|wants|demanded|demands|demanding)\b(?: (?:me|us))?(?: for| to ${GIVE_EN}(?: (?:him|her|them|it))?)? ${SECRET_EN}`;
const TOLD_EN = String.raw`\b(?:told|tells|instructed|made|got|wants|wanted|asked|asks)\b (?:me|us) to ${GIVE_EN}\b.{0,30}?${SECRET_EN}`;
const WHO_ZH = '(?:客服|管理员|管理員|工作人员|工作人員|官方|有人|对方|對方|他们|他們|群主|自称|自稱|陌生人|骗子|騙子|私信|電話|电话)';
const GIVE_ZH = '(?:提供|发|發|给|給|输入|輸入|告诉|告訴|填写|填寫|填|导入|導入|说出|說出|报|報|交出|截图|截圖|验证|驗證)';
const SECRET_ZH = '(?:助记词|助記詞|私钥|私鑰|密码|密碼|验证码|驗證碼|恢复短语|恢復短語|种子|種子|谷歌验证|谷歌驗證|2FA|OTP)';
const SCAM_REPORT = [
  new RegExp(`${WHO_EN}.{0,40}?(?:${ASKED_EN}|${TOLD_EN})\\b`, 'i'),
  /\b(?:claim(?:s|ed|ing)?|pretend(?:s|ed|ing)?|posing|posed|impersonat\w*)\b.{0,30}\b(?:support|staff|admin|agent|employee|official|exchange|team)\b/i,
  /\b(?:asked|asks|told|tells|wanted|wants|demanded|demands|requested|requests)\b(?: (?:me|us))? to (?:pay|send|transfer|deposit)\b.{0,40}\b(?:fee|tax|unlock|unfreeze|release|activation|verification|security deposit)\b/i,
  new RegExp(`${WHO_ZH}[^。！？\\n]{0,16}(?:(?:让|讓|叫|要求|要)我?${GIVE_ZH}|索要|索取|问我要|問我要|找我要)[^。！？\\n]{0,12}${SECRET_ZH}`, 'i'),
  // 「客服说要我的助记词」: wants the customer's secret, without a verb of giving.
  new RegExp(`${WHO_ZH}[^。！？\\n]{0,16}(?<![会會能])(?:要|索要|索取)我的${SECRET_ZH}`, 'i'),
  /(?:让|讓|叫|要求|要)我[^。！？\n]{0,12}(?:交|付|缴|繳|转|轉)[^。！？\n]{0,8}(?:手续费|手續費|保证金|保證金|解冻费|解凍費|税|稅|激活费|激活費|验证费|驗證費)/,
  /(?:假冒|冒充|自称是?|自稱是?)[^。！？\n]{0,8}(?:客服|官方|管理员|管理員|工作人员|工作人員)/,
  // "Move your funds to a safe wallet": the classic account-at-risk call.
  /\b(?:told|telling|tells|asked|asking|asks|said|says|wants|wanted|instructed)\b.{0,60}\b(?:safe|secure|protected|new)\s+(?:wallet|account|address)\b/i,
  /(?:让|讓|叫|要求|要)我[^。！？\n]{0,6}(?:转币|轉幣|把币|把幣|把钱|把錢|转到|轉到)|安全(?:钱包|錢包|账户|賬戶)/,
];

// "…, is that legit?", 「…，是真的吗」: the customer asks whether a contact is genuine before acting on
// it. Unless a secret was asked for, that is answered (the scam-warning entry), not escalated.
const LEGITIMACY_QUESTION =
  /\b(?:is|was) (?:that|this|it|he|she|they) (?:legit|legitimate|real|genuine|true|official|a scam|safe)\b|\blegit\s*\?|是真的吗|是不是真的|真的假的|是(?:不是)?(?:诈骗|骗子|骗局)(?:吗|么)?|可信吗|靠谱吗/i;
const MENTIONS_SECRET = new RegExp(
  `${SECRET_ZH}|\\b(?:recovery|seed|mnemonic|private key|password|passcode|2fa|otp|verification code|(?:12|24) (?:recovery )?words)\\b`,
  'i',
);

// The Chinese patterns are written in Simplified characters; Traditional text is folded first.
const matchesAny = (patterns: RegExp[], text: string) => {
  const folded = toSimplifiedChinese(text);
  return patterns.some((p) => p.test(folded));
};

export const asksForHuman = (text: string) =>
  matchesAny(ASKS_FOR_HUMAN, text) && !(matchesAny([ABOUT_HUMANS], text) && !matchesAny(EXPLICIT_HUMAN_REQUEST, text));
export const isSensitive = (text: string) => matchesAny(SENSITIVE, text);
export const isUnsatisfied = (text: string) => matchesAny(UNSATISFIED, text);
/** The customer reports someone asking them for a secret or a fee, or posing as support. */
export const isScamReport = (text: string) => matchesAny(SCAM_REPORT, text);

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
  const folded = toSimplifiedChinese(input.text);
  const asksIfGenuine = LEGITIMACY_QUESTION.test(folded) && !MENTIONS_SECRET.test(folded);
  // Someone is scamming the customer now: a human at once, first in the queue, whatever else they asked.
  if (input.text !== '' && !asksIfGenuine && isScamReport(input.text)) {
    return { reason: 'scam_report', priority: 'urgent', detail: 'reports being asked for a secret or a fee, or someone posing as support' };
  }
  // 「是诈骗吗」 asks; it does not report a loss.
  const sensitive = input.text !== '' && isSensitive(asksIfGenuine ? folded.replace(LEGITIMACY_QUESTION, ' ') : input.text);
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
