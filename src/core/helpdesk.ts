import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  toActionText,
  toActions,
  toAskBotAction,
  toEmptyMessageReply,
  toEscalationNotice,
  toGreeting,
  toWebGreeting,
  toOtherLanguageNote,
} from './conversation/messages.js';
import { createKeyedRunner } from './keyed-runner.js';
import {
  findOfferedChoice,
  followsUnansweredClarify,
  MAX_CHOICES,
  toChoices,
  toClarifyText,
  toNoneLabel,
  toUnknownChoiceReply,
} from './conversation/clarify.js';
import { decideLocale, toLocaleTurn } from './conversation/locale.js';
import { toCorrectedQuery, toFollowUpQuery } from './conversation/follow-up.js';
import { decideInput, type InputStep } from './conversation/decide-input.js';
import { toWaitingText } from './conversation/waiting.js';
import { createMemoryConversationStore } from './conversation/memory-conversation-store.js';
import { type HitTestResult, toDryRunLogger, toHitTestResult } from './knowledge/hit-test.js';
import { createMemorySecurityEventLog } from './safety/security-events.js';
import { rejectUnlistedContacts, toKnowledgeLinks } from './safety/check-knowledge-contacts.js';
import { createSafetyGate, type HelpdeskSafety } from './safety/safety-gate.js';
import { type RawCustomerMessage, withoutMarkers } from './safety/firewall.js';
import { checkModelAnswer } from './safety/check-grounding.js';
import { blockReasons } from './safety/outbound-guard.js';
import { HelpdeskError } from './errors.js';
import { asksForHuman, decideEscalation } from './escalation/decide-escalation.js';
import type { KnowledgeProblem, RawKnowledgeFile } from './knowledge/validate-entries.js';
import { type PassageSplitter, type SyncReport, syncKnowledgeFiles } from './knowledge/sync-knowledge.js';
import { detectLanguage, detectLanguageSwitch, type Locale, toLanguageOf } from './language.js';
import type {
  AnswerMode,
  Channel,
  Conversation,
  CustomerAction,
  CustomerChoice,
  CustomerMessage,
  EscalationDecision,
  Language,
  RetrievalResult,
  StoredEntry,
  Turn,
  TurnData,
} from './model.js';
import type {
  Answerer,
  AppendOptions,
  WaitingQueue,
  ConversationPatch,
  ConversationStore,
  Embedder,
  KnowledgeIndex,
  Logger,
  NewTurn,
  TurnLog,
} from './ports.js';
import { type TranscriptBundle, verifyTranscript } from './audit/transcript.js';
import { describeTranscript, renderTranscriptText } from './audit/transcript-text.js';
import type { Retriever } from './retrieval/retrieve.js';

export interface HelpdeskDeps {
  conversations: ConversationStore;
  knowledge: KnowledgeIndex;
  embedder: Embedder;
  retriever: Retriever;
  splitPassages: PassageSplitter;
  /** Model answerer; absent in offline mode. */
  answerer: Answerer | undefined;
  /** The verifiable turn log's read side (transcripts, checkpoints); absent: transcripts unavailable. */
  turnLog?: TurnLog;
  logger: Logger;
  settings: { exchangeName: string; answerThreshold: number; maxMessageChars: number };
  /** Official contacts, rate limit, security-event log, admin token (see core/safety). */
  safety?: HelpdeskSafety;
  /** The human queue (the handoff desk): place and wait for a waiting customer; absent: not told. */
  queue?: WaitingQueue;
}

export type CustomerInput = {
  conversationId: string;
  /** What the customer wrote, through the firewall (`Helpdesk.screen`). */
  message?: CustomerMessage;
  action?: CustomerAction;
  /** A pick among the choices of the bot's latest `clarify` turn (entryId null: "None of these"). */
  choice?: CustomerChoice;
  /**
   * Language the customer chose explicitly with the input (the widget's switch): from now on
   * answers are in it. Alone, it is only the choice, confirmed by the bot.
   */
  language?: Language;
  /**
   * A channel's command, read by the channel (Telegram's "/lang zh" as `set_language`), with
   * `message` the command as the customer sent it: recorded as their turn, never searched.
   */
  command?: { kind: 'set_language'; language: Language };
  /** Unique id of the external message, so that a redelivery is a no-op. */
  externalKey?: string;
  /**
   * The conversation and its turns as the caller has just created it (startConversation's result),
   * so that they are not read again: only for a conversation created in the same task.
   */
  created?: { conversation: Conversation; turns: Turn[] };
  /**
   * Where humans must not take the conversation here (a group chat, where everyone reads along):
   * instead of escalating, the bot answers with this text (e.g. a link to a private chat), the
   * conversation stays with the bot, and the outcome is `redirected` with the decision.
   */
  escalateElsewhere?: (decision: EscalationDecision, language: Language) => string;
  /** An escalation decided before (the same customer's group conversation): used for a `human` action instead of the customer's request. */
  escalation?: EscalationDecision;
};

