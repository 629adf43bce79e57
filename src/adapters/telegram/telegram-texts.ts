import type { Language } from '../../core/index.js';

/** What the Telegram bot says about itself and its commands, in both languages. */
export const telegramTexts = {
  officialChannels(language: Language, botUsername: string | undefined): string {
    const bot = botUsername ? `@${botUsername}` : undefined;
    return language === 'zh'
      ? `官方客服渠道：${bot ? `本机器人 ${bot}、` : ''}官网上的在线客服。其他自称客服的账号都不是我们。可用 /help 查看所有命令。`
      : `Official support channels: ${bot ? `this bot, ${bot}, and ` : ''}the chat on our website. Anyone else claiming to be support is not us. Send /help to see all commands.`;
  },
  help(language: Language): string {
    return language === 'zh'
      ? [
          '直接用文字描述您的问题，我会从帮助中心为您解答。',
          '/human 转人工客服',
          '/lang zh 或 /lang en 切换语言',
          '/transcript 获取聊天记录',
          '/verify <账号、链接或电话> 核实是否为官方渠道',
          '/start 介绍与官方渠道',
          '截图和文件会保存在您的工单中，并在转人工时交给客服。',
          '客服绝不会索要您的密码、验证码、助记词或私钥。',
        ].join('\n')
      : [
          'Describe your question in words and I will answer from our help center.',
          '/human talk to a human agent',
          '/lang en or /lang zh switch language',
          '/transcript get your conversation record',
          '/verify <handle, link or phone> check whether a contact is really ours',
          '/start what this bot does and the official channels',
          'Screenshots and files are kept with your conversation and handed to the agent.',
          'Support will never ask for your password, 2FA codes, recovery phrase or private keys.',
        ].join('\n');
  },
  langUsage(language: Language): string {
    return language === 'zh' ? '用法：/lang zh（中文）或 /lang en（English）' : 'Usage: /lang en (English) or /lang zh (中文)';
  },
  verifyUsage(language: Language): string {
    return language === 'zh'
      ? '用法：/verify 后接要核实的 Telegram 账号、网址或电话号码，例如 /verify @examplex_support'
      : 'Usage: /verify followed by the Telegram handle, link or phone number to check, e.g. /verify @examplex_support';
  },
  verifyUnavailable(language: Language): string {
    return language === 'zh'
      ? '暂时无法核实渠道：官方渠道列表尚未配置。请只通过官网和本机器人联系我们。'
      : 'I cannot check contacts right now: no list of official channels is configured. Please only contact us through our website and this bot.';
  },
  transcriptUnavailable(language: Language): string {
    return language === 'zh'
      ? '暂时无法生成聊天记录，请稍后再发送 /transcript。您的每条消息都已完整保存。'
      : 'Your transcript cannot be produced right now; please send /transcript again later. Every message of this conversation is kept in full.';
  },
  transcriptFileCaption(language: Language): string {
    return language === 'zh'
      ? '可验证的聊天记录（JSON）：任何人都可以用我们公开的密钥离线验证，未被删改。'
      : 'Your verifiable transcript (JSON): anyone can check with our public key, offline, that nothing in it was removed or changed.';
  },
  attachmentReceived(language: Language): string {
    return language === 'zh'
      ? '已收到并保存您的文件，转人工时会一并交给客服。如有问题，请再用文字简单描述。'
      : 'Got it: your file is saved with this conversation and will be handed to the agent. Please also describe your question in words.';
  },
  unsupported(language: Language): string {
    return language === 'zh'
      ? '抱歉，我暂时无法读取贴纸、语音或视频。请用文字描述您的问题，也可以发送截图，或输入 /human 联系人工客服。'
      : "Sorry, I can't read stickers, voice or video messages. Please write your question in words, send a screenshot, or type /human to reach a person.";
  },
  alreadyWithHuman(language: Language): string {
    return language === 'zh'
      ? '您的对话已在人工客服处理中，客服会在这里回复您。'
      : 'Your conversation is already with our support team; an agent will reply here.';
  },
  unknownCommand(language: Language): string {
    return language === 'zh' ? '没有这个命令。可用 /help 查看所有命令。' : "I don't know that command. Send /help to see what I can do.";
  },
  failed(language: Language): string {
    return language === 'zh'
      ? '抱歉，系统出现了问题，您的消息已保存。请稍后再试，或输入 /human 联系人工客服。'
      : 'Sorry, something went wrong on our side. Your message is saved; please try again shortly or type /human to reach a person.';
  },
  /** In a group: a human will take this up in a private chat, through the link. */
  continuePrivately(language: Language, link: string): string {
    return language === 'zh'
      ? `为保护您的隐私，人工客服将在您与我的私聊中继续处理。请打开 ${link} 并点击“开始”。请勿在群里发送账户信息。`
      : `To protect your privacy, a human agent will continue with you in a private chat with me. Open ${link} and press Start. Please don't post account details in the group.`;
  },
  /** In a group: the transcript is personal, it is sent in a private chat, through the link. */
  transcriptInPrivate(language: Language, link: string): string {
    return language === 'zh'
      ? `聊天记录属于个人信息，我会在私聊中发给您。请打开 ${link} 并点击“开始”。`
      : `Your transcript is personal, so I'll send it to you in a private chat. Open ${link} and press Start.`;
  },
  /** A private-chat link opened by someone it was not made for. */
  privateLinkNotYours(language: Language): string {
    return language === 'zh'
      ? '这个链接是为另一位群成员生成的，无法在此打开。您可以直接在这里向我提问，或发送 /human 联系人工客服。'
      : 'This link was made for another member of the group, so it opens nothing here. You can ask me anything in this chat, or send /human to reach a person.';
  },
  source(language: Language): string {
    return language === 'zh' ? '来源：' : 'Source:';
  },
};
