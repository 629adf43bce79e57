import { Composer } from 'telegraf';
import { type Language, toGreeting } from '../../core/index.js';
import { telegramTexts } from './telegram-texts.js';
import { answer, type UpdateContext } from './update-context.js';

/** The language names /lang takes. */
const LANGUAGES: readonly Language[] = ['zh', 'en'];

/**
 * The bot's commands, each a handler of its own. Their arguments are read from the stored, screened
 * text: a secret after a command is removed like anywhere else. A command no handler takes gets
 * the list of commands.
 */
export const commands = new Composer<UpdateContext>();

commands.start(async (ctx) => {
  const { customer, deps, inbound } = ctx;
  const { origin, updateId } = inbound;
  const { language } = customer;
  const args = ctx.payload.trim();
  // A link from a group: continue that member's transcript or handoff here.
  if (!origin.isGroup && args && deps.privateLinks.isLink(args)) {
    const continued = deps.privateLinks.read(args, origin.userId);
    if (!continued) {
      void deps.helpdesk.recordSecurityEvent?.({
        type: 'access_denied',
        channel: 'telegram',
        conversationId: customer.conversation.id,
        detail: { reason: 'telegram_link_of_another_user' },
      });
      answer(ctx, await customer.record(telegramTexts.privateLinkNotYours(language)));
      return;
    }
    if (continued.topic === 'transcript') {
      const recorded = await customer.record(undefined);
      const group = await deps.helpdesk.startConversation({ channel: 'telegram', externalId: `${continued.groupId}:${origin.userId}`, language });
      answer(ctx, recorded, { replyTo: null, after: await deps.replies.transcriptMessages(group.conversation.id, origin.chatId, updateId, language) });
      return;
    }
    const outcome =
      customer.conversation.state === 'escalated'
        ? await customer.record(telegramTexts.alreadyWithHuman(language))
        : await deps.helpdesk.handleCustomerInput({
            ...customer.input,
            action: 'human',
            escalation: { ...continued.escalation, detail: `raised in Telegram group ${continued.groupId}; continued in a private chat` },
          });
    answer(ctx, outcome);
    return;
  }
  const channels = telegramTexts.officialChannels(language, ctx.botInfo.username);
  // A new conversation is greeted with this turn; an existing one gets the greeting again.
  const reply = customer.isNew ? channels : `${toGreeting(language, deps.exchangeName)}\n\n${channels}`;
  answer(ctx, await customer.record(reply));
});

commands.help(async (ctx) => {
  answer(ctx, await ctx.customer.record(telegramTexts.help(ctx.customer.language)));
});

/** "Talk to a human": escalates, unless the conversation is with the agents already. */
commands.command('human', async (ctx) => {
  const { customer, deps } = ctx;
  const outcome =
    customer.conversation.state === 'escalated'
      ? await customer.record(telegramTexts.alreadyWithHuman(customer.language))
      : await deps.helpdesk.handleCustomerInput({ ...customer.input, action: 'human', ...customer.groupEscalation });
  answer(ctx, outcome);
});

/** The choice reaches the helpdesk as a language, with the command as the customer's turn. */
commands.command('lang', async (ctx) => {
  const { customer, deps } = ctx;
  const choice = LANGUAGES.find((language) => language === ctx.payload.trim().toLowerCase());
  if (!choice) {
    answer(ctx, await customer.record(telegramTexts.langUsage(customer.language)));
    return;
  }
  // The turn shows the command as the customer meant it, whatever its case or @mention.
  const said = deps.helpdesk.screen({ text: `/lang ${choice}` });
  answer(ctx, await deps.helpdesk.handleCustomerInput({ ...customer.input, message: said, command: { kind: 'set_language', language: choice } }));
});

/** "Is this handle / link / phone number really the exchange's?" against the configured allowlist. */
commands.command('verify', async (ctx) => {
  const { customer, deps } = ctx;
  const args = ctx.payload.trim();
  const checked = args ? deps.helpdesk.checkOfficialChannel?.(args, customer.language) : undefined;
  const reply = !args ? telegramTexts.verifyUsage(customer.language) : (checked?.reply ?? telegramTexts.verifyUnavailable(customer.language));
  answer(ctx, await customer.record(reply));
});

/** The verifiable transcript; in a group, a link to get it in a private chat. */
commands.command('transcript', async (ctx) => {
  const { customer, deps, inbound } = ctx;
  const link = customer.inPrivate({ topic: 'transcript' });
  if (link) {
    answer(ctx, await customer.record(telegramTexts.transcriptInPrivate(customer.language, link)));
    return;
  }
  const recorded = await customer.record(undefined);
  const transcript = await deps.replies.transcriptMessages(customer.conversation.id, inbound.origin.chatId, inbound.updateId, customer.language);
  answer(ctx, recorded, { replyTo: null, after: transcript });
});

/** Any other command (the stored ones are lowercase letters, digits and underscores). */
commands.command(/^[a-z0-9_]+$/, async (ctx) => {
  answer(ctx, await ctx.customer.record(telegramTexts.unknownCommand(ctx.customer.language)));
});
