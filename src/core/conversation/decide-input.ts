import { toRating, toRatingThanks } from '../handoff/handoff-messages.js';
import type { Locale } from '../language.js';
import type { ConversationState, CustomerAction, CustomerChoice, EscalationDecision, Language, ScreenedText, Turn } from '../model.js';
import type { ConversationPatch, NewTurn } from '../ports.js';
import { toBackToBotText, decideWhileWaiting } from './waiting.js';
import { toLanguageSwitched, toSolvedReply } from './messages.js';
import { decideSmallTalk } from './small-talk.js';

/** What a customer input leads to: the one value the helpdesk's apply step carries out. */
export type InputStep =
  /** Append the turns (bot texts in the customer's locale), apply the patch, report `outcome`; first withdraw from the human queue. */
  | { kind: 'reply'; turns: NewTurn[]; outcome: 'answered' | 'clarified' | 'forwarded' | 'acknowledged'; patch?: ConversationPatch; withdraw?: true }
  /** Hand the conversation to humans (or, where humans must not take it, redirect): the customer's turn, then `extra`, then the escalation. */
  | { kind: 'escalate'; turn: NewTurn; decision: EscalationDecision; extra: NewTurn[] }
  /** Waiting for an agent, unclaimed: the turns, then a notice with the customer's place in the queue (read when applied). */
  | { kind: 'acknowledge_waiting'; turns: NewTurn[]; waiting: 'ack' | 'human_again'; patch: ConversationPatch }
  /** A pick among the choices of the bot's latest clarifying turn: decided against what was offered. */
  | { kind: 'choice'; choice: CustomerChoice }
  /** A question for the knowledge base: search, then answer, clarify or escalate. */
  | { kind: 'search'; turn: NewTurn; patch: ConversationPatch }
  /** Nothing to handle (no text, action, choice or language): the customer is told. */
  | { kind: 'empty' };

/** What decideInput reads: the input as screened, the conversation, and what the helpdesk made of them. */
export interface InputFacts {
  state: ConversationState;
  /** The customer's text as screened (markers where secrets were). */
  text: ScreenedText;
  /** The text without the firewall's markers: what the customer asked. */
  question: string;
  action: CustomerAction | undefined;
  choice: CustomerChoice | undefined;
  /** The language asked for: by a command, by the widget's switch, or in words. */
  switched: Language | undefined;
  /** The input is itself the request to switch (a channel's command, or words that ask for it). */
  switchOnly: boolean;
  language: Language;
  locale: Locale;
  /** The customer's turn for a message or an action, as recorded. */
  customerTurn: NewTurn;
  /** The firewall's notices (a secret removed, a message cut): they follow the customer's turn. */
  notices: NewTurn[];
  recent: Turn[];
  /** The input asks for a human in words. */
  asksForHuman: boolean;
  /** "Is @someone official?": the reply of the official-channel check, when the text asks it. */
  channelCheckReply: string | undefined;
  /** The unique key of the input, carried by the turn that stands for it. */
  externalKey: string | undefined;
  exchangeName: string;
}

/**
 * Decides what a customer input leads to before any search: a language switch, a pick among
 * choices, a rating, a message while with humans, the answer buttons, a message that was nothing
 * but a secret, an official-channel question, small talk; else a search. Pure.
 */
