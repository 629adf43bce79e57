import { HelpdeskError } from '../errors.js';
import type { AttachmentType, Conversation, Turn } from '../model.js';
import type { ConversationStore } from '../ports.js';
import { buildHandoffSummary, type HandoffSummary } from './build-handoff-summary.js';
import type { AgentActionResult, HandoffDesk } from './create-handoff-desk.js';
import type { CustomerChannel, CustomerFile, HandoffRecord, HandoffStore, HandoffWithConversation } from './handoff-store.js';
import type { ChangeMark } from './inbox-feed.js';

/** What the inbox reads beyond the desk's own state: previews, closed handoffs, change marks. */
export interface InboxStore {
  /** Closed handoffs, the most recently changed first (for search beside the open queue). */
  listClosed(limit: number): Promise<HandoffWithConversation[]>;
  /**
   * The latest message of the customer (kinds message, attachment, edit) in each conversation, its
   * content opened (an erased one reads empty). Conversations without one are absent.
   */
  latestCustomerTurns(conversationIds: string[]): Promise<Map<string, Turn>>;
  /**
   * A mark per handoff that changes whenever its handoff or conversation changes (a new turn, a
   * claim, a close): every open handoff, and the `watched` ones whatever their state.
   */
  changeMarks(watched: string[]): Promise<Map<string, ChangeMark>>;
}

/** One conversation in the queue (or a search result), with the customer's latest words. */
export interface InboxItem {
  conversationId: string;
  channel: Conversation['channel'];
  customerHandle: string | null;
  /** The customer's id on the channel (a Telegram chat id, the widget's random id). */
  customerId: string;
  language: Conversation['language'];
  priority: Conversation['priority'];
  reason: Conversation['escalationReason'];
  state: Conversation['state'];
  open: boolean;
  waitingSince: Date;
  claimedBy: string | null;
  claimedName: string | null;
  lastSeq: number;
  preview: { text: string; at: Date; seq: number; files: number } | null;
}

/** An entry the bot tried: cited in an answer, offered as a choice, or retrieved (with its score). */
export interface TriedEntry {
  entryId: string;
  title: string | null;
  how: 'cited' | 'offered' | 'retrieved';
  score: number | null;
  seq: number;
}

/** A file the customer sent, as its turn recorded it (whatever channel it came from). */
export interface InboxFile {
  seq: number;
  index: number;
  at: Date;
  type: AttachmentType;
  fileName: string | null;
  mimeType: string | null;
  fileSize: number | null;
}

export interface InboxConversation {
  item: InboxItem;
  /** The agents' summary as of the latest escalation (as the Slack thread root shows it). */
  summary: HandoffSummary;
  /** Every turn, oldest first, internal notes included (up to MAX_TURNS, the latest). */
  turns: Turn[];
  tried: TriedEntry[];
  files: InboxFile[];
}

export type InboxAction = 'claim' | 'reply' | 'note' | 'resolve' | 'hand-back';

/** Closed handoffs a search looks through beside the open ones: search is over what the server can open, bounded. */
export const SEARCH_CLOSED_HANDOFFS = 300;
const SEARCH_RESULTS = 100;
const MAX_TURNS = 1000;
const TURN_PAGE = 200;
const PREVIEW_CHARS = 200;
const PREVIEW_KINDS = new Set(['message', 'attachment', 'edit']);

const fold = (text: string) => text.normalize('NFKC').toLowerCase();
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function toItem({ record, conversation }: HandoffWithConversation, latest: Turn | undefined): InboxItem {
  return {
    conversationId: conversation.id,
    channel: conversation.channel,
    customerHandle: conversation.customerHandle,
    customerId: conversation.externalId,
    language: conversation.language,
    priority: conversation.priority,
    reason: conversation.escalationReason,
    state: conversation.state,
    open: record.open,
    waitingSince: record.escalatedAt,
    claimedBy: record.claimedBy,
    claimedName: record.claimedName,
    lastSeq: conversation.lastSeq,
    preview: latest
      ? {
          text: clip(latest.text.replace(/\s+/g, ' ').trim(), PREVIEW_CHARS),
          at: latest.createdAt,
          seq: latest.seq,
          files: latest.data.attachments?.length ?? 0,
        }
      : null,
  };
}

