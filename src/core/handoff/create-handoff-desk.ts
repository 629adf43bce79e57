import { HelpdeskError } from '../errors.js';
import type { Conversation, Language, Turn, TurnData } from '../model.js';
import type { ConversationStore, Logger, NewTurn } from '../ports.js';
import type { QueueStatus } from '../conversation/waiting.js';
import { decideLocale, toLocaleTurn } from '../conversation/locale.js';

/** How far back the desk looks for the script the customer writes in. */
const RECENT_TURNS = 12;
import { createKeyedRunner } from '../keyed-runner.js';
import { blockReasons, type OutboundBlockReason, type OutboundReview, reviewOutbound } from '../safety/outbound-guard.js';
import { toClaimedNotice, toHandedBackNotice, toReminderNotice, toResolvedNotice, toWaitNotice } from './handoff-messages.js';
import type { CustomerChannel, HandoffRecord, HandoffStore, HandoffWithConversation } from './handoff-store.js';
import { estimateWait, type WorkingHours } from './working-hours.js';

/** An agent as the agents' tool knows them. */
export interface Agent {
  /** Stable id in the tool (a Slack user id, or "admin:<name>"). */
  id: string;
  /** Display name. */
  name: string;
}

export interface HandoffDeskDeps {
  conversations: ConversationStore;
  handoffs: HandoffStore;
  /** Channels other than the web (whose widget reads the turns) get desk turns through this. */
  customerChannels: Partial<Record<Conversation['channel'], CustomerChannel>>;
  logger: Logger;
  /**
   * The outbound guard for agents' replies and edits (official contacts, payment demands, requests
   * for secrets), recording what it blocks; the helpdesk's `reviewOutbound`. Without it, only
   * requests for secrets and payment demands are caught (no allowlist).
   */
  review?: (text: string, context: { channel: string; conversationId: string }) => Promise<OutboundReview>;
  settings: {
    hours: WorkingHours;
    minutesPerConversation: number;
    /** After this long unclaimed, the customer gets an update and the agents a reminder. */
    unclaimedAfterMs: number;
    /** Shown to customers instead of agents' own names when set. */
    genericAgentName: string | undefined;
  };
  now?: () => Date;
}

export type AgentActionResult =
  | { status: 'done'; turns: Turn[]; conversation: Conversation }
  | { status: 'duplicate' }
  | { status: 'blocked'; reasons: OutboundBlockReason[]; contacts: string[] }
  | { status: 'not_open' }
  | { status: 'claimed_by_other'; by: string };

/** What a desk turn carries: who did it, and where in the agents' tool. */
export interface DeskOrigin {
  agent: Agent;
  /** Unique per event in the agents' tool, so that a retried delivery records nothing twice. */
  externalKey: string;
  desk?: TurnData['desk'];
}

/** Whether the customer sees a turn. */
export const isVisibleToCustomer = (turn: Turn) => !turn.data.internal;

/** Whether a turn was produced by the handoff (and so must be carried to the customer by the desk). */
const isDeskTurn = (turn: Turn) => isVisibleToCustomer(turn) && (turn.role === 'agent' || turn.kind === 'handoff');

/**
 * The human side of a conversation: opening handoffs and telling the customer the wait, agent
 * replies, notes, claim, hand back, resolve, reminders. Whatever the agents' tool (Slack, the
 * admin API), every event is a turn saying who did it.
 */
