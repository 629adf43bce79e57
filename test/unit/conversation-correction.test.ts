import { describe, expect, it } from 'vitest';
import { toCorrectedQuery } from '../../src/core/conversation/follow-up.js';
import type { Turn } from '../../src/core/index.js';

let seq = 0;
const turn = (role: Turn['role'], kind: Turn['kind'], text: string, data: Turn['data'] = {}): Turn => ({
  conversationId: 'c',
  seq: ++seq,
  role,
  kind,
  text,
  language: 'en',
  data,
  answerMode: null,
  escalation: null,
  createdAt: new Date(0),
});
const answeredWith = (topic: string) =>
  turn('bot', 'answer', 'an answer', {
    retrieval: { confidence: 0.9, embedder: 'local', candidates: [{ topic, entryId: `${topic}-en`, version: 1, score: 1 }] },
  });

describe('toCorrectedQuery: a customer correcting their own previous question', () => {
  it('swaps the word taken back in the previous question and names the entry answered to it', () => {
    const recent = [turn('customer', 'message', 'my deposit hasnt arrived'), answeredWith('deposit-not-credited')];
    expect(toCorrectedQuery(recent, 'sorry i meant my withdrawal, not deposit')).toEqual({
      query: 'my withdrawal hasnt arrived',
      takenBackTopic: 'deposit-not-credited',
    });
    expect(toCorrectedQuery(recent, 'not deposit but withdrawal')?.query).toBe('my withdrawal hasnt arrived');
  });

  it('reads Chinese corrections in either order', () => {
    const recent = [turn('customer', 'message', '入金沒到'), answeredWith('deposit-not-credited')];
    expect(toCorrectedQuery(recent, '不好意思，我是說出金，不是入金')?.query).toBe('出金沒到');
    expect(toCorrectedQuery(recent, '不是入金，是出金')?.query).toBe('出金沒到');
  });

  it('is no correction when the previous question does not hold the word taken back', () => {
    const recent = [turn('customer', 'message', 'how do I reset my password'), answeredWith('password-reset')];
    expect(toCorrectedQuery(recent, 'I meant withdrawal, not deposit')).toBeUndefined();
  });

  it('is no correction for a sentence that only says "not"', () => {
    const recent = [turn('customer', 'message', 'my deposit hasnt arrived'), answeredWith('deposit-not-credited')];
    expect(toCorrectedQuery(recent, 'the deposit is not there yet')).toBeUndefined();
    expect(toCorrectedQuery(recent, '充值还不是没到')).toBeUndefined();
  });

  it('skips small talk when looking for the question being corrected', () => {
    const recent = [
      turn('customer', 'message', 'my deposit hasnt arrived'),
      answeredWith('deposit-not-credited'),
      turn('customer', 'message', 'ok', { dialogueAct: 'acknowledgement' }),
    ];
    expect(toCorrectedQuery(recent, 'wait, I meant withdrawal, not deposit')?.query).toBe('my withdrawal hasnt arrived');
  });
});