/** The entries the bot tried in these turns, latest first, each once (cited over offered over retrieved). */
export function toTriedEntries(turns: Turn[]): TriedEntry[] {
  const found = new Map<string, TriedEntry>();
  const rank = { cited: 0, offered: 1, retrieved: 2 } as const;
  const add = (entry: TriedEntry) => {
    const known = found.get(entry.entryId);
    if (!known || rank[entry.how] < rank[known.how] || (rank[entry.how] === rank[known.how] && entry.seq > known.seq)) {
      found.set(entry.entryId, { ...entry, title: entry.title ?? known?.title ?? null, score: entry.score ?? known?.score ?? null });
    } else if (known.title === null && entry.title) known.title = entry.title;
  };
  for (const turn of turns) {
    if (turn.role !== 'bot') continue;
    for (const c of turn.data.retrieval?.candidates.slice(0, 3) ?? [])
      add({ entryId: c.entryId, title: null, how: 'retrieved', score: c.score, seq: turn.seq });
    for (const c of turn.data.choices ?? []) add({ entryId: c.entryId, title: c.title, how: 'offered', score: null, seq: turn.seq });
    for (const c of turn.data.citations ?? []) add({ entryId: c.id, title: c.title, how: 'cited', score: null, seq: turn.seq });
  }
  return [...found.values()].sort((a, b) => rank[a.how] - rank[b.how] || b.seq - a.seq);
}

/** The customer's files in these turns, in order. */
export function toInboxFiles(turns: Turn[]): InboxFile[] {
  return turns.flatMap((turn) =>
    turn.role === 'customer'
      ? (turn.data.attachments ?? []).map((a, index) => ({
          seq: turn.seq,
          index,
          at: turn.createdAt,
          type: a.type,
          fileName: a.fileName ?? null,
          mimeType: a.mimeType ?? null,
          fileSize: a.fileSize ?? null,
        }))
      : [],
  );
}

/** Whether an item matches a search: its conversation id, the customer's handle or id, or the preview's words. */
export function matchesSearch(item: InboxItem, query: string): boolean {
  const q = fold(query.trim());
  if (q === '') return true;
  return [item.conversationId, item.customerHandle ?? '', item.customerId, item.preview?.text ?? ''].some((field) => fold(field).includes(q));
}

/**
 * The agents' inbox in the console: the queue with previews, search, a conversation with what the
 * bot tried and the customer's files, and the desk's actions with an idempotency key per action.
 * Every action goes through the handoff desk, exactly as from Slack, so the two desks see each
 * other's work (through the turns) and the customer gets each reply once.
 */
