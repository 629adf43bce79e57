import { readKnowledgeFiles } from '../adapters/knowledge-files/read-knowledge-files.js';
import { createLocalEmbedder } from '../adapters/local/local-embedder.js';
import { createPassageSplitter } from '../adapters/local/passage-splitter.js';
import { openDatabase } from '../adapters/postgres/db/database.js';
import { createPgConversationStore } from '../adapters/postgres/stores/conversation/pg-conversation-store.js';
import { createPgKnowledgeIndex } from '../adapters/postgres/knowledge-index/pg-knowledge-index.js';
import {
  classifyDialogueAct,
  type Conversation,
  createHelpdesk,
  createRetriever,
  type CustomerInput,
  type DialogueAct,
  type HelpdeskSafety,
  toLanguageOf,
  toTopic,
  type Turn,
  validateEntries,
} from '../core/index.js';
import {
  type CustomerMove,
  type Expectation,
  type ExpectationKind,
  type OfferedChoice,
  type ScriptedConversation,
  scoreTurn,
  toExpectationKind,
  toOfferedChoices,
} from './conversation-set.js';

export interface PlayedTurn {
  conversation: string;
  /** 1-based position among the conversation's customer turns. */
  turn: number;
  locale: ScriptedConversation['locale'];
  kind: ExpectationKind;
  customer: CustomerMove;
  expect: Expectation;
  correct: boolean;
  got: string;
}

export interface Tally {
  turns: number;
  correct: number;
  accuracy: number;
}

export interface ConversationFigures {
  conversations: number;
  turns: number;
  correct: number;
  accuracy: number;
  byKind: Partial<Record<ExpectationKind, Tally>>;
  byLocale: Partial<Record<ScriptedConversation['locale'], Tally>>;
  /** Conversations with every customer turn right. */
  conversationsAllRight: number;
  /** Share of conversations the bot finished without a human (never escalated). */
  deflection: number;
  /** The same share as the set expects it (conversations expecting no escalation). */
  expectedDeflection: number;
  /**
   * The dialogue-act classifier alone on the set's typed turns (small talk expects its act, answer,
   * clarify and escalate turns expect `question`; turns sent while with humans are left out).
   */
  dialogueActs: Tally & { wrong: Array<{ text: string; expected: DialogueAct; got: DialogueAct }> };
}

const tally = (items: Array<{ correct: boolean }>): Tally => {
  const correct = items.filter((i) => i.correct).length;
  return { turns: items.length, correct, accuracy: items.length === 0 ? 0 : correct / items.length };
};

function groupTally<K extends string>(turns: PlayedTurn[], key: (t: PlayedTurn) => K): Partial<Record<K, Tally>> {
  const groups = new Map<K, PlayedTurn[]>();
  for (const t of turns) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  return Object.fromEntries([...groups].map(([k, items]) => [k, tally(items)])) as Partial<Record<K, Tally>>;
}

/**
 * The input that picks an offered choice, or "None of these" (null). The helpdesk's contract for
 * clarifying turns: a bot turn of kind `clarify` lists `data.choices` [{entryId, title}], and the
 * customer answers with `choice: {entryId}` (`entryId: null` for "None of these").
 */
function toChoiceInput(conversationId: string, choice: OfferedChoice | null): CustomerInput {
  return { conversationId, choice: { entryId: choice?.entryId ?? null } };
}

/**
 * Plays scripted conversations through the real helpdesk, offline (local embedder, no model), on a
 * fresh in-memory PGlite database with the given knowledge folder synced, and scores every customer
 * turn against its expectation on the conversation as it really went.
 */
