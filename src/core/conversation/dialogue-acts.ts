import { toSimplifiedChinese } from '../chinese-script.js';
import type { SmallTalkActName } from '../model.js';

/**
 * What a customer message does in the conversation, before anything asks what it is about.
 * Everything but `question` is small talk: the bot replies with a short text of its own and the
 * knowledge base is not searched. `question` is everything else (a question, a problem, a request
 * for a human, a pasted address): the usual path decides.
 */
export type DialogueAct = SmallTalkActName | 'question';

export type SmallTalkAct = Exclude<DialogueAct, 'question'>;

export const DIALOGUE_ACTS: readonly DialogueAct[] = [
  'greeting',
  'are_you_there',
  'thanks',
  'acknowledgement',
  'farewell',
  'emoji_only',
  'laughter',
  'abuse',
  'chit_chat',
  'out_of_scope',
  'question',
];

export const isSmallTalk = (act: DialogueAct): act is SmallTalkAct => act !== 'question';

// Small talk is short; a longer message is a question whatever it starts with (and no pattern below
// ever runs on more than this).
const MAX_SMALL_TALK_CHARS = 120;

/**
 * Formulas a message may consist of, per act, written in Simplified Chinese and lower case. They are
 * matched after repeated letters are squeezed on both sides ("hiiii", "thx!!", 谢谢谢谢, 嗯嗯), so
 * each is written once; Traditional Chinese is folded to Simplified first.
 */
