import { Context, type Telegram } from 'telegraf';
import type { Update, UserFromGetMe } from 'telegraf/types';
import {
  type Conversation,
  type CustomerInput,
  type CustomerMessage,
  type CustomerOutcome,
  detectLanguage,
  type EscalationDecision,
  type Helpdesk,
  type Language,
  type OutboundMessage,
  type Turn,
  type TurnData,
} from '../../core/index.js';
import type { PrivateLinks } from './private-links.js';
import { telegramTexts } from './telegram-texts.js';
import type { TelegramReplies } from './telegram-replies.js';
import { CALLBACK_PREFIX, CHOICE_NONE, CHOICE_PREFIX, type InboundOrigin, parseCommand, type StoredEvent } from './to-inbound-event.js';

export type HandlersHelpdesk = Pick<Helpdesk, 'startConversation' | 'handleCustomerInput' | 'recordCustomerTurn' | 'screen'> &
  Partial<Pick<Helpdesk, 'transcript' | 'checkOfficialChannel' | 'recordSecurityEvent'>>;

/** What the handlers of stored updates work with, besides the update. */
export interface HandlerDeps {
  helpdesk: HandlersHelpdesk;
  replies: TelegramReplies;
  privateLinks: PrivateLinks;
  /** The inbox's update that carried a chat message (the original of an edited message). */
  findByMessage(chatId: string, messageId: number): Promise<number | undefined>;
  botId: number;
  exchangeName: string;
}

/** The customer's conversation, opened for the update by `openConversation`. */
export interface CustomerScope {
  conversation: Conversation;
  /** Bot texts follow an explicit language choice, then Telegram's language, then the conversation. */
  language: Language;
  /** What opening the conversation stored (nothing but a greeting): sent before the reply. */
  openingTurns: Turn[];
  isNew: boolean;
  /** The fields of every helpdesk input of this update: the conversation, the update's key, the conversation just created. */
  input: Pick<CustomerInput, 'conversationId' | 'externalKey' | 'created'>;
  /** In a group, escalation moves to a private chat with the bot through a link (see CustomerInput.escalateElsewhere). */
  groupEscalation: Pick<CustomerInput, 'escalateElsewhere'>;
  /** Records the update's message as a customer turn the bot does not answer from the knowledge base, with a fixed reply. */
  record(reply: string | undefined, kind?: 'message' | 'attachment' | 'edit', editOf?: TurnData['editOf']): Promise<CustomerOutcome>;
  /** In a group: a link to a private chat with the bot, made for this member only; undefined in a private chat. */
  inPrivate(what: Parameters<PrivateLinks['link']>[1]): string | undefined;
}

/**
 * A stored update being handled: telegraf's Context over the update as stored (see toStoredUpdate),
 * the stored inbound itself, the customer's conversation and the replies the handler decided on.
 */
export interface UpdateContext extends Context {
  inbound: { updateId: number; origin: InboundOrigin; event: StoredEvent };
  customer: CustomerScope;
  replies: OutboundMessage[];
  deps: HandlerDeps;
}

/**
 * The Telegram update a stored inbound stands for, for telegraf's routing (commands, callback data,
 * message kinds): ids, and the customer's content as screened, never the raw update (which is not
 * kept). A command keeps its lowercased name and arguments; a callback query its data.
 */
export function toStoredUpdate(updateId: number, origin: InboundOrigin, event: StoredEvent): Update {
  const chat = { id: Number(origin.chatId), type: origin.isGroup ? 'supergroup' : 'private' };
  const from = { id: origin.userId, is_bot: false, first_name: '' };
  const message = (fields: Record<string, unknown>) => ({ message_id: origin.messageId ?? 0, date: 0, chat, from, ...fields });
  let update: Record<string, unknown>;
  switch (event.kind) {
    case 'command': {
      const command = `/${event.command}`;
      const args = parseCommand(event.message.text)?.args ?? '';
      update = { message: message({ text: args ? `${command} ${args}` : command, entities: [{ type: 'bot_command', offset: 0, length: command.length }] }) };
      break;
    }
    case 'text':
      update = { message: message({ text: event.message.text }) };
      break;
    case 'attachment': {
      const file = { file_id: event.message.attachments[0]?.fileId ?? '', file_unique_id: '' };
      update = { message: message(event.message.attachments[0]?.type === 'photo' ? { photo: [file] } : { document: file }) };
      break;
    }
    case 'unsupported':
      update = { message: message({}) };
      break;
    case 'edit':
      update = { edited_message: message({ message_id: event.editedMessageId, text: event.message.text, edit_date: 0 }) };
      break;
    case 'action':
      update = { callback_query: { id: '', from, chat_instance: '', data: `${CALLBACK_PREFIX}${event.action}` } };
      break;
    case 'choice': {
      const keyboard = event.keyboardMessageId === null ? {} : { message: { message_id: event.keyboardMessageId, date: 0, chat } };
      update = { callback_query: { id: '', from, chat_instance: '', data: `${CHOICE_PREFIX}${event.entryId ?? CHOICE_NONE}`, ...keyboard } };
      break;
    }
  }
  // Built from what was stored, not received from Telegram: the fields routing reads are all there.
  return { update_id: updateId, ...update } as unknown as Update;
}