export function createAgentInbox(deps: {
  desk: HandoffDesk;
  handoffs: Pick<HandoffStore, 'find' | 'listOpen'>;
  conversations: Pick<ConversationStore, 'find' | 'turns'>;
  store: InboxStore;
  /** Where the customers' files are fetched from, by channel (the same map the desk delivers through). */
  customerChannels?: Partial<Record<Conversation['channel'], CustomerChannel>>;
}) {
  const { desk, handoffs, conversations, store } = deps;

  async function withPreviews(list: HandoffWithConversation[]): Promise<InboxItem[]> {
    const latest = await store.latestCustomerTurns(list.map((h) => h.conversation.id));
    return list.map((h) => toItem(h, latest.get(h.conversation.id)));
  }

  async function allTurns(conversationId: string, lastSeq: number): Promise<Turn[]> {
    const turns: Turn[] = [];
    let after = Math.max(0, lastSeq - MAX_TURNS);
    for (;;) {
      const page = await conversations.turns(conversationId, after, TURN_PAGE);
      turns.push(...page);
      if (page.length < TURN_PAGE) return turns;
      after = (page[page.length - 1] as Turn).seq;
    }
  }

  return {
    /**
     * Open handoffs, urgent first, then the longest waiting. With `search`: the open ones and the
     * latest closed ones (SEARCH_CLOSED_HANDOFFS) whose conversation id, customer handle or id, or
     * latest customer message contains it (case and width folded). Content is sealed at rest, so
     * search runs here over what the server opens, not in SQL: it is bounded, not a full-history search.
     */
    async queue(options: { search?: string } = {}): Promise<InboxItem[]> {
      const open = await handoffs.listOpen();
      const search = options.search?.trim();
      if (!search) return withPreviews(open);
      const closed = await store.listClosed(SEARCH_CLOSED_HANDOFFS);
      const items = await withPreviews([...open, ...closed]);
      return items.filter((item) => matchesSearch(item, search)).slice(0, SEARCH_RESULTS);
    },

    /** One conversation as an agent works on it; undefined when it never reached the desk. */
    async conversation(conversationId: string): Promise<InboxConversation | undefined> {
      const [conversation, record] = await Promise.all([conversations.find(conversationId), handoffs.find(conversationId)]);
      if (!conversation || !record) return undefined;
      const turns = await allTurns(conversationId, conversation.lastSeq);
      const latest = [...turns].reverse().find((t) => t.role === 'customer' && PREVIEW_KINDS.has(t.kind));
      return {
        item: toItem({ record, conversation }, latest),
        summary: buildHandoffSummary(
          conversation,
          turns.filter((t) => t.seq <= record.openedSeq),
        ),
        turns,
        tried: toTriedEntries(turns),
        files: toInboxFiles(turns),
      };
    },

    /** Turns after `afterSeq` (the live view's catch-up), internal notes included. */
    turns(conversationId: string, afterSeq: number): Promise<Turn[]> {
      return conversations.turns(conversationId, afterSeq, TURN_PAGE);
    },

    /**
     * The bytes of a file a customer sent (turn `seq`, its `index`-th file), fetched from the
     * channel that keeps it; undefined when there is no such file of the customer's;
     * `{ unavailable }` when the channel will not give it (or cannot fetch files).
     */
    async file(conversationId: string, seq: number, index: number): Promise<CustomerFile | { unavailable: string } | undefined> {
      const conversation = await conversations.find(conversationId);
      if (!conversation || !(await handoffs.find(conversationId))) return undefined;
      const [turn] = await conversations.turns(conversationId, seq - 1, 1);
      const attachment = turn?.seq === seq && turn.role === 'customer' ? turn.data.attachments?.[index] : undefined;
      if (!attachment) return undefined;
      const channel = deps.customerChannels?.[conversation.channel];
      if (!channel?.fetchFile) return { unavailable: `files are not fetched from ${conversation.channel}` };
      return channel.fetchFile(attachment);
    },

    /**
     * An agent's action. `key` identifies the action where the agent made it (one per click or
     * send): the same key again records and sends nothing (`duplicate`). Replies, claims, resolve
     * and hand back need the handoff open; a note can be added any time.
     */
    async act(
      action: InboxAction,
      conversationId: string,
      input: { agent: { id: string; name: string }; key: string; text?: string },
    ): Promise<AgentActionResult> {
      const origin = { agent: input.agent, externalKey: `console:${action}:${conversationId}:${input.key}`, desk: { tool: 'console' } };
      const record: HandoffRecord | undefined = await handoffs.find(conversationId);
      if (!record) throw new HelpdeskError('conversation_not_found', `no handoff for ${conversationId}`, 'Conversation not found.');
      const text = input.text?.trim() ?? '';
      if ((action === 'reply' || action === 'note') && text === '') throw new HelpdeskError('invalid_input', 'empty text', 'Write a text first.');
      switch (action) {
        case 'note':
          return desk.note(conversationId, { ...origin, text });
        case 'claim':
          return desk.claim(conversationId, origin);
        case 'resolve':
          return desk.resolve(conversationId, origin);
        case 'hand-back':
          return desk.handBack(conversationId, origin);
        case 'reply':
          // Not to a conversation back with the bot (or closed): the bot and the agent would talk over each other.
          if (!record.open) return { status: 'not_open' };
          return desk.reply(conversationId, { ...origin, text });
      }
    },
  };
}

export type AgentInbox = ReturnType<typeof createAgentInbox>;