export function decideInput(f: InputFacts): InputStep {
  const { language, customerTurn } = f;
  const withNotices = (turns: NewTurn[]): NewTurn[] => [...turns.slice(0, 1), ...f.notices, ...turns.slice(1)];
  if (f.text && f.switched && f.switchOnly) {
    return {
      kind: 'reply',
      turns: [
        { role: 'customer', kind: 'language_switch', text: f.text, language, externalKey: f.externalKey },
        { role: 'bot', kind: 'language_switch', text: toLanguageSwitched(f.switched), language: f.switched },
      ],
      outcome: 'acknowledged',
      patch: { language: f.switched, languageChosen: true },
    };
  }
  const patch: ConversationPatch = f.switched ? { language, languageChosen: true } : { language };
  if (f.choice) return { kind: 'choice', choice: f.choice };
  if (!f.text && !f.action) {
    if (!f.switched) return { kind: 'empty' };
    return {
      kind: 'reply',
      turns: [{ role: 'bot', kind: 'language_switch', text: toLanguageSwitched(f.switched), language: f.switched, externalKey: f.externalKey }],
      outcome: 'acknowledged',
      patch,
    };
  }
  const notice = (text: string): NewTurn => ({ role: 'bot', kind: 'notice', text, language });

  // After a resolved handoff, a lone 1–5 is the customer's rating of the service.
  const rating = f.state === 'closed' && f.text && !f.action ? toRating(f.text) : undefined;
  if (rating !== undefined) {
    return {
      kind: 'reply',
      turns: [
        { role: 'customer', kind: 'rating', text: f.text, language, externalKey: f.externalKey, data: { rating } },
        notice(toRatingThanks(language, rating)),
      ],
      outcome: 'acknowledged',
      patch: { ...patch, state: 'bot' },
    };
  }

  // With humans: the message is recorded for the agents. Until an agent claims it, the bot
  // acknowledges once (and a second request for a human), and offers to take the customer back.
  if (f.state === 'escalated') {
    const step = decideWhileWaiting({ recent: f.recent, action: f.action, asksForHuman: f.asksForHuman });
    if (step.kind === 'back_to_bot') {
      return {
        kind: 'reply',
        turns: withNotices([customerTurn, notice(toBackToBotText(language))]),
        outcome: 'acknowledged',
        patch: { ...patch, state: 'bot' },
        withdraw: true,
      };
    }
    if (step.kind === 'acknowledge') return { kind: 'acknowledge_waiting', turns: withNotices([customerTurn]), waiting: step.waiting, patch };
    return { kind: 'reply', turns: withNotices([customerTurn]), outcome: 'forwarded', patch };
  }

  if (f.action === 'solved') {
    return { kind: 'reply', turns: withNotices([customerTurn, notice(toSolvedReply(language))]), outcome: 'acknowledged', patch: { ...patch, state: 'bot' } };
  }
  // "Ask the bot instead" pressed when the conversation is with the bot already.
  if (f.action === 'bot') return { kind: 'reply', turns: withNotices([customerTurn, notice(toBackToBotText(language))]), outcome: 'acknowledged', patch };

  // Nothing but a secret: the warning is the answer (there is no question to look up).
  if (!f.action && f.question === '' && f.notices.length > 0) return { kind: 'reply', turns: withNotices([customerTurn]), outcome: 'acknowledged', patch };

  // "Is @someone official?": answered by the official-channel check, not by retrieval.
  if (f.channelCheckReply !== undefined && !f.action) {
    return { kind: 'reply', turns: withNotices([customerTurn, notice(f.channelCheckReply)]), outcome: 'acknowledged', patch };
  }

  // Small talk (a greeting, thanks, "在吗", an emoji...) gets a short reply of its own, before any
  // search: it is not a question the knowledge base could miss. A greeting with a question in it
  // is a question.
  const smallTalk = !f.action ? decideSmallTalk(f.question, f.recent, f.locale, f.exchangeName) : undefined;
  if (smallTalk) {
    const said: NewTurn = { ...customerTurn, data: { ...customerTurn.data, dialogueAct: smallTalk.act } };
    if (smallTalk.kind === 'escalate') return { kind: 'escalate', turn: said, decision: smallTalk.decision, extra: f.notices };
    return {
      kind: 'reply',
      turns: withNotices([said, { role: 'bot', kind: 'notice', text: smallTalk.text, language, data: { dialogueAct: smallTalk.act } }]),
      outcome: 'acknowledged',
      patch,
    };
  }
  return { kind: 'search', turn: customerTurn, patch };
}