/** What happened to a customer input: answered, escalated (or redirected to where it may be), forwarded to humans, or a duplicate. */
export type CustomerOutcome = {
  outcome: 'answered' | 'clarified' | 'escalated' | 'redirected' | 'forwarded' | 'acknowledged' | 'duplicate';
  conversation: Conversation;
  turns: Turn[];
  /** For `redirected`: the escalation that was not made here. */
  escalation?: EscalationDecision;
};

const RECENT_TURNS = 12;
const MODEL_CONTEXT_ENTRIES = 3;

type Retrieved = Awaited<ReturnType<Retriever['retrieve']>>;

// A follow-up is short: a few words that lean on the previous answer.
const FOLLOW_UP_MAX_HAN = 10;
const FOLLOW_UP_MAX_WORDS = 6;
const isShortFollowUp = (question: string) =>
  (question.match(/\p{Script=Han}/gu)?.length ?? 0) <= FOLLOW_UP_MAX_HAN &&
  question
    .replace(/\p{Script=Han}/gu, ' ')
    .split(/\s+/)
    .filter(Boolean).length <= FOLLOW_UP_MAX_WORDS;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
/** The entries' own links: an answer from them may name them (published by another instance a moment ago too). */
const linksOf = (entries: StoredEntry[]) => entries.flatMap((e) => e.links.map((l) => l.url));

