import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { Composer, Context, Telegram } from 'telegraf';
import { message } from 'telegraf/filters';
import type { Update, UserFromGetMe } from 'telegraf/types';
import { describe, expect, it } from 'vitest';
import { type TgUpdate, toStoredInbound } from '../../src/adapters/telegram/to-inbound-event.js';
import { toStoredUpdate } from '../../src/adapters/telegram/update-context.js';
import { createFirewall } from '../../src/core/index.js';
import { seededMnemonic } from '../support/mnemonics.js';

const me = { id: 999, is_bot: true, first_name: 'Support', username: 'examplex_support_bot' } as UserFromGetMe;
const firewall = createFirewall({ maxMessageChars: 2000 });
const alice = { id: 42, is_bot: false, first_name: 'Alice', language_code: 'en' };
const privateChat = { id: 42, type: 'private' as const };
const group = { id: -100123, type: 'supergroup' as const, title: 'Traders' };
const msg = (fields: Record<string, unknown>, chat: { id: number; type: 'private' | 'supergroup' } = privateChat) => ({
  message_id: 7,
  date: 1,
  chat,
  from: alice,
  ...fields,
});
const command = (text: string) => ({ text, entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]?.length ?? 0 }] });

/** Where telegraf's own routing sends an update: which route took it, with what it read. */
const routes = new Composer<Context>();
routes.start((ctx) => void (ctx.state.route = `start:${ctx.payload}`));
routes.command(['help', 'human', 'lang', 'verify', 'transcript'], (ctx) => void (ctx.state.route = `${ctx.command}:${ctx.payload}`));
routes.command(/^[a-z0-9_]+$/, (ctx) => void (ctx.state.route = `other command:${ctx.command}`));
routes.on(message('text'), (ctx) => void (ctx.state.route = `text:${ctx.message.text}`));
routes.action(/^choose:(.+)$/, (ctx) => void (ctx.state.route = `choose:${ctx.match[1]}:${ctx.callbackQuery.message?.message_id ?? 'no keyboard'}`));
routes.action(/^act:(.+)$/, (ctx) => void (ctx.state.route = `act:${ctx.match[1]}`));
routes.on('edited_message', (ctx) => void (ctx.state.route = `edit:${ctx.editedMessage.message_id}`));
routes.on([message('photo'), message('document')], (ctx) => void (ctx.state.route = 'file'));
routes.on('message', (ctx) => void (ctx.state.route = 'other message'));

async function routeOf(update: Update): Promise<unknown> {
  const ctx = new Context(update, new Telegram('1:test'), me);
  await routes.middleware()(ctx, async () => undefined);
  return ctx.state.route;
}

/** The route of an update as the inbox keeps it (read, screened, stored) and handles it. */
async function storedRouteOf(update: TgUpdate): Promise<unknown> {
  const stored = toStoredInbound(update, { id: me.id, username: me.username }, firewall);
  if ('ignored' in stored) return `ignored: ${stored.ignored}`;
  return routeOf(toStoredUpdate(update.update_id, stored.origin, stored.event));
}

describe('a stored update, handled by telegraf routing', () => {
  const cases: Array<[string, TgUpdate]> = [
    ['a command with its arguments', { update_id: 1, message: msg(command('/lang zh')) }],
    ['/start with a deep-link payload', { update_id: 2, message: msg(command('/start t_n1_abcdefghijklmnop')) }],
    ['a command addressed to this bot in a group', { update_id: 3, message: msg(command('/help@examplex_support_bot'), group) }],
    ['a command no handler names', { update_id: 4, message: msg(command('/settings')) }],
    ['a question', { update_id: 5, message: msg({ text: 'How do I reset my password?' }) }],
    ['a choice from a keyboard', { update_id: 6, callback_query: { id: 'q', from: alice, data: 'choose:withdrawal-delay', message: msg({ text: 'Which?' }) } }],
    ['"None of these"', { update_id: 7, callback_query: { id: 'q', from: alice, data: 'choose:none', message: msg({ text: 'Which?' }) } }],
    ['an answer button', { update_id: 8, callback_query: { id: 'q', from: alice, data: 'act:solved', message: msg({ text: 'Answer' }) } }],
    ['an edited message', { update_id: 9, edited_message: msg({ message_id: 5, text: 'fixed typo' }) }],
    ['a photo with a caption', { update_id: 10, message: msg({ photo: [{ file_id: 'small' }, { file_id: 'large' }], caption: 'my screen' }) }],
    ['a document', { update_id: 11, message: msg({ document: { file_id: 'f', file_name: 'statement.pdf' } }) }],
    ['a sticker', { update_id: 12, message: msg({ sticker: { file_id: 's' } }) }],
    ['a shared contact', { update_id: 13, message: msg({ contact: { phone_number: '+1 555 0100', first_name: 'Bob' } }) }],
  ];

  it.each(cases)('takes the route of the update Telegram sent: %s', async (_, update) => {
    expect(await storedRouteOf(update)).toBe(await routeOf(update as unknown as Update));
  });

  it('reads a command by its lowercased name and its screened arguments', async () => {
    expect(await storedRouteOf({ update_id: 20, message: msg(command('/LANG ZH')) })).toBe('lang:ZH');
    const phrase = seededMnemonic('telegram-stored-update', english);
    const route = await storedRouteOf({ update_id: 21, message: msg(command(`/verify ${phrase}`)) });
    expect(route).toMatch(/^verify:/);
    expect(route).not.toContain(phrase.split(' ').slice(0, 3).join(' '));
  });
});