const FORMULAS: Record<'greeting' | 'are_you_there' | 'thanks' | 'acknowledgement' | 'farewell' | 'laughter' | 'filler', string[]> = {
  greeting: [
    'hi',
    'hello',
    'hey',
    'hallo',
    'hullo',
    'helo',
    'heya',
    'hiya',
    'howdy',
    'yo',
    'greetings',
    'good day',
    'hi there',
    'hello there',
    'hey there',
    'good morning',
    'good afternoon',
    'good evening',
    'morning',
    'gm',
    'evening',
    'dear',
    'dear support',
    'nihao',
    'ni hao',
    '你好',
    '您好',
    '你们好',
    '大家好',
    '哈喽',
    '哈啰',
    '嗨',
    '早',
    '早上好',
    '上午好',
    '中午好',
    '下午好',
    '晚上好',
    '早安',
    '午安',
    '嘿',
    // Openers that announce a question without asking it: the reply asks what it is.
    'help',
    'can you help me',
    'can you help',
    'can u help me',
    'could you help me',
    'i need help',
    'need help',
    'help me',
    'help please',
    'please help',
    'please help me',
    'i need some help',
    'i need assistance',
    'need assistance',
    'i have a question',
    'i have a problem',
    'i have an issue',
    'quick question',
    'question',
    'can i ask something',
    'can i ask a question',
    'i want to ask',
    'i want to ask something',
    '我有个问题',
    '我有问题',
    '有个问题',
    '问个问题',
    '想问一下',
    '想问下',
    '我想问一下',
    '请问一下',
    '咨询一下',
    '我想咨询',
    '我要咨询',
    '咨询',
    '能帮我吗',
    '可以帮我吗',
    '帮帮我',
    '帮个忙',
    '求助',
    '我需要帮助',
    '需要帮助',
  ],
  are_you_there: [
    'anyone there',
    'anybody there',
    'anyone',
    'anybody',
    'is anyone there',
    'is anybody there',
    'is someone there',
    'someone there',
    'are you there',
    'you there',
    'u there',
    'r u there',
    'are you still there',
    'still there',
    'are you online',
    'is this working',
    'hello anyone',
    'anyone here',
    'is anyone here',
    'anybody here',
    'is anybody here',
    'someone here',
    'ping',
    'helloo anyone',
    'can anyone help',
    'can someone help',
    'can you hear me',
    'is anyone online',
    'wake up',
    '在吗',
    '在么',
    '在嘛',
    '在不在',
    '在没',
    '在线吗',
    '有人吗',
    '有人在吗',
    '有没有人',
    '有人没',
    '有人在线吗',
    '人呢',
    '人在哪',
    '还在吗',
    '喂',
    '客服在吗',
    '客服在不在',
    '有人回复吗',
    '怎么不回',
    '怎么不说话',
    '回复一下',
    '理我一下',
    '在线么',
    '在',
  ],
  thanks: [
    'thanks',
    'thank you',
    'thank u',
    'thankyou',
    'thx',
    'thnx',
    'thanx',
    'tnx',
    'tks',
    'ty',
    'tysm',
    'tyvm',
    'thanks a lot',
    'thanks so much',
    'thank you so much',
    'thank you very much',
    'many thanks',
    'much appreciated',
    'appreciate it',
    'i appreciate it',
    'cheers',
    'thanks a bunch',
    'great thanks',
    'thanks for your help',
    'thank you for your help',
    'thanks for the help',
    'thanks for helping',
    '谢谢',
    '谢',
    '谢了',
    '谢啦',
    '多谢',
    '感谢',
    '非常感谢',
    '十分感谢',
    '万分感谢',
    '谢谢你',
    '谢谢您',
    '感谢你',
    '感谢您',
    '辛苦了',
    '辛苦',
    '麻烦了',
    '谢谢客服',
    '谢谢帮忙',
    '谢谢你的帮助',
    '感谢帮助',
    '3q',
    '3x',
    '蟹蟹',
    '谢谢提醒',
    '感谢提醒',
    '唔该',
    '唔该晒',
    '多谢晒',
  ],
  acknowledgement: [
    'ok',
    'okay',
    'okey',
    'oki',
    'okie',
    'k',
    'kk',
    'got it',
    'gotcha',
    'i see',
    'see',
    'understood',
    'understand',
    'i understand',
    'alright',
    'all right',
    'sure',
    'fine',
    'noted',
    'cool',
    'great',
    'nice',
    'perfect',
    'awesome',
    'good',
    'very good',
    'roger',
    'yes',
    'yeah',
    'yep',
    'yup',
    'ya',
    'no problem',
    'np',
    'will do',
    'i will try',
    'let me try',
    'i ll try',
    'ill try',
    'makes sense',
    'that makes sense',
    'fair enough',
    'oh',
    'ah',
    'ahh',
    'it worked',
    'that worked',
    'works now',
    'it works',
    'it works now',
    'working now',
    'solved',
    'problem solved',
    'that helped',
    'it helped',
    'all good',
    'received',
    'it arrived',
    'arrived',
    'done',
    'i did it',
    'great news',
    'wow',
    'good to know',
    'right',
    'true',
    'i know',
    '好',
    '好的',
    '好滴',
    '好嘞',
    '好哒',
    '好吧',
    '好呢',
    '好的呢',
    '行',
    '行吧',
    '可以',
    '可以了',
    '嗯',
    '恩',
    '哦',
    '噢',
    '喔',
    '额',
    '呃',
    '明白',
    '明白了',
    '知道了',
    '了解',
    '了解了',
    '收到',
    '收到了',
    '懂了',
    '晓得了',
    '清楚了',
    '对',
    '对的',
    '是的',
    '是',
    '没问题',
    '好了',
    '解决了',
    '搞定了',
    '搞定',
    '到账了',
    '已经到账了',
    '到了',
    '成功了',
    '我试试',
    '我试一下',
    '我去试试',
    '试试看',
    '原来如此',
    '这样啊',
    '原来是这样',
    '嗯呢',
    '哦哦',
    '好的好的',
    '行了',
    '妥了',
    'ok了',
    '那好',
    '那好吧',
    '那行',
    '我等等看',
    '等等看',
    '我再等等',
    '我等一下',
    '我先等等',
    '我再试试',
    '再试试',
    'i ll wait',
    'i will wait',
    'will wait',
    'i ll check',
    'will check',
    'let me check',
  ],
  farewell: [
    'bye',
    'goodbye',
    'good bye',
    'bye bye',
    'byebye',
    'see you',
    'see ya',
    'cya',
    'good night',
    'gn',
    'have a nice day',
    'have a good day',
    'have a great day',
    'take care',
    'later',
    'talk later',
    'ttyl',
    'that s all',
    'thats all',
    'that is all',
    'that s it',
    'thats it',
    'nothing else',
    'no thanks',
    'no thank you',
    'no more questions',
    'i m good',
    'im good',
    'all set',
    'i m all set',
    'no that s all',
    'that will be all',
    '再见',
    '拜拜',
    '拜',
    '回头见',
    '下次见',
    '晚安',
    '先这样',
    '就这样',
    '就这样吧',
    '没事了',
    '没有了',
    '没别的了',
    '没其他问题了',
    '没有其他问题了',
    '不用了',
    '不用了谢谢',
    '没问题了',
    '没了',
    '先这样吧',
    '祝你愉快',
    '祝您生活愉快',
    '再会',
    '掰掰',
    '掰',
    '没有别的问题了',
    '没别的问题了',
    '没有其他问题',
    '没有问题了',
  ],
  laughter: ['lol', 'lmao', 'lmfao', 'rofl', 'xd', 'haha', 'hehe', 'hihi', 'hah', '哈', '呵', '嘿嘿', '嘻', '笑死', '笑死我了', 'hh'],
  // Consumed around formulas but never small talk on their own.
  filler: [
    'there',
    'guys',
    'team',
    'support',
    'sir',
    'madam',
    'mam',
    'bro',
    'man',
    'mate',
    'friend',
    'admin',
    'bot',
    'again',
    'so',
    'very',
    'much',
    'all',
    'please',
    'pls',
    'plz',
    'just',
    'ok so',
    'you',
    'u',
    'for',
    'the',
    'info',
    'information',
    'answer',
    'reply',
    'a',
    'lot',
    'and',
    'then',
    '客服',
    '亲',
    '亲亲',
    '小姐姐',
    '小哥哥',
    '老师',
    '您',
    '你',
    '啊',
    '呀',
    '哈',
    '呢',
    '哦',
    '啦',
    '嘛',
    '吧',
    '哟',
    '哇',
    '嗷',
    '了',
    '的',
    '呐',
    '请问',
    '那个',
    '一下',
    '机器人',
    '小助手',
    '大家',
    '朋友',
    '你们',
    '帮助',
    '回复',
    '解答',
    '耐心',
    '的帮助',
    '的回复',
    '的解答',
    '很多',
    '非常',
    'warning',
    'reminder',
    'heads up',
    'tip',
    'tips',
    '唉',
    '哎',
    '哎呀',
    '嗐',
    '唔',
  ],
};

