import { describe, expect, it } from 'vitest';
import { decideInput, type InputFacts } from '../../src/core/conversation/decide-input.js';
import { createFirewall, type NewTurn, type Turn } from '../../src/core/index.js';

const firewall = createFirewall({ maxMessageChars: 2000 });
const screened = (text: string) => firewall.screen({ text }).text;

/** A plain English question to a conversation with the bot. */
function facts(text: string, over: Partial<InputFacts> = {}): InputFacts {
  const language = over.language ?? 'en';
  const customerTurn: NewTurn = { role: 'customer', kind: 'message', text: screened(text), language, externalKey: 'k1' };
  return {
    state: 'bot',
    text: screened(text),
    question: text,
    action: undefined,
    choice: undefined,
    switched: undefined,
    switchOnly: false,
    language,
    locale: language === 'zh' ? 'zh-Hans' : 'en',
    customerTurn,
    notices: [],
    recent: [],
    asksForHuman: false,
    channelCheckReply: undefined,
    externalKey: 'k1',
    exchangeName: 'ExampleX',
    ...over,
  };
}

const turn = (over: Partial<Turn>): Turn =>
  ({
    id: `t${over.seq ?? 1}`,
    conversationId: 'c1',
    seq: 1,
    role: 'bot',
    kind: 'notice',
    text: '',
    language: 'en',
    data: {},
    createdAt: new Date(0),
    ...over,
  }) as Turn;
const escalated = [turn({ seq: 4, role: 'customer', kind: 'message', text: 'help' }), turn({ seq: 5, role: 'system', kind: 'escalation' })];
const secretNotice: NewTurn = { role: 'bot', kind: 'notice', text: 'We removed a secret.', language: 'en' };

describe('decideInput', () => {
  it('sends a question to the search, with the language it is in', () => {
    expect(decideInput(facts('How do I reset my password?'))).toMatchObject({ kind: 'search', patch: { language: 'en' } });
  });

  it('records a language command as the customer turn and confirms the switch, choosing the language for good', () => {
    const step = decideInput(facts('/lang zh', { switched: 'zh', switchOnly: true, language: 'zh' }));
    expect(step).toMatchObject({ kind: 'reply', outcome: 'acknowledged', patch: { language: 'zh', languageChosen: true } });
    expect(step.kind === 'reply' && step.turns.map((t) => [t.role, t.kind])).toEqual([
      ['customer', 'language_switch'],
      ['bot', 'language_switch'],
    ]);
  });

  it('confirms a language chosen alone (the widget switch) with the bot turn only, keyed by the input', () => {
    const step = decideInput(facts('', { switched: 'zh', language: 'zh' }));
    expect(step).toMatchObject({ kind: 'reply', turns: [{ role: 'bot', kind: 'language_switch', externalKey: 'k1' }], patch: { languageChosen: true } });
  });

  it('answers a question sent with a chosen language in that language, keeping the choice', () => {
    expect(decideInput(facts('How do I reset my password?', { switched: 'zh', language: 'zh' }))).toMatchObject({
      kind: 'search',
      patch: { language: 'zh', languageChosen: true },
    });
  });

  it('tells an empty input apart, for the customer to be told', () => {
    expect(decideInput(facts(''))).toEqual({ kind: 'empty' });
  });

  it('hands a pick among choices on, whatever the conversation', () => {
    expect(decideInput(facts('', { choice: { entryId: 'fees' } }))).toEqual({ kind: 'choice', choice: { entryId: 'fees' } });
  });

  it('takes a lone 1-5 after a resolved handoff as the rating, and gives the conversation back to the bot', () => {
    const step = decideInput(facts('5', { state: 'closed' }));
    expect(step).toMatchObject({
      kind: 'reply',
      outcome: 'acknowledged',
      patch: { state: 'bot' },
      turns: [{ kind: 'rating', data: { rating: 5 } }, { kind: 'notice' }],
    });
    expect(decideInput(facts('5'))).toMatchObject({ kind: 'search' });
  });

  it('while waiting for an agent acknowledges the first message once, then forwards silently', () => {
    expect(decideInput(facts('are you there', { state: 'escalated', recent: escalated }))).toMatchObject({ kind: 'acknowledge_waiting', waiting: 'ack' });
    const acknowledged = [...escalated, turn({ seq: 6, data: { waiting: 'ack' } })];
    expect(decideInput(facts('still waiting', { state: 'escalated', recent: acknowledged }))).toMatchObject({
      kind: 'reply',
      outcome: 'forwarded',
      turns: [{ role: 'customer' }],
    });
  });

  it('takes a waiting customer back to the bot on "ask the bot instead", withdrawing from the queue', () => {
    const action: NewTurn = { role: 'customer', kind: 'action', text: screened('Ask the bot'), language: 'en', data: { action: 'bot' } };
    const step = decideInput(facts('', { state: 'escalated', recent: escalated, action: 'bot', customerTurn: action }));
    expect(step).toMatchObject({ kind: 'reply', withdraw: true, patch: { state: 'bot' }, outcome: 'acknowledged' });
    expect(decideInput(facts('', { action: 'bot', customerTurn: action }))).not.toHaveProperty('withdraw');
  });

  it('puts the firewall notices right after the customer turn, and lets a message of nothing but a secret be answered by them', () => {
    const step = decideInput(facts('[secret removed]', { question: '', notices: [secretNotice] }));
    expect(step).toMatchObject({ kind: 'reply', outcome: 'acknowledged', turns: [{ role: 'customer' }, secretNotice] });
    const solved = decideInput(facts('', { action: 'solved', notices: [secretNotice] }));
    expect(solved.kind === 'reply' && solved.turns.map((t) => t.role)).toEqual(['customer', 'bot', 'bot']);
    expect(solved.kind === 'reply' && solved.turns[1]).toBe(secretNotice);
  });

  it('answers an official-channel question with the check, not a search', () => {
    expect(decideInput(facts('is @examplex_help official?', { channelCheckReply: 'No, @examplex_help is not ours.' }))).toMatchObject({
      kind: 'reply',
      turns: [{ role: 'customer' }, { text: 'No, @examplex_help is not ours.' }],
    });
  });

  it('answers small talk itself and escalates an insult repeated after the calm reply', () => {
    expect(decideInput(facts('thanks!'))).toMatchObject({
      kind: 'reply',
      outcome: 'acknowledged',
      turns: [{ data: { dialogueAct: 'thanks' } }, { role: 'bot' }],
    });
    const calmed = [
      turn({ seq: 1, role: 'customer', kind: 'message', text: 'you are useless idiot', data: { dialogueAct: 'abuse' } }),
      turn({ seq: 2, data: { dialogueAct: 'abuse' } }),
    ];
    const again = decideInput(facts('you are useless idiot', { recent: calmed }));
    expect(again).toMatchObject({ kind: 'escalate', decision: { reason: 'repeated_abuse' } });
  });
});
