import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DIALOGUE_ACTS, type SmallTalkAct, type Turn } from '../core/index.js';

/**
 * Escalation reason codes a conversation set may expect. `scam_report` ("support asked me for my
 * recovery words") is the safety work's reason; until the helpdesk has it such turns score wrong.
 */
export const EXPECTED_REASONS = [
  'customer_requested_human',
  'low_confidence',
  'sensitive_topic',
  'customer_unsatisfied',
  'model_failure',
  'repeated_failure',
  'scam_report',
  'repeated_abuse',
] as const;

const SMALL_TALK_ACTS = DIALOGUE_ACTS.filter((a) => a !== 'question') as [SmallTalkAct, ...SmallTalkAct[]];
const entryIds = z.array(z.string().min(1)).min(1);

/** What the bot should do with one customer turn. */
const expectationSchema = z.union([
  /** A short reply of its own to small talk (no search, no handoff), recording the act. */
  z.object({ smallTalk: z.enum(SMALL_TALK_ACTS) }).strict(),
  /** An answer citing one of these entries (an entry's translation counts as the entry). */
  z.object({ answer: entryIds }).strict(),
  /** Not sure: the bot offers choices; when entries are named, one of them is among the choices. */
  z.object({ clarify: z.array(z.string().min(1)) }).strict(),
  /** A handoff to a human with one of these reasons. */
  z.object({ escalate: z.array(z.enum(EXPECTED_REASONS)).min(1) }).strict(),
  /** Already with humans: the message reaches the agents; the bot neither answers nor escalates again. */
  z.object({ forward: z.literal(true) }).strict(),
]);

/** What the customer does: writes a message, presses a button, or picks an offered choice. */
const customerSchema = z.union([
  z.string().min(1),
  z.object({ action: z.enum(['solved', 'human']) }).strict(),
  /** Picks the offered choice of this entry (or its translation); null: "None of these". */
  z.object({ choose: z.string().min(1).nullable() }).strict(),
]);

const conversationSchema = z
  .object({
    id: z.string().min(1),
    locale: z.enum(['zh-Hans', 'zh-Hant', 'en']),
    channel: z.enum(['web', 'telegram']).default('web'),
    /** Free labels for reading results by theme (e.g. "scam", "typo", "mixed"). */
    tags: z.array(z.string()).default([]),
    turns: z.array(z.object({ customer: customerSchema, expect: expectationSchema, note: z.string().optional() }).strict()).min(1),
  })
  .strict();

export type Expectation = z.infer<typeof expectationSchema>;
export type CustomerMove = z.infer<typeof customerSchema>;
export type ScriptedConversation = z.infer<typeof conversationSchema>;
export type ExpectationKind = 'smallTalk' | 'answer' | 'clarify' | 'escalate' | 'forward' | 'choice';

/** The kind a turn is counted under: a pick among offered choices is a `choice` turn whatever it expects. */
export function toExpectationKind(customer: CustomerMove, expect: Expectation): ExpectationKind {
  if (typeof customer === 'object' && 'choose' in customer) return 'choice';
  return Object.keys(expect)[0] as ExpectationKind;
}

/**
 * Reads a conversation set (one conversation per line, JSON). Every entry id it names must be an
 * entry of the knowledge base (`entryIds`); conversation ids are unique. Errors name file and line.
 */