// Formulas that repeat or count rather than spell: 哈哈哈, hahaha, 233333, 88, 886.
const PATTERN_FORMULAS: Array<{ act: keyof typeof FORMULAS; source: string }> = [
  { act: 'laughter', source: '(?:ha|he|hi|ah){2,}h?' },
  { act: 'laughter', source: '23{2,}' },
  { act: 'laughter', source: '(?:哈|呵|嘿|嘻)+' },
  { act: 'farewell', source: '8{2,}6?' },
];

/** Letters (Latin or Han) repeated in a row count once: "hiiii", "thxx", 谢谢谢谢, 嗯嗯嗯. */
const squeeze = (text: string) => text.replace(/(\p{L})\1+/gu, '$1');

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// A formula ending in a Latin letter or digit must end a word ("hi" is not the start of "hidden");
// a Chinese one needs no boundary.
const toFormulaSource = (formula: string) => {
  const body = squeeze(formula).split(/\s+/).map(escapeRegExp).join('\\s*');
  return /[a-z0-9]$/.test(formula) ? `${body}(?![a-z0-9])` : body;
};

const FORMULA_MATCHERS: Array<{ act: keyof typeof FORMULAS; pattern: RegExp }> = [
  ...(Object.keys(FORMULAS) as Array<keyof typeof FORMULAS>).map((act) => ({
    act,
    pattern: new RegExp(
      `^(?:${[...FORMULAS[act]]
        .sort((a, b) => b.length - a.length)
        .map(toFormulaSource)
        .join('|')})`,
      'u',
    ),
  })),
  ...PATTERN_FORMULAS.map(({ act, source }) => ({ act, pattern: new RegExp(`^(?:${source})(?![a-z0-9])`, 'u') })),
];