/** The one object adapters talk to. Channel-agnostic: no SDK, no SQL, no environment. */
export function createHelpdesk(deps: HelpdeskDeps) {
  const { conversations, knowledge, retriever, answerer, logger, settings } = deps;
  // One customer input at a time per conversation, in arrival order.
  const perConversation = createKeyedRunner();
  const gate = createSafetyGate({ exchangeName: settings.exchangeName, maxMessageChars: settings.maxMessageChars, safety: deps.safety, logger });
  const firewall = gate.firewall;

  /**
   * Greetings of conversations opened with `greetWithFirstTurn`, not stored yet: the conversation's
   * first append stores its greeting before its turns, in the same transaction (one batch for the
   * greeting, the customer's first message and the reply). Dropped when that input's task ends: a
   * conversation still without turns is greeted again by the next startConversation.
   */
  const pendingGreetings = new Map<string, NewTurn>();

  /** conversations.append, with the conversation's pending greeting first. */
  function append(conversationId: string, turns: NewTurn[], patch?: ConversationPatch, options?: AppendOptions) {
    const greeting = pendingGreetings.get(conversationId);
    if (!greeting) return conversations.append(conversationId, turns, patch, options);
    // Taken whatever the outcome: a conversation left without turns is greeted again by startConversation.
    pendingGreetings.delete(conversationId);
    return conversations.append(conversationId, [greeting, ...turns], patch, options);
  }

  /**
   * Opens the conversation of a channel's customer (or finds it) and greets a new one. `isNew`: it
   * has not been greeted yet. With `greetWithFirstTurn` the greeting is stored with the first turn
   * that follows (the caller goes on with that customer's input) instead of on its own.
   */
  async function startConversation(input: {
    channel: Channel;
    externalId?: string;
    language?: Language;
    /** The name the customer goes by on the channel, as received (screened here). */
    customerHandle?: string | null;
    withToken?: boolean;
    greetWithFirstTurn?: boolean;
  }): Promise<{ conversation: Conversation; token: string | undefined; turns: Turn[]; isNew: boolean }> {
    const token = input.withToken ? randomBytes(32).toString('base64url') : undefined;
    const language = input.language ?? 'en';
    const { conversation, created } = await conversations.open({
      channel: input.channel,
      externalId: input.externalId ?? randomBytes(16).toString('hex'),
      language,
      tokenHash: token ? hashToken(token) : null,
      customerHandle: firewall.screenName(input.customerHandle),
    });
    const greeting = (): NewTurn => ({
      role: 'bot',
      kind: 'greeting',
      text:
        input.channel === 'web'
          ? toWebGreeting(language, settings.exchangeName)
          : [toGreeting(language, settings.exchangeName), gate.officialChannelsLine(language)].filter(Boolean).join('\n'),
      language,
    });
    if (input.greetWithFirstTurn) {
      // Also a conversation whose first append failed (opened, never greeted): greeted now.
      if (!created && conversation.lastSeq > 0) return { conversation, token: undefined, turns: [], isNew: false };
      pendingGreetings.set(conversation.id, greeting());
      return { conversation, token: created ? token : undefined, turns: [], isNew: true };
    }
    if (!created) return { conversation, token: undefined, turns: [], isNew: false };
    const greeted = await conversations.append(conversation.id, [greeting()]);
    return { conversation: greeted.conversation, token, turns: greeted.turns, isNew: true };
  }

  /**
   * Checks a conversation's secret token in constant time; throws on a wrong or missing token.
   * `client`: the caller's address, when the channel knows it, for the record of the refusal.
   */
  async function authorize(conversationId: string, token: string | undefined, client?: string): Promise<Conversation> {
    const conversation = await conversations.find(conversationId);
    if (!conversation) {
      throw new HelpdeskError('conversation_not_found', `conversation ${conversationId} not found`, 'Conversation not found.');
    }
    const stored = await conversations.tokenHash(conversationId);
    const given = Buffer.from(hashToken(token ?? ''), 'hex');
    if (!stored || !token || !timingSafeEqual(Buffer.from(stored, 'hex'), given)) {
      await gate.record({
        type: 'access_denied',
        channel: conversation.channel,
        conversationId,
        detail: { reason: token ? 'wrong_token' : 'missing_token', ...(client ? { client } : {}) },
      });
      throw new HelpdeskError('forbidden', `wrong token for conversation ${conversationId}`, 'Wrong or missing conversation token.');
    }
    return conversation;
  }

  function toTurnData(retrieval: RetrievalResult | undefined): TurnData {
    if (!retrieval) return {};
    return {
      retrieval: {
        embedder: retrieval.embedder,
        confidence: Number(retrieval.confidence.toFixed(4)),
        candidates: retrieval.candidates.map((c) => ({
          entryId: c.entryId,
          topic: c.topic,
          version: c.version,
          score: Number(c.score.toFixed(4)),
        })),
      },
    };
  }

  async function recentAnswerTopics(conversation: Conversation, known?: Turn[]): Promise<{ topics: string[]; history: Turn[] }> {
    const history = known ?? (await conversations.turns(conversation.id, Math.max(0, conversation.lastSeq - RECENT_TURNS)));
    const topics: string[] = [];
    for (const turn of [...history].reverse()) {
      if (turn.role === 'customer' && turn.data.action === 'solved') break;
      if (turn.role === 'bot' && turn.kind === 'answer') {
        const topic = turn.data.citations?.[0] ? turn.data.retrieval?.candidates[0]?.topic : undefined;
        if (topic) topics.push(topic);
      }
      if (turn.kind === 'escalation') break;
    }
    return { topics, history };
  }

  function pickEntry(entries: StoredEntry[], topic: string, language: Language): StoredEntry | undefined {
    const ofTopic = entries.filter((e) => e.topic === topic);
    return ofTopic.find((e) => e.lang === language) ?? ofTopic[0];
  }

  /** An answer from the entries of `topics` (closest first): the model's, else the first entry's text. */
  async function composeAnswer(
    question: string,
    language: Language,
    topics: string[],
    history: Turn[],
  ): Promise<{ text: string; cited: StoredEntry[]; mode: AnswerMode; model?: string; error?: string } | { noAnswer: true }> {
    const topTopics = topics.slice(0, MODEL_CONTEXT_ENTRIES);
    const entries = await knowledge.entriesOfTopics(topTopics);
    const best = pickEntry(entries, topTopics[0] ?? '', language);
    if (!best) return { noAnswer: true };
    const offlineText = best.lang === language ? best.body : `${toOtherLanguageNote(language)}${best.body}`;
    if (!answerer) return { text: offlineText, cited: [best], mode: 'offline' };
    const context = topTopics.map((topic) => pickEntry(entries, topic, language)).filter((e): e is StoredEntry => e !== undefined);
    try {
      const result = await answerer.answer({
        question,
        language,
        entries: context,
        history: history.slice(-6).map((t) => ({ role: t.role, text: t.text })),
      });
      if (result.kind === 'no_answer') return { noAnswer: true };
      const cited = context.filter((e) => result.citedIds.includes(e.id));
      // Model output is untrusted: one that asks for a secret or names an unlisted contact is not sent.
      const review = gate.review(result.text, linksOf(context));
      // Customer text and entries are data: an answer that left them (another language, a persona,
      // an obeyed instruction, a leaked prompt) is not grounded in the entries and is not sent either.
      const drift = checkModelAnswer(result.text, language, [...context.flatMap((e) => [e.title, e.body, ...e.questions])]);
      if (!review.clean || drift) {
        const reason = review.asksForSecret
          ? 'asks_for_secret'
          : review.asksForPayment
            ? 'asks_for_payment'
            : review.unlisted.length > 0
              ? 'unlisted_contact'
              : (drift as string);
        await gate.record({ type: 'outbound_blocked', channel: 'model', detail: { reason, count: review.unlisted.length } });
        return { text: offlineText, cited: [best], mode: 'fallback', error: `outbound guard: ${reason}` };
      }
      return { text: result.text, cited: cited.length > 0 ? cited : [best], mode: 'model', model: answerer.id };
    } catch (error) {
      logger.warn({ err: error }, 'model answer failed; falling back to the offline answer');
      return { text: offlineText, cited: [best], mode: 'fallback', error: String((error as Error)?.message ?? error) };
    }
  }

  async function escalate(
    conversation: Conversation,
    customerTurn: NewTurn,
    decision: EscalationDecision,
    locale: Locale,
    extra: NewTurn[] = [],
    appendOptions?: AppendOptions,
    elsewhere?: CustomerInput['escalateElsewhere'],
  ): Promise<CustomerOutcome> {
    const language = toLanguageOf(locale);
    if (elsewhere) {
      const redirected = await append(
        conversation.id,
        toLocaleTurns([customerTurn, ...extra, { role: 'bot', kind: 'notice', text: elsewhere(decision, language), language }], locale),
        { language },
        appendOptions,
      );
      logger.info({ conversationId: conversation.id, reason: decision.reason }, 'escalation redirected to a private conversation');
      return {
        outcome: redirected.duplicate ? 'duplicate' : 'redirected',
        conversation: redirected.conversation,
        turns: redirected.turns,
        escalation: decision,
      };
    }
    const result = await append(
      conversation.id,
      toLocaleTurns(
        [
          customerTurn,
          ...extra,
          {
            role: 'system',
            kind: 'escalation',
            text: toEscalationNotice(language, decision.reason, decision.priority),
            language,
            escalation: decision,
          },
        ],
        locale,
      ),
      { state: 'escalated', priority: decision.priority, escalationReason: decision.reason, language },
      appendOptions,
    );
    logger.info({ conversationId: conversation.id, reason: decision.reason, priority: decision.priority }, 'conversation escalated');
    return { outcome: result.duplicate ? 'duplicate' : 'escalated', conversation: result.conversation, turns: result.turns };
  }

  const toLocaleTurns = (turns: NewTurn[], locale: Locale) => turns.map((t) => toLocaleTurn(t, locale));

  /**
   * A question retrieval is unsure of, read as a follow-up of the question the bot just answered.
   * The reading is taken only when it is confident and stays on the answered topic or among the
   * question's own closest topics: a new question never gets the previous answer by association.
   */
  async function inContextOf(recent: Turn[], question: string, alone: Retrieved): Promise<Retrieved> {
    const followUp = toFollowUpQuery(recent, question);
    if (!followUp) return alone;
    const inContext = await retriever.retrieve(followUp.query);
    const topic = inContext.candidates[0]?.topic;
    if (inContext.confidence < settings.answerThreshold || topic === undefined) return alone;
    // A confident reading of its own is left only for the topic just answered: the customer is
    // still on it ("要多久能审核完" after the lost-2FA answer is about that review).
    if (alone.confidence >= settings.answerThreshold) return topic === followUp.answeredTopic ? inContext : alone;
    const related = topic === followUp.answeredTopic || alone.candidates.slice(0, MAX_CHOICES).some((c) => c.topic === topic);
    return related ? inContext : alone;
  }

  /**
   * The conversation, its recent turns and whether the input was stored before: what the caller
   * just created, else one read where the store offers it, else the reads apart.
   */
  async function readContext(
    input: CustomerInput,
  ): Promise<{ conversation: Conversation | undefined; recent?: Turn[]; keysChecked: boolean; keysSeen?: boolean }> {
    if (input.created && input.created.conversation.id === input.conversationId) {
      const { conversation, turns } = input.created;
      // A conversation created in this task holds no turn of this input yet.
      return { conversation, recent: turns.filter((t) => t.seq > Math.max(0, conversation.lastSeq - RECENT_TURNS)), keysChecked: true };
    }
    if (conversations.context) {
      const context = await conversations.context(input.conversationId, RECENT_TURNS, input.externalKey ? [input.externalKey] : []);
      return {
        conversation: context?.conversation,
        recent: context?.recentTurns,
        keysChecked: context !== undefined && !context.keysSeen,
        keysSeen: context?.keysSeen === true,
      };
    }
    return { conversation: await conversations.find(input.conversationId), keysChecked: false };
  }

  /**
   * The firewall's second look at a customer message, with the customer's previous message as
   * stored (screened): a phrase split over the two is removed from this one.
   */
  function continueFromPrevious(message: CustomerMessage | undefined, recent: Turn[]): CustomerMessage {
    const last = [...recent].reverse().find((t) => t.role === 'customer');
    const previous = last && (last.kind === 'message' || last.kind === 'edit' || last.kind === 'attachment') ? last.text : undefined;
    return firewall.continueFrom(message ?? firewall.screen({}), previous);
  }

  /**
   * One customer input: its context read (a repeat answered with what was stored the first time),
   * then decided (decideInput; a search or a pick among choices decided with what they read), then
   * applied (applyStep): every outcome is appended in one place.
   */
  async function handle(input: CustomerInput): Promise<CustomerOutcome> {
    const context = await readContext(input);
    const conversation = context.conversation;
    if (!conversation) {
      throw new HelpdeskError('conversation_not_found', `conversation ${input.conversationId} not found`, 'Conversation not found.');
    }
    // A repeat (a retried request, an update handled again after a crash) gets what was stored the
    // first time, before anything counts it again (rate limit, security events, model calls).
    if (input.externalKey && context.keysSeen && conversations.repeatOf) {
      const original = await conversations.repeatOf(input.externalKey);
      if (original?.conversation.id === conversation.id) return { outcome: 'duplicate', conversation: original.conversation, turns: original.turns };
    }
    const appendOptions: AppendOptions | undefined = context.keysChecked ? { keysChecked: true } : undefined;
    await gate.enforceRateLimit(`${conversation.channel}:${conversation.externalId}`, conversation.id, conversation.channel, conversation.language);
    const recent = context.recent ?? (await conversations.turns(conversation.id, Math.max(0, conversation.lastSeq - RECENT_TURNS)));
    // The secret firewall ran when the message was made (Helpdesk.screen); nothing below (store,
    // log, retrieval, model, agents) sees more than its screened text.
    const message = continueFromPrevious(input.message, recent);
    const text = message.text;
    // What the customer wrote besides the secrets: the markers are the firewall's words, not theirs.
    const question = withoutMarkers(text);
    // The input is itself the request to switch: a channel's command, or words that ask for it
    // ("English please", "说中文"). The widget's switch comes as `language`, alone or with a message.
    const switchOnly = input.command?.kind === 'set_language' || (text !== '' && !input.action && detectLanguageSwitch(text) !== undefined);
    const switched = input.command?.language ?? input.language ?? (text ? detectLanguageSwitch(text) : undefined);
    const detected = question ? detectLanguage(question) : undefined;
    // An explicit choice sticks; otherwise the bot follows the language the customer writes in.
    const language: Language = switched ?? (conversation.languageChosen ? conversation.language : (detected ?? conversation.language));
    // How a Chinese reply is written (Simplified or Traditional): what the customer writes, remembered.
    const locale: Locale = decideLocale(language, question, recent);
    const notices = gate.toNotices(message.screening, language);
    await gate.recordScreening(message.screening, conversation.id, conversation.channel);
    const base = { role: 'customer' as const, language, externalKey: input.externalKey };
    const customerTurn: NewTurn = input.action
      ? { ...base, kind: 'action', text: firewall.screen({ text: toActionText(language, input.action) }).text, data: { action: input.action } }
      : { ...base, kind: 'message', text, ...(message.attachments.length > 0 ? { data: { attachments: [...message.attachments] } } : {}) };
    const asked = text && !input.action ? gate.toChannelQuestion(text) : undefined;

    let step = decideInput({
      state: conversation.state,
      text,
      question,
      action: input.action,
      choice: input.choice,
      switched,
      switchOnly,
      language,
      locale,
      customerTurn,
      notices,
      recent,
      asksForHuman: question !== '' && asksForHuman(question),
      channelCheckReply: asked ? gate.checkChannel(asked, language)?.reply : undefined,
      externalKey: input.externalKey,
      exchangeName: settings.exchangeName,
    });
    if (step.kind === 'choice') step = await decideChoice(conversation, step.choice, recent, language, input.externalKey);
    if (step.kind === 'search')
      step = await decideSearch(conversation, step, { question, text, action: input.action, escalation: input.escalation, message, recent, language, notices });
    return applyStep(step, { conversation, language, locale, appendOptions, elsewhere: input.escalateElsewhere });
  }

  /** Carries out what was decided for an input: the one place its turns are appended and its outcome made. */
  async function applyStep(
    step: InputStep,
    at: {
      conversation: Conversation;
      language: Language;
      locale: Locale;
      appendOptions: AppendOptions | undefined;
      elsewhere: CustomerInput['escalateElsewhere'];
    },
  ): Promise<CustomerOutcome> {
    const { conversation, language, locale, appendOptions } = at;
    const reply = async (turns: NewTurn[], outcome: CustomerOutcome['outcome'], patch?: ConversationPatch): Promise<CustomerOutcome> => {
      const result = await append(conversation.id, toLocaleTurns(turns, locale), patch, appendOptions);
      return { outcome: result.duplicate ? 'duplicate' : outcome, conversation: result.conversation, turns: result.turns };
    };
    switch (step.kind) {
      case 'empty':
        throw new HelpdeskError('invalid_input', 'empty customer input', toEmptyMessageReply(language));
      case 'escalate':
        return escalate(conversation, step.turn, step.decision, locale, step.extra, appendOptions, at.elsewhere);
      case 'acknowledge_waiting': {
        const status = await deps.queue?.status(conversation.id, language).catch((error: unknown) => {
          logger.warn({ err: error, conversationId: conversation.id }, 'queue status unavailable');
          return undefined;
        });
        const ack: NewTurn = {
          role: 'bot',
          kind: 'notice',
          text: toWaitingText(language, step.waiting, status),
          language,
          data: { waiting: step.waiting, actions: [toAskBotAction(language)] },
        };
        return reply([...step.turns, ack], 'forwarded', step.patch);
      }
      case 'reply':
        if (step.withdraw) await deps.queue?.withdraw(conversation.id);
        return reply(step.turns, step.outcome, step.patch);
      case 'choice':
      case 'search':
        throw new Error(`a ${step.kind} step is decided further before it is applied`);
    }
  }

  /**
   * A question for the knowledge base: searched (in the context of the previous answer when unsure),
   * then answered, clarified with the closest entries, or escalated (decideEscalation).
   */
  async function decideSearch(
    conversation: Conversation,
    search: Extract<InputStep, { kind: 'search' }>,
    f: {
      question: string;
      text: string;
      action: CustomerAction | undefined;
      escalation: EscalationDecision | undefined;
      message: CustomerMessage;
      recent: Turn[];
      language: Language;
      notices: NewTurn[];
    },
  ): Promise<InputStep> {
    const { question, recent, language, notices } = f;
    const withNotices = (turns: NewTurn[]): NewTurn[] => [...turns.slice(0, 1), ...notices, ...turns.slice(1)];
    let retrieval: Retrieved | undefined;
    let failed = false;
    if (question) {
      try {
        const corrected = toCorrectedQuery(recent, question);
        if (corrected) {
          const exclude = corrected.takenBackTopic ? new Set([corrected.takenBackTopic]) : undefined;
          retrieval = await retriever.retrieve(corrected.query, undefined, exclude ? { exclude } : undefined);
        } else {
          retrieval = await retriever.retrieve(question);
          if (retrieval.confidence < settings.answerThreshold || isShortFollowUp(question)) retrieval = await inContextOf(recent, question, retrieval);
        }
      } catch (error) {
        failed = true;
        logger.error({ err: error, conversationId: conversation.id }, 'retrieval failed');
      }
    }
    const { topics, history } = await recentAnswerTopics(conversation, recent);
    const decided = decideEscalation({
      text: question,
      action: f.action,
      confidence: retrieval?.confidence,
      threshold: settings.answerThreshold,
      topTopic: retrieval?.candidates[0]?.topic,
      recentAnswerTopics: topics,
      failed,
    });
    const decision = f.action === 'human' && f.escalation ? f.escalation : decided;
    const recorded: NewTurn = { ...search.turn, data: { ...search.turn.data, ...toTurnData(retrieval) } };
    // Not sure: the first miss offers the closest entries; the second in a row goes to a human.
    // A customer who pasted a recovery phrase or private key and is not answered needs a person to
    // follow up (the secret is removed, but the customer may be acting on a scammer's request).
    const exposedKeys = f.message.screening.secretTypes.some((type) => type === 'recovery_phrase' || type === 'private_key');
    const clarifyOrEscalate = async (miss: EscalationDecision): Promise<InputStep> => {
      if (retrieval && !exposedKeys && !followsUnansweredClarify(recent)) {
        const closest = retrieval.candidates.slice(0, MAX_CHOICES);
        const choices = toChoices(closest, await knowledge.entriesOfTopics(closest.map((c) => c.topic)), language);
        if (choices.length > 0) {
          const clarify: NewTurn = {
            role: 'bot',
            kind: 'clarify',
            text: toClarifyText(language),
            language,
            data: { choices, noneLabel: toNoneLabel(language) },
          };
          return { kind: 'reply', turns: withNotices([recorded, clarify]), outcome: 'clarified', patch: search.patch };
        }
      }
      return { kind: 'escalate', turn: recorded, decision: miss, extra: notices };
    };
    if (decision) {
      if (decision.reason === 'low_confidence') return clarifyOrEscalate(decision);
      // For an urgent case the bot still gives the immediate steps when it has a confident match.
      const extra: NewTurn[] = [];
      if ((decision.reason === 'sensitive_topic' || decision.reason === 'scam_report') && retrieval && retrieval.confidence >= settings.answerThreshold) {
        const answer = await composeAnswer(
          f.text,
          language,
          retrieval.candidates.map((c) => c.topic),
          history,
        );
        if (!('noAnswer' in answer)) extra.push(toAnswerTurn(answer, language, retrieval, false));
      }
      return { kind: 'escalate', turn: recorded, decision, extra: [...notices, ...extra] };
    }
    if (!retrieval) throw new HelpdeskError('storage_failure', 'no retrieval result without escalation');
    const answer = await composeAnswer(
      f.text,
      language,
      retrieval.candidates.map((c) => c.topic),
      history,
    );
    if ('noAnswer' in answer) {
      return clarifyOrEscalate({ reason: 'low_confidence', priority: 'normal', detail: 'the model found no answer in the retrieved entries' });
    }
    return { kind: 'reply', turns: withNotices([recorded, toAnswerTurn(answer, language, retrieval, true)]), outcome: 'answered', patch: search.patch };
  }

  /**
   * A pick among the offered choices: that entry's answer to the question asked, or ("None of
   * these") a human. The pick is recorded with the entry and the question it answers. A pick no
   * open `clarify` offers (an old keyboard, a forged button) gets a polite reply.
   */
  async function decideChoice(
    conversation: Conversation,
    picked: CustomerChoice,
    recent: Turn[],
    language: Language,
    externalKey: string | undefined,
  ): Promise<InputStep> {
    const offered = conversation.state === 'escalated' ? undefined : findOfferedChoice(recent, picked.entryId);
    const patch: ConversationPatch = { language };
    if (!offered) {
      return {
        kind: 'reply',
        turns: [{ role: 'bot', kind: 'notice', text: toUnknownChoiceReply(language), language, externalKey }],
        outcome: 'acknowledged',
        patch,
      };
    }
    const title = offered.choice?.title ?? offered.clarify.data.noneLabel ?? toNoneLabel(language);
    const chosen: NewTurn = {
      role: 'customer',
      kind: 'choice',
      text: firewall.screen({ text: title }).text,
      language,
      externalKey,
      data: { choice: { entryId: offered.choice?.entryId ?? null, questionSeq: offered.question?.seq ?? null } },
    };
    if (!offered.choice) {
      return {
        kind: 'escalate',
        turn: chosen,
        decision: { reason: 'low_confidence', priority: 'normal', detail: 'none of the offered entries fits' },
        extra: [],
      };
    }
    const question = offered.question?.text ?? offered.choice.title;
    const answer = await composeAnswer(question, language, [offered.choice.topic], recent);
    if ('noAnswer' in answer) {
      return {
        kind: 'escalate',
        turn: chosen,
        decision: { reason: 'low_confidence', priority: 'normal', detail: 'the chosen entry is no longer available' },
        extra: [],
      };
    }
    return { kind: 'reply', turns: [chosen, toAnswerTurn(answer, language, undefined, true)], outcome: 'answered', patch };
  }

  function toAnswerTurn(
    answer: { text: string; cited: StoredEntry[]; mode: AnswerMode; model?: string; error?: string },
    language: Language,
    retrieval: RetrievalResult | undefined,
    withActions: boolean,
  ): NewTurn {
    const data: TurnData = {
      ...toTurnData(retrieval),
      citations: answer.cited.map((e) => ({ id: e.id, title: e.title, version: e.version, ...(e.links[0] ? { url: e.links[0].url } : {}) })),
      ...(withActions ? { actions: toActions(language) } : {}),
      ...(answer.model ? { model: answer.model } : {}),
      ...(answer.error ? { error: answer.error } : {}),
    };
    // Last line of defence: an unlisted contact never leaves, whatever produced the text.
    return { role: 'bot', kind: 'answer', text: gate.review(answer.text, linksOf(answer.cited)).text, language, data, answerMode: answer.mode };
  }

  /**
   * Plays a question through this helpdesk as a new web customer would ask it, recording nothing:
   * the same knowledge, retrieval, answerer, safety checks and policy (this function, built again
   * over conversations kept in memory, without rate limit or security events). `language`: as if
   * the customer had chosen it; else it is detected, as for a customer.
   */
  async function hitTest(text: string, options: { language?: Language } = {}): Promise<HitTestResult> {
    const store = createMemoryConversationStore();
    const dry = createHelpdesk({
      ...deps,
      conversations: store,
      turnLog: undefined,
      logger: toDryRunLogger(logger),
      safety: { allowlist: gate.allowlist, rateLimit: { limit: Number.MAX_SAFE_INTEGER, windowMs: 1 }, events: createMemorySecurityEventLog() },
    });
    const { conversation } = await dry.startConversation({ channel: 'web', language: options.language });
    try {
      const outcome = await dry.handleCustomerInput({
        conversationId: conversation.id,
        message: dry.screen({ text }),
        ...(options.language ? { language: options.language } : {}),
      });
      return toHitTestResult(outcome.turns, settings.answerThreshold);
    } finally {
      store.forget(conversation.id);
    }
  }

  return {
    startConversation,
    authorize,
    hitTest,
    /** The links the knowledge base cites (mentionable, not "official"), after a change made elsewhere than syncKnowledge. */
    setKnowledgeLinks(urls: string[]): void {
      gate.setKnowledgeLinks(urls);
    },
    /** Handles one customer message or button press; messages of one conversation run in order. */
    handleCustomerInput(input: CustomerInput): Promise<CustomerOutcome> {
      // Overlong messages are not refused: the firewall truncates them and tells the customer.
      return perConversation.run(input.conversationId, () => handle(input).finally(() => pendingGreetings.delete(input.conversationId)));
    },
    turns(conversationId: string, afterSeq: number, limit?: number): Promise<Turn[]> {
      return conversations.turns(conversationId, afterSeq, limit);
    },
    /**
     * The customer's verifiable transcript (JSON bundle) and a readable rendering of what it proves,
     * in `language`. The rendering is the server's own message, not part of the bundle: a reader
     * of the file gets the same text from the verifier. Channels check who asks (the web token,
     * the Telegram chat) before calling this.
     */
    async transcript(conversationId: string, language: Language): Promise<{ bundle: TranscriptBundle; readable: string }> {
      if (!deps.turnLog) {
        throw new HelpdeskError('storage_failure', 'no turn log configured', 'Transcripts are not available here.');
      }
      const bundle = await deps.turnLog.transcript(conversationId);
      const report = await verifyTranscript(bundle, { key: deps.turnLog.publicKey, origin: deps.turnLog.origin });
      // A bundle that fails its own check means the log is damaged: hand it out anyway (it is the
      // customer's evidence) and raise the alarm.
      if (!report.ok) logger.error({ conversationId, problems: report.problems }, 'transcript failed verification');
      return { bundle, readable: renderTranscriptText(describeTranscript(report, language, { audience: 'customer' })) };
    },
    /** The turn log's latest signed checkpoint and public key, for publication. */
    turnLog: deps.turnLog
      ? { origin: deps.turnLog.origin, publicKey: deps.turnLog.publicKey, latestCheckpoint: () => (deps.turnLog as TurnLog).latestCheckpoint() }
      : undefined,
    listEscalated(): Promise<Conversation[]> {
      return conversations.listByState('escalated');
    },
    /** Conversations in a state, for admins; call authorizeAdmin first. */
    listConversations(state: Conversation['state']): Promise<Conversation[]> {
      return conversations.listByState(state);
    },
    /** Admin endpoints and commands: throws `forbidden` (and records the denial) without the admin token. */
    authorizeAdmin: gate.authorizeAdmin,
    /** Records a denial seen by an adapter (e.g. a Slack action from another channel). */
    recordSecurityEvent: gate.record,
    /** The security events; refusals counted in the current window are written before a listing. */
    securityEvents: gate.events,
    /** Writes the refusals counted so far (at shutdown). */
    flushSecurityEvents: () => gate.events.flush(),
    /** "Is this handle / link / address / number official?" with the reply to show, in the language given. */
    checkOfficialChannel(input: string, language: Language) {
      return gate.checkChannel(input, language);
    },
    /** The line naming the official channels (for /start, the widget). Empty without an allowlist. */
    officialChannelsLine(language: Language): string {
      return gate.officialChannelsLine(language);
    },
    /** The allowlist in force (configuration plus knowledge-base links), if configured. */
    officialAllowlist() {
      return gate.allowlist;
    },
    /**
     * Reviews an agent's (or any outgoing) message before it reaches a customer: `clean` false when
     * it asks for a secret, demands a payment or names an unlisted contact; the block is recorded.
     */
    async reviewOutbound(text: string, context: { channel: string; conversationId?: string }) {
      const review = gate.review(text);
      if (!review.clean) {
        const reasons = blockReasons(review);
        await gate.record({
          type: 'outbound_blocked',
          channel: context.channel,
          conversationId: context.conversationId ?? null,
          detail: { reason: reasons[0], ...(reasons.length > 1 ? { reasons } : {}), count: review.unlisted.length },
        });
      }
      return review;
    },
    /**
     * The inbound secret firewall: the only way to make the CustomerMessage that handleCustomerInput
     * and recordCustomerTurn take. Every text-bearing field a channel receives goes in here first.
     */
    screen(raw: RawCustomerMessage): CustomerMessage {
      return firewall.screen(raw);
    },
    /** A CustomerMessage a channel kept as JSON (e.g. in its inbox), screened again; undefined if malformed. */
    reviveMessage(stored: unknown): CustomerMessage | undefined {
      return firewall.revive(stored);
    },
    /** A name or handle the customer chose, screened (for what a channel keeps before the conversation exists). */
    screenName(raw: string | null | undefined) {
      return firewall.screenName(raw);
    },
    /**
     * Records a customer turn the bot does not answer from the knowledge base (a screenshot, an
     * edited message, a channel command) and, when given, the bot's fixed reply to it. The
     * conversation's state is unchanged: with humans, agents see it like any message.
     */
    recordCustomerTurn(input: {
      conversationId: string;
      kind: 'message' | 'attachment' | 'edit';
      /** What the customer sent, through the firewall; its files are recorded with the turn. */
      message: CustomerMessage;
      /** The customer message this one edits. */
      editOf?: TurnData['editOf'];
      /** The message is a contact for the answer (an e-mail address left while no agent is on duty). */
      contact?: TurnData['contact'];
      language?: Language;
      reply?: string;
      externalKey?: string;
    }): Promise<CustomerOutcome> {
      return perConversation.run(input.conversationId, () => recordTurn().finally(() => pendingGreetings.delete(input.conversationId)));
      async function recordTurn(): Promise<CustomerOutcome> {
        const conversation = await conversations.find(input.conversationId);
        if (!conversation) {
          throw new HelpdeskError('conversation_not_found', `conversation ${input.conversationId} not found`, 'Conversation not found.');
        }
        const language = input.language ?? conversation.language;
        const recent = await conversations.turns(conversation.id, Math.max(0, conversation.lastSeq - RECENT_TURNS));
        const message = continueFromPrevious(input.message, recent);
        await gate.recordScreening(message.screening, conversation.id, conversation.channel);
        const data: TurnData = {
          ...(message.attachments.length > 0 ? { attachments: [...message.attachments] } : {}),
          ...(input.editOf ? { editOf: input.editOf } : {}),
          ...(input.contact ? { contact: input.contact } : {}),
        };
        const result = await append(conversation.id, [
          { role: 'customer', kind: input.kind, text: message.text, language, data, externalKey: input.externalKey },
          ...gate.toNotices(message.screening, language),
          ...(input.reply ? [{ role: 'bot' as const, kind: 'notice' as const, text: input.reply, language }] : []),
        ]);
        return { outcome: result.duplicate ? 'duplicate' : 'acknowledged', conversation: result.conversation, turns: result.turns };
      }
    },
    /** Validates the knowledge files and syncs the valid entries; problems are returned, not thrown. */
    async syncKnowledge(files: RawKnowledgeFile[]): Promise<SyncReport & { problems: KnowledgeProblem[] }> {
      // An entry naming a contact that is not official (nor one of the knowledge base's links) is skipped.
      const allowlist = gate.allowlist;
      if (allowlist) {
        const checked = rejectUnlistedContacts(files, allowlist);
        for (const r of checked.rejected) {
          await gate.record({ type: 'knowledge_contact_rejected', channel: 'knowledge', detail: { reason: r.source, count: r.contacts.length } });
        }
        files = checked.files;
        gate.setKnowledgeLinks(toKnowledgeLinks(files));
      }
      const report = await syncKnowledgeFiles(files, {
        index: knowledge,
        embedder: deps.embedder,
        splitPassages: deps.splitPassages,
      });
      for (const problem of report.problems) logger.warn(problem, 'knowledge entry skipped');
      return report;
    },
  };
}

export type Helpdesk = ReturnType<typeof createHelpdesk>;