/** The Context the handlers run on for one stored update. */
export function toUpdateContext(inbound: UpdateContext['inbound'], telegram: Telegram, me: UserFromGetMe, deps: HandlerDeps): UpdateContext {
  const context = new Context(toStoredUpdate(inbound.updateId, inbound.origin, inbound.event), telegram, me);
  return Object.assign(context, { inbound, deps, replies: [] as OutboundMessage[] }) as UpdateContext;
}

/**
 * The first middleware: opens (or finds) the customer's conversation, greeting a new one with its
 * first turn, and what every handler needs of it.
 */
export async function openConversation(ctx: UpdateContext, next: () => Promise<void>): Promise<void> {
  const { helpdesk, privateLinks, botId } = ctx.deps;
  const { updateId, origin, event } = ctx.inbound;
  const message: CustomerMessage | undefined = 'message' in event ? event.message : undefined;
  const started = await helpdesk.startConversation({
    channel: 'telegram',
    externalId: origin.externalId,
    language: origin.languageCode ?? detectLanguage(message?.text ?? '') ?? 'en',
    customerHandle: origin.customerHandle,
    // Greeted in the same append as the customer's first message and its reply.
    greetWithFirstTurn: true,
  });
  const conversation = started.conversation;
  const conversationId = conversation.id;
  const externalKey = `tg:${botId}:${updateId}`;
  const language: Language = conversation.languageChosen ? conversation.language : (origin.languageCode ?? conversation.language);
  const username = ctx.botInfo.username;
  // In a group everyone reads along: what is personal (the transcript, talking to a human) moves
  // to a private chat with the bot, through a link only this member can use.
  const inPrivate = (what: Parameters<PrivateLinks['link']>[1]) =>
    origin.isGroup ? privateLinks.link(username, what, Number(origin.chatId), origin.userId) : undefined;
  ctx.customer = {
    conversation,
    language,
    openingTurns: started.turns,
    isNew: started.isNew,
    // A conversation created just now is handed over as it is: the helpdesk need not read it again.
    input: { conversationId, externalKey, ...(started.isNew ? { created: { conversation, turns: started.turns } } : {}) },
    groupEscalation: origin.isGroup
      ? {
          escalateElsewhere: (decision: EscalationDecision) =>
            telegramTexts.continuePrivately(language, inPrivate({ topic: 'handoff', escalation: decision }) as string),
        }
      : {},
    record(reply, kind = 'message', editOf) {
      if (!message) throw new Error(`a ${event.kind} update has no message to record`);
      return helpdesk.recordCustomerTurn({ conversationId, kind, message, language, externalKey, ...(editOf ? { editOf } : {}), ...(reply ? { reply } : {}) });
    },
    inPrivate,
  };
  await next();
}

/**
 * Sets the update's replies: what opening the conversation stored, then the outcome's turns. In a
 * group they reply to the customer's message (everyone reads along), unless `replyTo` says otherwise.
 */
export function answer(
  ctx: UpdateContext,
  outcome: CustomerOutcome,
  options: { replyTo?: number | null; before?: OutboundMessage[]; after?: OutboundMessage[] } = {},
): void {
  const { origin } = ctx.inbound;
  const replyTo = options.replyTo !== undefined ? options.replyTo : origin.isGroup ? origin.messageId : null;
  ctx.replies = [
    ...(options.before ?? []),
    ...ctx.deps.replies.fromTurns([...ctx.customer.openingTurns, ...outcome.turns], origin.chatId, replyTo),
    ...(options.after ?? []),
  ];
}
