import { describe, expect, it } from 'vitest';
import { type ChangeMark, createInboxFeed, type InboxItem, matchesSearch, type Turn, toInboxFiles, toTriedEntries } from '../../src/core/index.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

const turn = (over: Partial<Turn>): Turn => ({
  conversationId: 'c',
  seq: 1,
  role: 'bot',
  kind: 'answer',
  text: '',
  language: 'en',
  data: {},
  answerMode: null,
  escalation: null,
  createdAt: new Date(0),
  ...over,
});

const item = (over: Partial<InboxItem>): InboxItem => ({
  conversationId: '6f1c2b9e-0000-4000-8000-000000000001',
  channel: 'telegram',
  customerHandle: 'Ｔｒａｄｅｒ Li',
  customerId: '70012',
  language: 'zh',
  priority: 'normal',
  reason: 'customer_requested_human',
  state: 'escalated',
  open: true,
  waitingSince: new Date(0),
  claimedBy: null,
  claimedName: null,
  lastSeq: 4,
  preview: { text: '我的提现一直没到账 TxID 0xABC', at: new Date(0), seq: 3, files: 0 },
  ...over,
});

describe("agents' inbox", () => {
  it('lists the entries the bot tried once each, cited before offered before retrieved, with titles and scores kept', () => {
    const tried = toTriedEntries([
      turn({
        seq: 2,
        data: {
          retrieval: {
            embedder: 'e',
            confidence: 0.4,
            candidates: [
              { entryId: 'a', topic: 'a', version: 1, score: 0.8 },
              { entryId: 'b', topic: 'b', version: 1, score: 0.5 },
            ],
          },
        },
      }),
      turn({ seq: 3, kind: 'clarify', data: { choices: [{ entryId: 'b', title: 'B title', topic: 'b' }] } }),
      turn({ seq: 5, data: { citations: [{ id: 'a', title: 'A title', version: 2 }] } }),
      turn({ seq: 6, role: 'customer', kind: 'message', data: { citations: [{ id: 'z', title: 'not the bot', version: 1 }] } }),
    ]);
    expect(tried).toEqual([
      { entryId: 'a', title: 'A title', how: 'cited', score: 0.8, seq: 5 },
      { entryId: 'b', title: 'B title', how: 'offered', score: 0.5, seq: 3 },
    ]);
  });

  it("lists the customer's files whatever their channel recorded, and no one else's", () => {
    const files = toInboxFiles([
      turn({
        seq: 2,
        role: 'customer',
        kind: 'attachment',
        data: {
          attachments: [
            { type: 'photo', fileId: 'x', fileSize: 10 },
            { type: 'document', fileId: 'y' },
          ],
        },
      }),
      turn({ seq: 3, role: 'agent', kind: 'message', data: { attachments: [{ type: 'photo', fileId: 'z' }] } }),
    ]);
    expect(files.map((f) => [f.seq, f.index, f.type, f.fileSize])).toEqual([
      [2, 0, 'photo', 10],
      [2, 1, 'document', null],
    ]);
  });

  it('searches the conversation id, handle, customer id and preview, folding case and full-width letters', () => {
    expect(matchesSearch(item({}), 'trader')).toBe(true);
    expect(matchesSearch(item({}), '提现')).toBe(true);
    expect(matchesSearch(item({}), '0xabc')).toBe(true);
    expect(matchesSearch(item({}), '7001')).toBe(true);
    expect(matchesSearch(item({}), '6F1C2B9E')).toBe(true);
    expect(matchesSearch(item({}), 'deposit')).toBe(false);
    expect(matchesSearch(item({ preview: null }), '提现')).toBe(false);
  });

  it('tells listeners what changed, entered or left the queue, and not what someone merely opened', async () => {
    let marks = new Map<string, ChangeMark>([['a', { open: true, mark: '1' }]]);
    const feed = createInboxFeed({
      changeMarks: async (watched) => new Map([...marks, ...(watched.includes('old') ? [['old', { open: false, mark: 'x' }] as const] : [])]),
      intervalMs: 60_000,
      logger: quiet,
    });
    const heard: string[][] = [];
    const subscription = feed.subscribe((ids) => heard.push(ids));
    const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
    await settle();
    subscription.watch(['old']);
    await settle();
    expect(heard).toEqual([]);
    marks = new Map([
      ['a', { open: true, mark: '2' }],
      ['b', { open: true, mark: '1' }],
    ]);
    feed.wake();
    await settle();
    expect(heard).toEqual([['a', 'b']]);
    marks = new Map([['b', { open: true, mark: '1' }]]);
    feed.wake();
    await settle();
    expect(heard.at(-1)).toEqual(['a']);
    subscription.close();
    await feed.stop();
  });
});
