/**
 * The contracts of core's store ports, run against the in-memory fakes that core's unit tests use
 * (test/support/fakes) and the PostgreSQL adapters on each engine: a fake that drifts from the
 * adapter fails here, not in production.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKnowledgeFiles } from '../../src/adapters/knowledge-files/read-knowledge-files.js';
import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import { createPassageSplitter } from '../../src/adapters/local/passage-splitter.js';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import { createPgHandoffStore } from '../../src/adapters/postgres/stores/pg-handoff-store.js';
import { createPgInboxStore } from '../../src/adapters/postgres/stores/pg-inbox-store.js';
import { createPgKnowledgeIndex } from '../../src/adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { createPgSavedReplyStore } from '../../src/adapters/postgres/stores/pg-saved-reply-store.js';
import { createPgSecurityEventLog } from '../../src/adapters/postgres/stores/pg-security-events.js';
import {
  type Conversation,
  type ConversationStore,
  createRetriever,
  type HandoffStore,
  type InboxStore,
  type KnowledgeIndex,
  type NewTurn,
  type SavedReplyStore,
  type SecurityEventLog,
  syncKnowledgeFiles,
  toTerms,
} from '../../src/core/index.js';
import { createTestDatabase, testEngines } from '../support/databases.js';
import {
  createMemoryConversationStore,
  createMemoryHandoffStore,
  createMemoryInboxStore,
  createMemoryKnowledgeIndex,
  createMemorySavedReplyStore,
  createMemorySecurityEventLog,
} from '../support/fakes/index.js';
import { KNOWLEDGE_DIR } from '../support/knowledge-dir.js';
import { screened } from '../support/screened.js';

interface Stores {
  conversations: ConversationStore;
  handoffs: HandoffStore;
  events: SecurityEventLog;
  knowledge: KnowledgeIndex;
  savedReplies: SavedReplyStore;
  inbox: InboxStore;
  drop(): Promise<void>;
}

const subjects: Array<[string, () => Promise<Stores>]> = [
  [
    'the in-memory fakes',
    async () => {
      const conversations = createMemoryConversationStore();
      const handoffs = createMemoryHandoffStore(conversations);
      return {
        conversations,
        handoffs,
        inbox: createMemoryInboxStore(handoffs),
        events: createMemorySecurityEventLog(),
        knowledge: createMemoryKnowledgeIndex(),
        savedReplies: createMemorySavedReplyStore(),
        drop: async () => undefined,
      };
    },
  ],
  ...testEngines().map((engine): [string, () => Promise<Stores>] => [
    `the PostgreSQL adapters on ${engine}`,
    async () => {
      const { database, drop } = await createTestDatabase(engine);
      return {
        conversations: createPgConversationStore(database),
        handoffs: createPgHandoffStore(database.db),
        inbox: createPgInboxStore(database.db),
        events: createPgSecurityEventLog(database.db),
        knowledge: createPgKnowledgeIndex(database),
        savedReplies: createPgSavedReplyStore(database.db),
        drop,
      };
    },
  ]),
];

let opened = 0;
const customer = (text: string, externalKey?: string): NewTurn => ({
  role: 'customer',
  kind: 'message',
  text: screened(text),
  language: 'en',
  ...(externalKey ? { externalKey } : {}),
});
const bot = (text: string): NewTurn => ({ role: 'bot', kind: 'answer', text, language: 'en' });

describe.each(subjects)('store contracts: %s', (_name, make) => {
  let s: Stores;
  beforeAll(async () => {
    s = await make();
  });
  afterAll(() => s.drop());

  const open = async (channel: Conversation['channel'] = 'web') =>
    (await s.conversations.open({ channel, externalId: `contract-${opened++}`, language: 'en', tokenHash: null })).conversation;

  describe('ConversationStore', () => {
    it('keys a conversation by channel and external id', async () => {
      const first = await s.conversations.open({ channel: 'telegram', externalId: '42', language: 'zh', tokenHash: 'abc' });
      const again = await s.conversations.open({ channel: 'telegram', externalId: '42', language: 'en', tokenHash: null });
      expect(first.created).toBe(true);
      expect(again).toMatchObject({ created: false, conversation: { id: first.conversation.id, language: 'zh' } });
      expect((await s.conversations.open({ channel: 'web', externalId: '42', language: 'zh', tokenHash: null })).conversation.id).not.toBe(
        first.conversation.id,
      );
      expect(first.conversation).toMatchObject({ state: 'bot', priority: 'normal', escalationReason: null, lastSeq: 0, languageChosen: false });
      expect(await s.conversations.tokenHash(first.conversation.id)).toBe('abc');
    });

    it('finds nothing for an unknown or malformed id', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
        expect(await s.conversations.find(id)).toBeUndefined();
        expect(await s.conversations.tokenHash(id)).toBeUndefined();
        expect(await s.conversations.context?.(id, 12, [])).toBeUndefined();
      }
    });

    it('numbers turns contiguously under concurrent appends', async () => {
      const c = await open();
      await Promise.all(Array.from({ length: 20 }, (_, i) => s.conversations.append(c.id, [customer(`m${i}`)])));
      expect((await s.conversations.turns(c.id, 0)).map((t) => t.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect((await s.conversations.find(c.id))?.lastSeq).toBe(20);
    });

    it('refuses an append without turns, and one to an unknown conversation', async () => {
      const c = await open();
      await expect(s.conversations.append(c.id, [], { state: 'escalated' })).rejects.toThrow(/at least one turn/);
      expect((await s.conversations.find(c.id))?.state).toBe('bot');
      await expect(s.conversations.append('00000000-0000-4000-8000-000000000000', [customer('x')])).rejects.toThrow();
    });

    it('applies the patch with the turns, clears a field set to null, and keeps the turn as given', async () => {
      const c = await open();
      const escalation = { reason: 'low_confidence' as const, priority: 'normal' as const, detail: 'd' };
      const result = await s.conversations.append(
        c.id,
        [{ role: 'system', kind: 'escalation', text: 'handed over', language: 'en', escalation, data: { citations: [] } }],
        {
          state: 'escalated',
          escalationReason: 'low_confidence',
          priority: 'urgent',
        },
      );
      expect(result.conversation).toMatchObject({ state: 'escalated', escalationReason: 'low_confidence', priority: 'urgent', lastSeq: 1 });
      expect(result.turns[0]).toMatchObject({ conversationId: c.id, seq: 1, role: 'system', kind: 'escalation', escalation, answerMode: null });
      const back = await s.conversations.append(c.id, [bot('back')], { state: 'bot', escalationReason: null });
      expect(back.conversation).toMatchObject({ state: 'bot', escalationReason: null, priority: 'urgent' });
      expect((await s.conversations.turns(c.id, 0))[0]).toEqual(result.turns[0]);
    });

    it('answers a repeated external key with the input that carried it and what answered it, storing nothing', async () => {
      const c = await open();
      await s.conversations.append(c.id, [{ role: 'bot', kind: 'greeting', text: 'hello', language: 'en' }, customer('hi', `${c.id}:1`), bot('hi there')]);
      await s.conversations.append(c.id, [customer('next question', `${c.id}:2`), bot('next answer')]);
      const repeat = await s.conversations.append(c.id, [customer('hi', `${c.id}:1`), bot('hi again')]);
      expect(repeat.duplicate).toBe(true);
      expect(repeat.turns.map((t) => t.text)).toEqual(['hi', 'hi there']);
      expect(repeat.conversation.lastSeq).toBe(5);
      expect(await s.conversations.repeatOf?.(`${c.id}:1`)).toEqual(repeat);
      expect(await s.conversations.repeatOf?.(`${c.id}:unknown`)).toBeUndefined();
      // Keys are unique across conversations.
      const other = await open();
      expect((await s.conversations.append(other.id, [customer('hi', `${c.id}:2`)])).turns.map((t) => t.text)).toEqual(['next question', 'next answer']);
      expect((await s.conversations.find(other.id))?.lastSeq).toBe(0);
      expect(await s.conversations.turns(c.id, 0)).toHaveLength(5);
    });

    it('stores one of several racing appends with the same external key', async () => {
      const c = await open();
      const racing = await Promise.all([1, 2, 3].map(() => s.conversations.append(c.id, [customer('x', `${c.id}:race`)])));
      expect(racing.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(await s.conversations.turns(c.id, 0)).toHaveLength(1);
    });

    it('pages turns after a seq, in order, 200 at most by default', async () => {
      const c = await open();
      await s.conversations.append(
        c.id,
        Array.from({ length: 205 }, (_, i) => bot(`t${i + 1}`)),
      );
      expect(await s.conversations.turns(c.id, 0)).toHaveLength(200);
      expect((await s.conversations.turns(c.id, 200)).map((t) => t.text)).toEqual(['t201', 't202', 't203', 't204', 't205']);
      expect((await s.conversations.turns(c.id, 10, 3)).map((t) => t.seq)).toEqual([11, 12, 13]);
    });

    it('reads the context of an input: the conversation, its recent turns, whether its key was seen', async () => {
      const c = await open();
      await s.conversations.append(c.id, [customer('a', `${c.id}:a`), bot('b'), customer('c'), bot('d')]);
      const context = await s.conversations.context?.(c.id, 2, [`${c.id}:a`]);
      if (!s.conversations.context) return;
      expect(context?.conversation.id).toBe(c.id);
      expect(context?.recentTurns.map((t) => t.text)).toEqual(['c', 'd']);
      expect(context?.keysSeen).toBe(true);
      expect((await s.conversations.context(c.id, 12, [`${c.id}:new`]))?.keysSeen).toBe(false);
    });

    it('lists conversations in a state urgent first, then the least recently changed', async () => {
      const [a, b, u] = [await open(), await open(), await open()];
      for (const [c, priority] of [
        [a, 'normal'],
        [b, 'normal'],
        [u, 'urgent'],
      ] as const) {
        await s.conversations.append(c.id, [bot('x')], { state: 'closed', priority });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const ids = (await s.conversations.listByState('closed')).map((c) => c.id).filter((id) => [a.id, b.id, u.id].includes(id));
      expect(ids).toEqual([u.id, a.id, b.id]);
    });

    it('hands out copies: changing what it returned changes nothing stored', async () => {
      const c = await open();
      const { turns, conversation } = await s.conversations.append(c.id, [{ ...bot('kept'), data: { citations: [{ id: 'e', title: 't', version: 1 }] } }]);
      const citations = turns[0]?.data.citations as unknown[];
      citations.push('changed');
      conversation.state = 'closed';
      expect((await s.conversations.turns(c.id, 0))[0]?.data.citations).toHaveLength(1);
      expect((await s.conversations.find(c.id))?.state).toBe('bot');
    });
  });

  describe('HandoffStore', () => {
    const escalate = async (priority: 'normal' | 'urgent' = 'normal') => {
      const c = await open();
      await s.conversations.append(c.id, [customer('help'), { role: 'system', kind: 'escalation', text: 'handed over', language: 'en' }], {
        state: 'escalated',
        priority,
      });
      return c;
    };
    const FUTURE = () => new Date(Date.now() + 60_000);

    it('opens one handoff per escalated conversation, returning only those the call opened, once across racing calls', async () => {
      await s.handoffs.openPending(1000);
      const [a, b] = [await escalate(), await escalate()];
      const calls = await Promise.all([s.handoffs.openPending(100), s.handoffs.openPending(100)]);
      const ids = calls.flat().map((h) => h.conversation.id);
      expect(ids.sort()).toEqual([a.id, b.id].sort());
      expect(await s.handoffs.openPending(100)).toEqual([]);
      expect(await s.handoffs.find(a.id)).toMatchObject({ open: true, openedSeq: 2, deliveredSeq: 2, claimedBy: null, claimedName: null, remindedAt: null });
      expect(await s.handoffs.find('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    });

    it('opens at most `limit` new handoffs a call, the longest escalated first', async () => {
      await s.handoffs.openPending(1000);
      const [a, b, c] = [await escalate(), await escalate(), await escalate()];
      expect((await s.handoffs.openPending(2)).map((h) => h.conversation.id)).toEqual([a.id, b.id]);
      expect((await s.handoffs.openPending(2)).map((h) => h.conversation.id)).toEqual([c.id]);
    });

    it('lets one agent claim an open handoff, and none once it is closed', async () => {
      await s.handoffs.openPending(1000);
      const c = await escalate();
      await s.handoffs.openPending(100);
      const claims = await Promise.all([s.handoffs.claim(c.id, { id: 'U1', name: 'Alice' }), s.handoffs.claim(c.id, { id: 'U2', name: 'Bob' })]);
      expect(claims.sort()).toEqual([false, true]);
      expect(await s.handoffs.claim(c.id, { id: 'U1', name: 'Alice' })).toBe(false);
      const closed = await Promise.all([s.handoffs.close(c.id), s.handoffs.close(c.id)]);
      expect(closed.sort()).toEqual([false, true]);
      const other = await escalate();
      await s.handoffs.openPending(100);
      await s.handoffs.close(other.id);
      expect(await s.handoffs.claim(other.id, { id: 'U1', name: 'Alice' })).toBe(false);
      expect(await s.handoffs.claim('00000000-0000-4000-8000-000000000000', { id: 'U1', name: 'Alice' })).toBe(false);
    });

    it('reopens a closed handoff when the conversation is escalated again: unclaimed, from its new last turn, deliveries kept', async () => {
      await s.handoffs.openPending(1000);
      const c = await escalate();
      await s.handoffs.openPending(100);
      await s.handoffs.claim(c.id, { id: 'U1', name: 'Alice' });
      await s.handoffs.advanceDelivered(c.id, 2);
      await s.handoffs.close(c.id);
      await s.conversations.append(c.id, [bot('back'), customer('again'), { role: 'system', kind: 'escalation', text: 'again', language: 'en' }], {
        state: 'escalated',
      });
      const reopened = await s.handoffs.openPending(100);
      expect(reopened.map((h) => h.record)).toEqual([
        expect.objectContaining({ conversationId: c.id, open: true, openedSeq: 5, deliveredSeq: 2, claimedBy: null }),
      ]);
    });

    it('lists open handoffs urgent first, then the longest waiting, gives each unclaimed one its place in that queue, and counts the unclaimed before a time', async () => {
      // A moment apart, as customers escalate: handoffs opened at the same instant are ordered by id.
      const later = () => new Promise((resolve) => setTimeout(resolve, 5));
      await s.handoffs.openPending(1000);
      const a = await escalate();
      await s.handoffs.openPending(100);
      await later();
      const b = await escalate();
      await s.handoffs.openPending(100);
      await later();
      const u = await escalate('urgent');
      await s.handoffs.openPending(100);
      await later();
      // Opened together, at one instant: the lower id first.
      const together = [await escalate(), await escalate()];
      await s.handoffs.openPending(100);
      const mine = [a.id, b.id, u.id, ...together.map((c) => c.id)];
      const listed = (await s.handoffs.listOpen()).map((h) => h.conversation.id);
      expect(listed.filter((id) => mine.includes(id))).toEqual([u.id, a.id, b.id, ...together.map((c) => c.id).sort()]);
      // Each one's place is where the agents' list shows it among the unclaimed.
      const unclaimedListed = (await s.handoffs.listOpen()).filter((h) => !h.record.claimedBy).map((h) => h.conversation.id);
      for (const id of mine) expect((await s.handoffs.queuePlace(id))?.ahead).toBe(unclaimedListed.indexOf(id));
      expect(await s.handoffs.queuePlace(u.id)).toMatchObject({ urgent: true });
      expect(await s.handoffs.queuePlace(a.id)).toMatchObject({ urgent: false });
      const unclaimed = await s.handoffs.countUnclaimedBefore(FUTURE());
      await s.handoffs.claim(b.id, { id: 'U1', name: 'Alice' });
      expect(await s.handoffs.queuePlace(b.id)).toBeUndefined();
      expect(await s.handoffs.queuePlace('not-a-conversation')).toBeUndefined();
      expect(await s.handoffs.countUnclaimedBefore(FUTURE())).toBe(unclaimed - 1);
      expect(await s.handoffs.countUnclaimedBefore(new Date(0))).toBe(0);
    });

    it('marks a reminder once per open unclaimed handoff escalated before the time, up to the limit', async () => {
      await s.handoffs.openPending(1000);
      await s.handoffs.markReminders(FUTURE(), 1000);
      const [a, b, claimed] = [await escalate(), await escalate(), await escalate()];
      await s.handoffs.openPending(100);
      await s.handoffs.claim(claimed.id, { id: 'U1', name: 'Alice' });
      expect(await s.handoffs.markReminders(new Date(0), 10)).toEqual([]);
      const first = await s.handoffs.markReminders(FUTURE(), 1);
      const rest = await s.handoffs.markReminders(FUTURE(), 10);
      expect([...first, ...rest].map((r) => r.conversationId).sort()).toEqual([a.id, b.id].sort());
      expect(first[0]?.remindedAt).toBeInstanceOf(Date);
      expect(await s.handoffs.markReminders(FUTURE(), 10)).toEqual([]);
    });

    it('only moves the delivered mark forward', async () => {
      await s.handoffs.openPending(1000);
      const c = await escalate();
      await s.handoffs.openPending(100);
      await s.handoffs.advanceDelivered(c.id, 7);
      await s.handoffs.advanceDelivered(c.id, 4);
      expect((await s.handoffs.find(c.id))?.deliveredSeq).toBe(7);
    });
  });

  describe('InboxStore', () => {
    const escalated = async (words: NewTurn[]) => {
      const c = await open();
      await s.conversations.append(c.id, [...words, { role: 'system', kind: 'escalation', text: 'handed over', language: 'en' }], { state: 'escalated' });
      await s.handoffs.openPending(1000);
      return c;
    };

    it("reads each conversation's latest message, file or edit of the customer, not their button presses", async () => {
      const a = await escalated([
        customer('first'),
        customer('latest words'),
        { role: 'customer', kind: 'action', text: screened('Talk to a human'), language: 'en' },
      ]);
      const b = await escalated([bot('no customer turn here')]);
      const latest = await s.inbox.latestCustomerTurns([a.id, b.id, '00000000-0000-4000-8000-000000000000']);
      expect([...latest.keys()]).toEqual([a.id]);
      expect(latest.get(a.id)).toMatchObject({ seq: 2, text: 'latest words', kind: 'message' });
      expect(await s.inbox.latestCustomerTurns([])).toEqual(new Map());
    });

    it('lists closed handoffs, the most recently changed first', async () => {
      const [a, b] = [await escalated([customer('a')]), await escalated([customer('b')])];
      await s.handoffs.close(b.id);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await s.handoffs.close(a.id);
      const closed = (await s.inbox.listClosed(300)).map((h) => h.conversation.id);
      expect(closed.filter((id) => [a.id, b.id].includes(id))).toEqual([a.id, b.id]);
      expect(await s.inbox.listClosed(1)).toHaveLength(1);
    });

    it('marks every open handoff and the watched ones, and changes a mark with a turn, a claim or a close', async () => {
      const c = await escalated([customer('hello')]);
      const quiet = await escalated([customer('quiet')]);
      const mark = async (watched: string[] = []) => (await s.inbox.changeMarks(watched)).get(c.id);
      const first = await mark();
      expect(first?.open).toBe(true);
      expect((await s.inbox.changeMarks([])).has(quiet.id)).toBe(true);
      expect(await mark()).toEqual(first);
      await s.conversations.append(c.id, [customer('more')]);
      const afterTurn = await mark();
      expect(afterTurn?.mark).not.toBe(first?.mark);
      await s.handoffs.claim(c.id, { id: 'U1', name: 'Alice' });
      const afterClaim = await mark();
      expect(afterClaim?.mark).not.toBe(afterTurn?.mark);
      await s.handoffs.close(c.id);
      expect(await mark()).toBeUndefined();
      const watched = await mark([c.id, 'not-a-uuid']);
      expect(watched?.open).toBe(false);
      expect(watched?.mark).not.toBe(afterClaim?.mark);
    });
  });

  describe('SecurityEventLog', () => {
    it('lists events newest first, by type and conversation, up to the limit', async () => {
      const c = await open();
      await s.events.record({ type: 'secret_removed', channel: 'web', conversationId: c.id, detail: { secretTypes: ['password'], count: 1 } });
      await s.events.record({ type: 'outbound_blocked', channel: 'model', detail: { reason: 'unlisted_contact', count: 1 } });
      await s.events.record({ type: 'secret_removed', channel: 'telegram', conversationId: c.id, detail: { secretTypes: ['recovery_phrase'], count: 1 } });
      const mine = await s.events.list({ type: 'secret_removed', conversationId: c.id });
      expect(mine.map((e) => e.channel)).toEqual(['telegram', 'web']);
      expect(mine[0]).toMatchObject({ type: 'secret_removed', conversationId: c.id, detail: { secretTypes: ['recovery_phrase'], count: 1 } });
      expect(mine[0]?.createdAt).toBeInstanceOf(Date);
      expect((mine[0]?.id ?? 0) > (mine[1]?.id ?? 0)).toBe(true);
      expect((await s.events.list({ limit: 2 })).map((e) => e.type)).toEqual(['secret_removed', 'outbound_blocked']);
    });
  });
  describe('SavedReplyStore', () => {
    it('keeps a title once per language, lists by language then title, and changes a reply only at the version named', async () => {
      const b = await s.savedReplies.create({ title: 'b withdrawal delays', language: 'en', body: 'Withdrawals can take an hour.' }, 'lead:ann');
      const a = await s.savedReplies.create({ title: 'a deposit memo', language: 'en', body: 'Add the memo.' }, 'lead:ann');
      const zh = await s.savedReplies.create({ title: 'a deposit memo', language: 'zh', body: '请填写备注。' }, 'lead:ann');
      expect(await s.savedReplies.create({ title: 'a deposit memo', language: 'en', body: 'again' }, 'lead:bo')).toBeUndefined();
      expect(b).toMatchObject({ version: 1, updatedBy: 'lead:ann' });
      expect((await s.savedReplies.list()).map((r) => [r.language, r.title])).toEqual([
        ['en', 'a deposit memo'],
        ['en', 'b withdrawal delays'],
        ['zh', 'a deposit memo'],
      ]);
      if (!a || !b || !zh) throw new Error('not created');
      const racing = await Promise.all([
        s.savedReplies.update(a.id, 1, { title: 'a deposit memo', language: 'en', body: 'first edit' }, 'lead:ann'),
        s.savedReplies.update(a.id, 1, { title: 'a deposit memo', language: 'en', body: 'second edit' }, 'lead:bo'),
      ]);
      expect(racing.filter((r) => r === 'conflict')).toHaveLength(1);
      const won = racing.find((r) => r !== 'conflict');
      expect(won).toMatchObject({ id: a.id, version: 2 });
      expect(await s.savedReplies.find(a.id)).toMatchObject({ version: 2, body: typeof won === 'object' ? won.body : '' });
      expect(await s.savedReplies.update(b.id, 1, { title: 'a deposit memo', language: 'en', body: 'x' }, 'lead:bo')).toBe('conflict');
      expect(await s.savedReplies.update(999_999, 1, { title: 'x', language: 'en', body: 'x' }, 'lead:bo')).toBeUndefined();
      expect(await s.savedReplies.remove(zh.id)).toBe(true);
      expect(await s.savedReplies.remove(zh.id)).toBe(false);
      expect(await s.savedReplies.find(zh.id)).toBeUndefined();
    });
  });
});

/**
 * The memory index is what unit tests retrieve from: its searches must rank and score as the
 * adapter's do, or a unit test would prove a behaviour PostgreSQL does not have.
 */