export async function playConversations(options: {
  conversations: ScriptedConversation[];
  knowledgeDir: string;
  settings: { exchangeName: string; answerThreshold: number; maxMessageChars: number };
  safety?: Omit<HelpdeskSafety, 'events'>;
}): Promise<{ figures: ConversationFigures; turns: PlayedTurn[] }> {
  const database = await openDatabase({ dataDir: 'memory://' });
  try {
    await database.migrate();
    const embedder = createLocalEmbedder();
    const knowledge = createPgKnowledgeIndex(database);
    const helpdesk = createHelpdesk({
      conversations: createPgConversationStore(database),
      knowledge,
      embedder,
      retriever: createRetriever({ index: knowledge, embedder }),
      splitPassages: createPassageSplitter(),
      answerer: undefined,
      logger: { info() {}, warn() {}, error() {}, debug() {} },
      settings: options.settings,
      ...(options.safety ? { safety: options.safety } : {}),
    });
    const files = await readKnowledgeFiles(options.knowledgeDir);
    const report = await helpdesk.syncKnowledge(files);
    if (report.problems.length > 0) {
      throw new Error(`knowledge base: ${report.problems.map((p) => `${p.source}: ${p.reason}`).join('; ')}`);
    }
    const topics = new Map(validateEntries(files).entries.map((e) => [e.id, toTopic(e)]));
    const topicOf = (id: string) => topics.get(id);

    const played: PlayedTurn[] = [];
    const escalatedConversations = new Set<string>();
    for (const script of options.conversations) {
      const started = await helpdesk.startConversation({
        channel: script.channel,
        language: toLanguageOf(script.locale),
        withToken: script.channel === 'web',
      });
      let conversation: Conversation = started.conversation;
      let offered: OfferedChoice[] = [];
      for (const [i, step] of script.turns.entries()) {
        const escalatedBefore = conversation.state === 'escalated';
        const record = (correct: boolean, got: string) =>
          played.push({
            conversation: script.id,
            turn: i + 1,
            locale: script.locale,
            kind: toExpectationKind(step.customer, step.expect),
            customer: step.customer,
            expect: step.expect,
            correct,
            got,
          });
        let input: CustomerInput;
        if (typeof step.customer === 'string') input = { conversationId: conversation.id, message: helpdesk.screen({ text: step.customer }) };
        else if ('action' in step.customer) input = { conversationId: conversation.id, action: step.customer.action };
        else {
          const wanted = step.customer.choose;
          const choice = wanted === null ? null : offered.find((c) => c.entryId === wanted || topicOf(c.entryId) === topicOf(wanted));
          if (offered.length === 0 || choice === undefined) {
            record(false, offered.length === 0 ? 'no choices were offered' : `not offered: ${wanted}`);
            continue;
          }
          input = toChoiceInput(conversation.id, choice);
        }
        let turns: Turn[];
        try {
          const outcome = await helpdesk.handleCustomerInput(input);
          conversation = outcome.conversation;
          turns = outcome.turns;
        } catch (error) {
          record(false, `error: ${(error as Error).message}`);
          continue;
        }
        if (turns.some((t) => t.kind === 'escalation')) escalatedConversations.add(script.id);
        offered = turns.flatMap(toOfferedChoices);
        const verdict = scoreTurn({ expect: step.expect, escalatedBefore, turns, topicOf });
        record(verdict.correct, verdict.got);
      }
    }
    return { figures: toConversationFigures(options.conversations, played, escalatedConversations), turns: played };
  } finally {
    await database.close();
  }
}

function toConversationFigures(conversations: ScriptedConversation[], played: PlayedTurn[], escalated: Set<string>): ConversationFigures {
  const overall = tally(played);
  const allRight = conversations.filter((c) => played.filter((t) => t.conversation === c.id).every((t) => t.correct)).length;
  const expectsNoHuman = conversations.filter((c) => c.turns.every((t) => !('escalate' in t.expect))).length;
  const acts: Array<{ text: string; expected: DialogueAct; got: DialogueAct; correct: boolean }> = [];
  for (const c of conversations) {
    for (const t of c.turns) {
      if (typeof t.customer !== 'string' || 'forward' in t.expect) continue;
      const expected: DialogueAct = 'smallTalk' in t.expect ? t.expect.smallTalk : 'question';
      const got = classifyDialogueAct(t.customer);
      acts.push({ text: t.customer, expected, got, correct: got === expected });
    }
  }
  return {
    conversations: conversations.length,
    ...overall,
    byKind: groupTally(played, (t) => t.kind),
    byLocale: groupTally(played, (t) => t.locale),
    conversationsAllRight: allRight,
    deflection: conversations.length === 0 ? 0 : (conversations.length - escalated.size) / conversations.length,
    expectedDeflection: conversations.length === 0 ? 0 : expectsNoHuman / conversations.length,
    dialogueActs: { ...tally(acts), wrong: acts.filter((a) => !a.correct).map(({ text, expected, got }) => ({ text, expected, got })) },
  };
}
