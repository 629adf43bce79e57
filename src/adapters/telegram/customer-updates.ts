import { Composer } from 'telegraf';
import { message } from 'telegraf/filters';
import type { CustomerAction } from '../../core/index.js';
import { telegramTexts } from './telegram-texts.js';
import { CALLBACK_PREFIX, CHOICE_NONE, CHOICE_PREFIX } from './to-inbound-event.js';
import { answer, type UpdateContext } from './update-context.js';

/** What customers send besides commands: questions, button presses, edits, files. */
export const customerUpdates = new Composer<UpdateContext>();

/** A question or any other text: the helpdesk answers it. */
customerUpdates.on(message('text'), async (ctx) => {
  const { customer, deps, inbound } = ctx;
  if (inbound.event.kind !== 'text') return;
  answer(ctx, await deps.helpdesk.handleCustomerInput({ ...customer.input, message: inbound.event.message, ...customer.groupEscalation }));
});

/** A pick among a clarifying turn's choices ("None of these" too); the keyboard closes once used. */
customerUpdates.action(new RegExp(`^${CHOICE_PREFIX}(.+)$`), async (ctx) => {
  const { customer, deps, inbound } = ctx;
  const picked = ctx.match[1] as string;
  const outcome = await deps.helpdesk.handleCustomerInput({ ...customer.input, choice: { entryId: picked === CHOICE_NONE ? null : picked } });
  const keyboard = ctx.callbackQuery.message?.message_id;
  const close = keyboard === undefined ? [] : [deps.replies.closeKeyboard(inbound.updateId, inbound.origin.chatId, keyboard)];
  answer(ctx, outcome, { replyTo: null, before: close });
});

/** An answer's buttons: "this solved it", "talk to a human", "ask the bot instead". */
customerUpdates.action(new RegExp(`^${CALLBACK_PREFIX}(.+)$`), async (ctx) => {
  const { customer, deps } = ctx;
  const action = ctx.match[1] as CustomerAction;
  answer(ctx, await deps.helpdesk.handleCustomerInput({ ...customer.input, action, ...customer.groupEscalation }));
});

/** An edited message is recorded with the message it edits, for the agents; the bot does not answer it again. */
customerUpdates.on('edited_message', async (ctx) => {
  const { customer, deps, inbound } = ctx;
  const edited = ctx.editedMessage.message_id;
  const original = await deps.findByMessage(inbound.origin.chatId, edited);
  answer(ctx, await customer.record(undefined, 'edit', { externalKey: original === undefined ? null : `tg:${deps.botId}:${original}`, messageId: edited }));
});

/** A screenshot or a file: kept with the conversation for the agents. */
customerUpdates.on([message('photo'), message('document')], async (ctx) => {
  answer(ctx, await ctx.customer.record(telegramTexts.attachmentReceived(ctx.customer.language), 'attachment'));
});

/** Stickers, voice, video, contacts, places, polls: recorded, and the customer asked for words. */
customerUpdates.on('message', async (ctx) => {
  answer(ctx, await ctx.customer.record(telegramTexts.unsupported(ctx.customer.language), 'attachment'));
});