export async function readConversationSet(path: string, knownEntryIds: Set<string>): Promise<ScriptedConversation[]> {
  const conversations: ScriptedConversation[] = [];
  const ids = new Set<string>();
  for (const [i, line] of (await readFile(path, 'utf8')).split('\n').entries()) {
    if (!line.trim()) continue;
    const where = `${path}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`${where}: not valid JSON`);
    }
    const parsed = conversationSchema.safeParse(value);
    if (!parsed.success) throw new Error(`${where}: ${parsed.error.issues.map((x) => `${x.path.join('.')} ${x.message}`).join('; ')}`);
    const conversation = parsed.data;
    if (ids.has(conversation.id)) throw new Error(`${where}: conversation id "${conversation.id}" is used twice`);
    ids.add(conversation.id);
    for (const [t, turn] of conversation.turns.entries()) {
      const named = [
        ...('answer' in turn.expect ? turn.expect.answer : []),
        ...('clarify' in turn.expect ? turn.expect.clarify : []),
        ...(typeof turn.customer === 'object' && 'choose' in turn.customer && turn.customer.choose !== null ? [turn.customer.choose] : []),
      ];
      const unknown = named.find((id) => !knownEntryIds.has(id));
      if (unknown) throw new Error(`${where}: turn ${t + 1} names "${unknown}", which is not an entry of the knowledge base`);
    }
    conversations.push(conversation);
  }
  return conversations;
}

/** A choice the bot offered: the entry and the title it showed. */
export interface OfferedChoice {
  entryId: string;
  title: string;
}

const choicesSchema = z.array(z.object({ entryId: z.string(), title: z.string() }));
const dialogueActSchema = z.enum(SMALL_TALK_ACTS);

/**
 * The choices a bot turn offers: a turn of kind `clarify` with `data.choices` [{entryId, title}]
 * (the "None of these" option is implied and never listed).
 */
export function toOfferedChoices(turn: Turn): OfferedChoice[] {
  if (turn.role !== 'bot' || (turn.kind as string) !== 'clarify') return [];
  const parsed = choicesSchema.safeParse((turn.data as Record<string, unknown>).choices);
  return parsed.success ? parsed.data : [];
}

/** The small-talk act recorded on a turn (`data.dialogueAct`), if any. */
export function toRecordedAct(turn: Turn): SmallTalkAct | undefined {
  const parsed = dialogueActSchema.safeParse((turn.data as Record<string, unknown>).dialogueAct);
  return parsed.success ? parsed.data : undefined;
}

export interface TurnVerdict {
  correct: boolean;
  /** What the bot did, in a few words, for reading the results. */
  got: string;
}

/**
 * Scores one customer turn: what it expected against the turns it produced (`turns`, customer's
 * first), knowing whether the conversation was with humans before it. `topicOf` maps an entry id to
 * its topic (an entry and its translation share one).
 */
export function scoreTurn(input: {
  expect: Expectation;
  escalatedBefore: boolean;
  turns: Turn[];
  topicOf: (entryId: string) => string | undefined;
}): TurnVerdict {
  const { expect, turns, topicOf } = input;
  const bot = turns.filter((t) => t.role === 'bot');
  const escalation = turns.find((t) => t.kind === 'escalation');
  const answer = bot.find((t) => t.kind === 'answer');
  const choices = bot.flatMap(toOfferedChoices);
  const act = turns.map(toRecordedAct).find((a) => a !== undefined);
  const cited = answer?.data.citations?.map((c) => c.id) ?? [];
  const got = escalation
    ? `escalated: ${escalation.escalation?.reason ?? '?'}${answer ? ` (after answering ${cited.join(', ')})` : ''}`
    : answer
      ? `answered: ${cited.join(', ') || 'no citation'}`
      : choices.length > 0
        ? `clarified: ${choices.map((c) => c.entryId).join(', ')}`
        : act
          ? `small talk: ${act}`
          : bot.length > 0
            ? `replied: ${bot.map((t) => t.kind).join(', ')}`
            : input.escalatedBefore
              ? 'forwarded to the agents'
              : 'no reply';
  const topics = (ids: string[]) => new Set(ids.map((id) => topicOf(id) ?? id));

  if ('smallTalk' in expect) return { correct: !escalation && !answer && bot.length > 0 && act === expect.smallTalk, got };
  if ('answer' in expect) {
    const wanted = topics(expect.answer);
    return { correct: !escalation && cited.some((id) => wanted.has(topicOf(id) ?? id)), got };
  }
  if ('clarify' in expect) {
    const wanted = topics(expect.clarify);
    const offersWanted = expect.clarify.length === 0 || choices.some((c) => wanted.has(topicOf(c.entryId) ?? c.entryId));
    return { correct: !escalation && choices.length > 0 && offersWanted, got };
  }
  if ('escalate' in expect) {
    const reason = escalation?.escalation?.reason as string | undefined;
    return { correct: reason !== undefined && (expect.escalate as readonly string[]).includes(reason), got };
  }
  return { correct: input.escalatedBefore && !escalation && !answer && choices.length === 0, got };
}