// When a message holds several formulas, the one that says most about what the customer wants now.
const PRECEDENCE: SmallTalkAct[] = ['farewell', 'thanks', 'are_you_there', 'greeting', 'laughter', 'acknowledgement'];

// Pictographs, their modifiers and joiners, flags, keycaps; and the common text emoticons.
const EMOJI = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\u200d\ufe0f\u20e3]/gu;
const EMOTICON = /(?:^|(?<=\s))(?:[:;=][-']?[)(\][dpo3|/\\*]+|\^[_\-.]?\^|t_t|qaq|<3|orz|:\))(?=\s|$)/gu;
const SEPARATORS = /[\s\p{P}\p{S}]+/gu;

/**
 * What a message is about, in the words of the exchange's support: a message naming one of these
 * is a question, whatever else it holds (a greeting, thanks, an insult, "will BTC go up").
 */
const SUPPORT_TOPIC =
  /withdr[ae]w|deposit|spam|junk|垃圾箱|垃圾邮件|垃圾邮箱|垃圾桶|account|log ?in|sign ?in|password|passcode|2fa|two.?factor|authenticat|kyc|verif|identity|\bfees?\b|limit|transfer|address|network|memo|\btag\b|txid|tx ?hash|\bhash\b|frozen|freez|lock|blocked|\bapi\b|whitelist|transcript|chat history|record|balance|wallet|fund|trc ?20|erc ?20|bep ?20|usdt|refund|phishing|\bscam(?:med)?\b|hack|stole|\border|p2p|\botc\b|card|bank|e-?mail|phone|sms|(?:verification|2fa|sms|e-?mail|auth|otp|security|login|google|confirmation)\s*codes?|\botp\b|sub.?account|margin|futures|staking|airdrop|delist|listing|提现|提币|提領|充值|充币|入金|出金|到账|账户|账号|帐号|帐户|登录|登陆|密码|验证|认证|实名|手续费|费用|限额|额度|转账|转币|地址|网络|链|标签|备注|冻结|锁|白名单|记录|钱包|资金|余额|订单|合约|理财|质押|空投|上币|下架|银行卡|信用卡|邮箱|手机|短信|验证码|谷歌|身份|人脸|审核|退款|诈骗|被骗|被盗|黑客|子账户|杠杆|报错|失败|pending|卡住|没到|未到/;

const ABUSE =
  /\bf+u+c*k+|\bfk\b|\bfck|\bfuk|\bwtf\b|\bstfu\b|\bshit|\bbullshit|\bcrap\b|\bidiot|\bstupid|\bdumb|\bmoron|\bretard|\bscammers?\b|\bthie(?:f|ves)\b|\bdamn\b|\bdammit|\bsucks?\b|\bbitch|\bbastard|\basshole|\bjerk\b|\bgarbage\b|\btrash\b|\bpiece of (?:shit|crap|junk|garbage)|\bshut up|\bgo to hell|\bscrew you|\bhate you|\bpathetic\b|\bworthless\b|\bclowns?\b|傻逼|傻b|傻x|煞笔|沙比|(?<![a-z])(?:sb|nmsl|cnm|tmd|nnd|mlgb)(?![a-z])|垃圾|废物|智障|脑残|弱智|白痴|狗屎|狗东西|去死|滚|妈的|他妈|草泥马|操你|日你|尼玛|你妹|坑爹|骗子|骗钱|黑平台|黑心|混蛋|王八蛋|蠢|笨蛋|放屁|有病/;

const CHIT_CHAT =
  /how are (?:you|u)\b|how r u\b|how (?:is|s) it going|hows it going|how are things|how (?:is|s) your day|what s up|whats up|wassup|\bsup\b|who are (?:you|u)\b|who is this|who am i (?:talking|speaking|chatting) (?:to|with)|what are (?:you|u)\b|are (?:you|u) (?:a |an )?(?:bot|robot|ai|human|real|person|machine|chatgpt|gpt)|is this (?:a )?(?:bot|robot|ai|real person|human)|am i talking to (?:a )?(?:bot|robot|ai|human|real person|machine)|what(?: s| is) your name|your name|where are you from|how old are you|do you (?:like|love|sleep|eat|dream)|i love you|you re (?:cute|smart|funny|great|the best|awesome)|good bot|nice bot|smart bot|are you (?:smart|happy|ok|okay|single|married)|what can you do|what do you do|can you talk|i m bored|im bored|tell me about yourself|你是谁|你是(?:机器人|人工智能|ai|真人|人|人类|bot|客服机器人|chatgpt)|是(?:机器人|真人|ai)(?:吗|么|还是)|你叫什么|你的名字|你好吗|最近好吗|你怎么样|在干(?:嘛|啥|什么)|干嘛呢|你几岁|你多大|吃(?:了|饭了)吗|你会(?:什么|干什么|做什么)|你能(?:干|做)(?:什么|啥|嘛)|你能帮我(?:做)?什么|我(?:好|很)?无聊|我爱你|喜欢你|你真(?:棒|聪明|厉害|可爱)|你好(?:聪明|厉害|可爱)|你是男(?:的|生)还是女|你是男的女的|你在哪|你住哪|你累吗|你开心吗|你是不是机器人|真人还是机器人|机器人还是真人|人工智能吗/;

const OUT_OF_SCOPE =
  /\bweather\b|temperature (?:outside|today|tomorrow)|going to rain|\bjokes?\b|funny story|\briddles?\b|\bpoems?\b|\bsongs?\b|\bsing\b|tell me a story|\bhomework\b|\bessay\b|\bassignment\b|math problem|\bequation\b|\d+\s*[+*/x-]\s*\d+\s*=|\brecipes?\b|\bcook(?:ing)?\b|\bmovies?\b|\bfilms?\b|\bfootball\b|\bsoccer\b|\bbasketball\b|\bnba\b|world cup|\bnews\b|\bstocks?\b|stock market|\belection\b|\bpresident\b|capital of|\btranslate\b|write (?:me )?(?:a|an|some) (?:code|program|script|letter|cover letter|email)|\bpython\b|\bjavascript\b|\bgirlfriend\b|\bboyfriend\b|\bdating\b|\bhoroscope\b|\blottery\b|(?:will|is|does|could|would|can)\s+(?:the\s+)?(?:btc|bitcoin|eth|ethereum|sol|solana|doge|dogecoin|xrp|bnb|crypto|market|price|it|this coin|pepe|shib|altcoins?|ton|trx)\b.{0,30}\b(?:go up|go down|rise|fall|drop|pump|dump|moon|crash|recover|reach|hit|increase|decrease|be worth|go higher|go lower|bull|bear)|price (?:prediction|forecast|target)|predict(?:ion)?s? (?:the )?(?:price|market)|(?:what|which) (?:coin|crypto|token|altcoin|cryptocurrency|one)s? (?:should|to|do you recommend|would you|is best|will)|best (?:coin|crypto|token|investment|altcoin)s?|recommend (?:me )?(?:a |an |some )?(?:good )?(?:coin|crypto|token|altcoin|project)s?|price of (?:btc|bitcoin|eth|ethereum|sol|doge|xrp|bnb) (?:going|gonna|be|in|next|tomorrow|this)|should i (?:buy|sell|invest|hold|short|long)|(?:is|are) .{0,20} (?:a )?good (?:investment|buy)|worth (?:buying|investing)|investment advice|financial advice|trading signals?|give me (?:a )?signal|how (?:do i|to|can i) (?:get rich|make money|make \$?\d+)|天气|下雨|气温|温度多少|笑话|讲个故事|说个故事|讲故事|写诗|作诗|唱歌|唱首歌|作业|论文|数学题|菜谱|怎么做饭|做菜|电影|电视剧|足球|篮球|世界杯|比分|新闻|股票|股市|选举|总统|首都|翻译|写代码|写程序|女朋友|男朋友|谈恋爱|星座|彩票|(?:会|能|还会|还能|要)(?:不会)?(?:涨|跌|暴涨|暴跌|拉盘|砸盘|反弹)|涨吗|跌吗|涨不涨|跌不跌|行情|走势|价格预测|预测.{0,4}(?:价格|行情|走势)|买(?:什么|哪个|哪些|啥)币|(?:什么|哪个|哪些|啥)币.{0,6}(?:好|赚|值得|能买|可以买|推荐|涨)|推荐.{0,4}(?:币|币种|项目)|该不该买|能不能买|值得买|值得投资|可以投资|抄底|梭哈|牛市|熊市|百倍币|带单|喊单|荐股|投资建议|怎么(?:赚钱|发财|暴富)|稳赚/;

/** Lowercase, half-width, Simplified, emoji removed; how every rule below reads a message. */
function toComparable(text: string): { text: string; emoji: boolean } {
  const folded = toSimplifiedChinese(text.normalize('NFKC').toLowerCase()).replace(/[’'`´]/g, ' ');
  const withoutEmoji = folded.replace(EMOJI, ' ');
  const withoutEmoticons = withoutEmoji.replace(EMOTICON, ' ');
  return { text: withoutEmoticons.replace(/\s+/g, ' ').trim(), emoji: withoutEmoticons !== folded };
}

/** The acts of a message made only of formulas (fillers aside), or undefined when something else remains. */
function toFormulaActs(text: string): SmallTalkAct[] | undefined {
  let rest = squeeze(text).replace(SEPARATORS, ' ').trim();
  const acts: SmallTalkAct[] = [];
  while (rest.length > 0) {
    let best: { act: keyof typeof FORMULAS; length: number } | undefined;
    for (const { act, pattern } of FORMULA_MATCHERS) {
      const match = pattern.exec(rest);
      if (match && match[0].length > (best?.length ?? 0)) best = { act, length: match[0].length };
    }
    if (!best) return undefined;
    if (best.act !== 'filler') acts.push(best.act);
    rest = rest.slice(best.length).trimStart();
  }
  return acts;
}

// A few words after "ok" / "thanks" that restate rather than ask ("ok so 24h", "ok I will not pay").
const CLOSING_REST_MAX_WORDS = 4;
const CLOSING_REST_MAX_HAN = 6;
const INTERROGATIVE = /\b(?:what|how|why|when|where|which|who|can|could|should|is|are|do|does|will|would)\b|怎么|什么|为什么|吗|么|呢|如何|哪|多久|几/;

/**
 * "ok" or "thanks" followed by a short restatement, without a question: the customer closes the
 * topic. Undefined for anything else (the message then goes on to be read as a question).
 */
function toClosingAct(text: string, original: string): 'acknowledgement' | 'thanks' | undefined {
  if (/[?？]/.test(original)) return undefined;
  // The formulas the message opens with (fillers among them), up to the first word that is none.
  let rest = squeeze(text).replace(SEPARATORS, ' ').trim();
  const acts = new Set<keyof typeof FORMULAS>();
  for (;;) {
    let best: { act: keyof typeof FORMULAS; length: number } | undefined;
    for (const { act, pattern } of FORMULA_MATCHERS) {
      const match = pattern.exec(rest);
      if (!match) continue;
      // A filler that starts with a formula ("ok so") still says the formula's act.
      if (act !== 'filler') acts.add(act);
      if (match[0].length > (best?.length ?? 0)) best = { act, length: match[0].length };
    }
    if (!best) break;
    rest = rest.slice(best.length).trimStart();
  }
  if (acts.size === 0 || [...acts].some((act) => act !== 'acknowledgement' && act !== 'thanks')) return undefined;
  if (rest === '' || INTERROGATIVE.test(rest)) return undefined;
  const han = rest.match(/\p{Script=Han}/gu)?.length ?? 0;
  const latinWords = rest
    .replace(/\p{Script=Han}/gu, ' ')
    .split(/\s+/)
    .filter(Boolean).length;
  if (han > CLOSING_REST_MAX_HAN || latinWords > CLOSING_REST_MAX_WORDS) return undefined;
  return acts.has('thanks') ? 'thanks' : 'acknowledgement';
}

// "Fixed it", "it works now", "搞定了": the customer reports the problem gone.
const SOLVED_OPENING =
  /^(?:(?:ok|okay|great|nice|good news)\s*,?\s*)?(?:(?:(?:i|we)\s+)?(?:fixed|solved|sorted)\s+it|(?:it|that)\s+(?:s\s+|is\s+)?(?:fixed|solved|sorted|working|works|worked)|all\s+good\s+now|problem\s+solved|never\s*mind|nvm|got\s+it\s+working|搞定|解决了|弄好了|好了|可以了|没问题了|找到了|到了|到账了)/u;
const SOLVED_REST_MAX_WORDS = 12;
const SOLVED_REST_MAX_HAN = 20;

/**
 * "Fixed it, the phone time was wrong. thanks": a report that the problem is gone, ending in thanks
 * and asking nothing. What lies between may name the topic; it explains, it does not ask.
 */
function isSolvedThanks(text: string, original: string): boolean {
  if (/[?？]/.test(original) || !SOLVED_OPENING.test(text)) return false;
  const words = text.replace(SEPARATORS, ' ').trim().split(' ');
  // The closing thanks: the longest tail of words that is a thanks formula.
  const tail = [3, 2, 1]
    .map((n) => words.slice(-n).join(' '))
    .find((t) => FORMULAS.thanks.includes(t) || (/^(?:谢谢|多谢|感谢|謝謝)/u.test(t) && t.length <= 6));
  if (!tail) return false;
  const middle = words.slice(0, words.length - tail.split(' ').length).join(' ');
  // "but", "still": a problem that remains.
  if (INTERROGATIVE.test(middle) || /\b(?:but|still|however|except)\b|但|还是|仍然|还没|不过/u.test(middle)) return false;
  const han = middle.match(/\p{Script=Han}/gu)?.length ?? 0;
  const latinWords = middle
    .replace(/\p{Script=Han}/gu, ' ')
    .split(/\s+/)
    .filter(Boolean).length;
  return han <= SOLVED_REST_MAX_HAN && latinWords <= SOLVED_REST_MAX_WORDS;
}

/**
 * Classifies one customer message into a dialogue act, in Simplified or Traditional Chinese or
 * English. Small talk is a whole message: "你好" is a greeting, "你好，我的提现没到账" a question.
 * Robust to punctuation, full-width forms, repeated letters and emoji. Pure and bounded: a long
 * message is a question without further reading.
 */
export function classifyDialogueAct(message: string): DialogueAct {
  if ([...message].length > MAX_SMALL_TALK_CHARS) return 'question';
  const { text, emoji } = toComparable(message);
  const words = text.replace(SEPARATORS, ' ').trim();
  if (words === '') {
    // Nothing but emoji or punctuation: a lone "?" or "..." asks whether anyone is there.
    if (emoji) return 'emoji_only';
    return text === '' ? 'question' : 'are_you_there';
  }
  if (/^\d[\d\s]*$/.test(words) && !/^8{2,}6?$/.test(words) && !/^23{2,}$/.test(words)) return 'question';

  const onTopic = SUPPORT_TOPIC.test(text);
  if (ABUSE.test(text) && !onTopic) return 'abuse';

  const acts = toFormulaActs(text);
  if (acts && acts.length > 0) {
    const act = PRECEDENCE.find((a) => acts.includes(a)) as SmallTalkAct;
    // "hello?" and "你好？" ask whether anyone is there.
    if (act === 'greeting' && !acts.includes('thanks') && /[?？]\s*$/.test(message.trim())) return 'are_you_there';
    return act;
  }
  if (isSolvedThanks(text, message)) return 'thanks';
  if (onTopic) return 'question';
  const closing = toClosingAct(text, message);
  if (closing) return closing;
  if (CHIT_CHAT.test(text)) return 'chit_chat';
  if (OUT_OF_SCOPE.test(text)) return 'out_of_scope';
  return 'question';
}