describe.each(testEngines())('the in-memory knowledge index against the PostgreSQL one on %s', (engine) => {
  const embedder = createLocalEmbedder();
  let memory: KnowledgeIndex;
  let pg: KnowledgeIndex;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await createTestDatabase(engine);
    drop = db.drop;
    memory = createMemoryKnowledgeIndex();
    pg = createPgKnowledgeIndex(db.database);
    const files = await readKnowledgeFiles(KNOWLEDGE_DIR);
    for (const index of [memory, pg]) await syncKnowledgeFiles(files, { index, embedder, splitPassages: createPassageSplitter() });
  });
  afterAll(() => drop());

  const QUERIES = [
    'How do I reset my password?',
    '我的提现一直没到账',
    '提现有问题',
    'what are your trading fees',
    'deposit not credited',
    '換手機了',
    'zzz qqq',
  ];

  /** The port's fields of each entry state (the adapter's rows carry more). */
  const states = async (index: KnowledgeIndex) =>
    new Map(
      [...(await index.entryStates())].map(([id, e]) => [id, { source: e.source, contentHash: e.contentHash, version: e.version, embedder: e.embedder }]),
    );

  it('stores the same entries, versions and content hashes', async () => {
    expect(await memory.listEntries()).toEqual(await pg.listEntries());
    expect(await states(memory)).toEqual(await states(pg));
    const topics = ['password-reset-en', 'withdrawal-pending-en'];
    const byId = (list: { id: string }[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(await memory.entriesOfTopics(topics))).toEqual(byId(await pg.entriesOfTopics(topics)));
  });

  it('ranks and scores every query as the adapter does: chunks, entries, centroids and idf', async () => {
    for (const query of QUERIES) {
      const terms = [...new Set(toTerms(query))];
      const [embedding] = await embedder.embed([query]);
      const [m, p] = await Promise.all([memory.search?.(terms, embedding, embedder.id, 60), pg.search?.(terms, embedding, embedder.id, 60)]);
      const shape = (hits: Array<{ entryId: string; score: number }> | undefined) => (hits ?? []).map((h) => ({ ...h, score: expect.closeTo(h.score, 9) }));
      expect(m?.vector, query).toEqual(shape(p?.vector));
      expect(m?.centroids, query).toEqual(shape(p?.centroids));
      expect(m?.lexical?.hits, query).toEqual(shape(p?.lexical?.hits));
      expect(m?.lexical?.entries.hits, query).toEqual(shape(p?.lexical?.entries.hits));
      expect([...(m?.lexical?.idf ?? [])].map(([t, v]) => [t, v === null ? null : Number(v.toFixed(9))])).toEqual(
        [...(p?.lexical?.idf ?? [])].map(([t, v]) => [t, v === null ? null : Number(v.toFixed(9))]),
      );
      expect(m?.lexical?.maxIdf).toBeCloseTo(p?.lexical?.maxIdf ?? Number.NaN, 9);
      // BM25 by statement, the other path core may take.
      expect((await memory.searchLexical(terms, 60)).hits, query).toEqual(shape((await pg.searchLexical(terms, 60)).hits));
    }
  });

  it('gives the retriever the same candidates and confidence', async () => {
    const onMemory = createRetriever({ index: memory, embedder });
    const onPg = createRetriever({ index: pg, embedder });
    for (const query of QUERIES) {
      const [m, p] = await Promise.all([onMemory.retrieve(query), onPg.retrieve(query)]);
      expect(
        m.candidates.map((c) => c.entryId),
        query,
      ).toEqual(p.candidates.map((c) => c.entryId));
      expect(m.confidence, query).toBeCloseTo(p.confidence, 6);
    }
  });

  it('bumps a changed entry to the next version and removes what a sync removes, as the adapter does', async () => {
    const files = await readKnowledgeFiles(KNOWLEDGE_DIR);
    const changed = files.map((f) => ('body' in f && f.source.endsWith('password-reset.md') ? { ...f, body: `${f.body}\n\nOne more line.` } : f));
    const fewer = changed.filter((f) => !f.source.endsWith('trading-fees.md'));
    const reports = [];
    for (const index of [memory, pg]) reports.push(await syncKnowledgeFiles(fewer, { index, embedder, splitPassages: createPassageSplitter() }));
    expect(reports[0]).toEqual(reports[1]);
    expect(reports[0]?.updated.length).toBeGreaterThan(0);
    expect(reports[0]?.removed.length).toBeGreaterThan(0);
    expect(await states(memory)).toEqual(await states(pg));
    const [m, p] = await Promise.all([memory.searchLexical(['password'], 10), pg.searchLexical(['password'], 10)]);
    expect(m.hits.map((h) => [h.entryId, h.version])).toEqual(p.hits.map((h) => [h.entryId, h.version]));
  });
});