export function createHandoffDesk(deps: HandoffDeskDeps) {
  const { conversations, handoffs, logger, settings } = deps;
  const now = deps.now ?? (() => new Date());

  const shownName = (agent: Agent) => settings.genericAgentName ?? agent.name;
  const review = deps.review ?? (async (text: string) => reviewOutbound(text, undefined));

  /** Why an agent's text may not reach the customer; undefined when it may. */
  async function refusal(conversationId: string, origin: DeskOrigin & { text: string }) {
    const verdict = await review(origin.text, { channel: origin.desk?.tool ?? 'desk', conversationId });
    if (verdict.clean) return undefined;
    const reasons = blockReasons(verdict);
    logger.warn({ conversationId, agentId: origin.agent.id, reasons }, 'agent message blocked by the outbound guard');
    return { status: 'blocked' as const, reasons, contacts: verdict.unlisted.map((c) => c.value) };
  }

  async function deliverPending(conversationId: string): Promise<void> {
    const record = await handoffs.find(conversationId);
    const conversation = await conversations.find(conversationId);
    if (!record || !conversation || conversation.lastSeq <= record.deliveredSeq) return;
    const channel = deps.customerChannels[conversation.channel];
    const pending = (await conversations.turns(conversationId, record.deliveredSeq)).filter(isDeskTurn);
    if (channel && pending.length > 0) await channel.deliver(conversation, pending);
    await handoffs.advanceDelivered(conversationId, conversation.lastSeq);
  }

  /**
   * The desk's own notices (wait, claim, hand back, resolve, reminder) in the script the customer
   * writes: Traditional Chinese when the conversation's recent turns say so. Agents' own words are
   * kept as they wrote them.
   */
  async function inCustomerScript(conversationId: string, turns: NewTurn[]): Promise<NewTurn[]> {
    if (!turns.some((t) => t.kind === 'handoff' && t.language === 'zh')) return turns;
    const conversation = await conversations.find(conversationId);
    if (!conversation) return turns;
    const recent = await conversations.turns(conversationId, Math.max(0, conversation.lastSeq - RECENT_TURNS));
    const locale = decideLocale('zh', '', recent);
    return turns.map((t) => (t.kind === 'handoff' ? toLocaleTurn(t, locale) : t));
  }

  async function appendAndDeliver(conversationId: string, turns: NewTurn[], patch?: Parameters<ConversationStore['append']>[2]) {
    const result = await conversations.append(conversationId, await inCustomerScript(conversationId, turns), patch);
    if (!result.duplicate) {
      await deliverPending(conversationId).catch((error) => logger.warn({ err: error, conversationId }, 'delivery to the customer deferred'));
    }
    return result;
  }

  async function load(conversationId: string): Promise<{ conversation: Conversation; record: HandoffRecord | undefined }> {
    const conversation = await conversations.find(conversationId);
    if (!conversation) {
      throw new HelpdeskError('conversation_not_found', `conversation ${conversationId} not found`, 'Conversation not found.');
    }
    return { conversation, record: await handoffs.find(conversationId) };
  }

  const agentData = (origin: DeskOrigin, extra: TurnData = {}): TurnData => ({
    author: shownName(origin.agent),
    agentId: origin.agent.id,
    ...(origin.desk ? { desk: origin.desk } : {}),
    ...extra,
  });

  function claimTurn(conversation: Conversation, origin: DeskOrigin, externalKey: string): NewTurn {
    return {
      role: 'agent',
      kind: 'handoff',
      text: toClaimedNotice(conversation.language, shownName(origin.agent)),
      language: conversation.language,
      data: agentData(origin, { handoff: 'claimed' }),
      externalKey,
    };
  }

  /** Ends the human part of a conversation: the handoff closes, the customer is told, the state moves. */
  async function closeHandoff(
    conversationId: string,
    origin: DeskOrigin,
    handoff: 'handed_back' | 'resolved',
    toNotice: (language: Language) => string,
    state: 'bot' | 'closed',
  ): Promise<AgentActionResult> {
    const { conversation, record } = await load(conversationId);
    if (!record?.open) return { status: 'not_open' };
    if (!(await handoffs.close(conversationId))) return { status: 'not_open' };
    const result = await appendAndDeliver(
      conversationId,
      [
        {
          role: 'agent',
          kind: 'handoff',
          text: toNotice(conversation.language),
          language: conversation.language,
          data: agentData(origin, { handoff }),
          externalKey: origin.externalKey,
        },
      ],
      { state },
    );
    return result.duplicate ? { status: 'duplicate' } : { status: 'done', turns: result.turns, conversation: result.conversation };
  }

  const desk = {
    deliverPending,

    /**
     * Where a waiting conversation stands: its place among the unclaimed handoffs in the order
     * agents see them (urgent first, then the longest waiting) and the wait that place means.
     * Undefined when it is not waiting unclaimed.
     */
    async status(conversationId: string, language: Language): Promise<QueueStatus | undefined> {
      const place = await handoffs.queuePlace(conversationId);
      if (!place) return undefined;
      const wait = estimateWait({ now: now(), hours: settings.hours, queueAhead: place.ahead, minutesPerConversation: settings.minutesPerConversation });
      return { position: place.ahead + 1, urgent: place.urgent, waitText: toWaitNotice(language, wait, settings.hours, place.urgent) };
    },

    /** The customer went back to the bot before anyone claimed: the handoff closes (the thread shows why). */
    async withdraw(conversationId: string): Promise<void> {
      await handoffs.close(conversationId);
    },

    /** Opens handoffs for new escalations and tells each customer the estimated wait. */
    async openEscalations(limit = 20): Promise<HandoffWithConversation[]> {
      const opened = await handoffs.openPending(limit);
      for (const { record, conversation } of opened) {
        const status = await desk.status(conversation.id, conversation.language);
        // Placed by priority: an urgent case waits only for the urgent ones before it.
        const ahead = status ? status.position - 1 : await handoffs.countUnclaimedBefore(record.escalatedAt);
        const urgent = conversation.priority === 'urgent';
        const wait = estimateWait({ now: now(), hours: settings.hours, queueAhead: ahead, minutesPerConversation: settings.minutesPerConversation });
        await appendAndDeliver(conversation.id, [
          {
            role: 'bot',
            kind: 'handoff',
            text: toWaitNotice(conversation.language, wait, settings.hours, urgent),
            language: conversation.language,
            data: { handoff: 'waiting' },
            externalKey: `handoff:waiting:${conversation.id}:${record.openedSeq}`,
          },
        ]);
        logger.info({ conversationId: conversation.id, queueAhead: ahead, open: wait.open }, 'handoff opened');
      }
      return opened;
    },

    async claim(conversationId: string, origin: DeskOrigin): Promise<AgentActionResult> {
      const { conversation, record } = await load(conversationId);
      if (!record?.open) return { status: 'not_open' };
      if (record.claimedBy && record.claimedBy !== origin.agent.id) return { status: 'claimed_by_other', by: record.claimedName ?? record.claimedBy };
      if (record.claimedBy === origin.agent.id) return { status: 'duplicate' };
      if (!(await handoffs.claim(conversationId, origin.agent))) {
        const again = await handoffs.find(conversationId);
        return again?.claimedBy ? { status: 'claimed_by_other', by: again.claimedName ?? again.claimedBy } : { status: 'not_open' };
      }
      const result = await appendAndDeliver(conversationId, [claimTurn(conversation, origin, origin.externalKey)]);
      return result.duplicate ? { status: 'duplicate' } : { status: 'done', turns: result.turns, conversation: result.conversation };
    },

    /**
     * An agent's reply to the customer. One the outbound guard refuses (asks for a secret, demands
     * a payment, names an unofficial contact) is kept as an internal note and not sent.
     */
    async reply(conversationId: string, origin: DeskOrigin & { text: string }): Promise<AgentActionResult> {
      const { conversation, record } = await load(conversationId);
      const blocked = await refusal(conversationId, origin);
      if (blocked) {
        const result = await conversations.append(conversationId, [
          {
            role: 'agent',
            kind: 'note',
            text: `[not sent: ${blocked.reasons.join(', ')}] ${origin.text}`,
            language: conversation.language,
            data: agentData(origin, { internal: true }),
            externalKey: origin.externalKey,
          },
        ]);
        return result.duplicate ? { status: 'duplicate' } : blocked;
      }
      const turns: NewTurn[] = [];
      // Replying to an unclaimed handoff claims it: the customer sees who is helping.
      if (record?.open && !record.claimedBy && (await handoffs.claim(conversationId, origin.agent))) {
        turns.push(claimTurn(conversation, origin, `${origin.externalKey}:claim`));
      }
      turns.push({
        role: 'agent',
        kind: 'message',
        text: origin.text,
        language: conversation.language,
        data: agentData(origin),
        externalKey: origin.externalKey,
      });
      const result = await appendAndDeliver(conversationId, turns);
      return result.duplicate ? { status: 'duplicate' } : { status: 'done', turns: result.turns, conversation: result.conversation };
    },

    /**
     * A new version of an agent's earlier reply: a new turn, the original stays. An edit the
     * outbound guard refuses is recorded internal, not sent, and reported blocked.
     */
    async edit(conversationId: string, origin: DeskOrigin & { text: string; internal: boolean }): Promise<AgentActionResult> {
      const { conversation } = await load(conversationId);
      const blocked = origin.internal ? undefined : await refusal(conversationId, origin);
      const internal = origin.internal || blocked !== undefined;
      const result = await appendAndDeliver(conversationId, [
        {
          role: 'agent',
          kind: 'edit',
          text: blocked ? `[not sent: ${blocked.reasons.join(', ')}] ${origin.text}` : internal ? origin.text : `(edited) ${origin.text}`,
          language: conversation.language,
          data: agentData(origin, internal ? { internal: true } : {}),
          externalKey: origin.externalKey,
        },
      ]);
      if (result.duplicate) return { status: 'duplicate' };
      return blocked ?? { status: 'done', turns: result.turns, conversation: result.conversation };
    },

    /** An internal note, or an internal record of something seen in the tool (a deletion). */
    async note(conversationId: string, origin: DeskOrigin & { text: string }): Promise<AgentActionResult> {
      const { conversation } = await load(conversationId);
      const result = await conversations.append(conversationId, [
        {
          role: 'agent',
          kind: 'note',
          text: origin.text,
          language: conversation.language,
          data: agentData(origin, { internal: true }),
          externalKey: origin.externalKey,
        },
      ]);
      return result.duplicate ? { status: 'duplicate' } : { status: 'done', turns: result.turns, conversation: result.conversation };
    },

    /** Gives the conversation back to the bot. */
    handBack(conversationId: string, origin: DeskOrigin): Promise<AgentActionResult> {
      return closeHandoff(conversationId, origin, 'handed_back', toHandedBackNotice, 'bot');
    },

    /** Closes the conversation and asks the customer for a 1–5 rating. */
    resolve(conversationId: string, origin: DeskOrigin): Promise<AgentActionResult> {
      return closeHandoff(conversationId, origin, 'resolved', toResolvedNotice, 'closed');
    },

    /** Open handoffs by priority, then waiting time (longest first). */
    listOpen(): Promise<HandoffWithConversation[]> {
      return handoffs.listOpen();
    },

    /** Tells customers still unclaimed after the configured time that they are not forgotten. */
    async remindUnclaimed(limit = 20): Promise<HandoffRecord[]> {
      const due = await handoffs.markReminders(new Date(now().getTime() - settings.unclaimedAfterMs), limit);
      for (const record of due) {
        const conversation = await conversations.find(record.conversationId);
        if (!conversation) continue;
        await appendAndDeliver(conversation.id, [
          {
            role: 'bot',
            kind: 'handoff',
            text: toReminderNotice(conversation.language),
            language: conversation.language,
            data: { handoff: 'reminder' },
            externalKey: `handoff:reminder:${conversation.id}:${record.openedSeq}`,
          },
        ]);
      }
      return due;
    },
  };

  // Agents' actions on one conversation run one at a time, in the order they came in: a reply
  // right after a click on Claim (bolt acknowledges the click before the claim is recorded) must
  // not reach the customer before the claim notice.
  const serial = createKeyedRunner();
  const inTurn =
    <A extends unknown[]>(action: (conversationId: string, ...rest: A) => Promise<AgentActionResult>) =>
    (conversationId: string, ...rest: A) =>
      serial.run(conversationId, () => action(conversationId, ...rest));
  return {
    ...desk,
    claim: inTurn(desk.claim),
    reply: inTurn(desk.reply),
    edit: inTurn(desk.edit),
    note: inTurn(desk.note),
    handBack: inTurn(desk.handBack),
    resolve: inTurn(desk.resolve),
  };
}

export type HandoffDesk = ReturnType<typeof createHandoffDesk>;
