import { describe, expect, it } from 'vitest';
import type { Turn } from '../../src/core/index.js';
import { scoreTurn, toExpectationKind, toOfferedChoices } from '../../src/evaluation/conversation-set.js';

const TOPICS: Record<string, string> = {
  'withdrawal-pending-en': 'withdrawal-pending-en',
  'withdrawal-pending-zh': 'withdrawal-pending-en',
  'withdrawal-failed-en': 'withdrawal-failed-en',
  'withdrawal-failed-zh': 'withdrawal-failed-en',
};
const topicOf = (id: string) => TOPICS[id];

let seq = 0;
function turn(role: Turn['role'], kind: string, data: Record<string, unknown> = {}, escalation: Turn['escalation'] = null): Turn {
  return {
    conversationId: 'c',
    seq: ++seq,
    role,
    kind: kind as Turn['kind'],
    text: 'x',
    language: 'en',
    data,
    answerMode: null,
    escalation,
    createdAt: new Date(0),
  };
}
const customer = (data: Record<string, unknown> = {}) => turn('customer', 'message', data);
const answer = (id: string) => turn('bot', 'answer', { citations: [{ id, title: id, version: 1 }] });
const escalation = (reason: string) => turn('system', 'escalation', {}, { reason: reason as never, priority: 'normal', detail: '' });
const clarify = (...ids: string[]) => turn('bot', 'clarify', { choices: ids.map((entryId) => ({ entryId, title: entryId })) });

describe('scoreTurn', () => {
  it('counts an answer citing the expected entry or its translation, and nothing else', () => {
    expect(
      scoreTurn({ expect: { answer: ['withdrawal-pending-en'] }, escalatedBefore: false, turns: [customer(), answer('withdrawal-pending-zh')], topicOf })
        .correct,
    ).toBe(true);
    expect(
      scoreTurn({ expect: { answer: ['withdrawal-pending-en'] }, escalatedBefore: false, turns: [customer(), answer('withdrawal-failed-en')], topicOf }),
    ).toEqual({
      correct: false,
      got: 'answered: withdrawal-failed-en',
    });
    // An answer followed by a handoff is a handoff.
    expect(
      scoreTurn({
        expect: { answer: ['withdrawal-pending-en'] },
        escalatedBefore: false,
        turns: [customer(), answer('withdrawal-pending-en'), escalation('sensitive_topic')],
        topicOf,
      }).correct,
    ).toBe(false);
  });

  it('counts a handoff only with one of the expected reasons', () => {
    expect(scoreTurn({ expect: { escalate: ['scam_report'] }, escalatedBefore: false, turns: [customer(), escalation('scam_report')], topicOf }).correct).toBe(
      true,
    );
    expect(scoreTurn({ expect: { escalate: ['scam_report'] }, escalatedBefore: false, turns: [customer(), escalation('low_confidence')], topicOf })).toEqual({
      correct: false,
      got: 'escalated: low_confidence',
    });
  });

  it('counts small talk by the act recorded on the customer turn or the reply, without a handoff', () => {
    const reply = turn('bot', 'small_talk', { dialogueAct: 'greeting' });
    expect(scoreTurn({ expect: { smallTalk: 'greeting' }, escalatedBefore: false, turns: [customer(), reply], topicOf }).correct).toBe(true);
    expect(
      scoreTurn({ expect: { smallTalk: 'greeting' }, escalatedBefore: false, turns: [customer({ dialogueAct: 'greeting' }), turn('bot', 'notice')], topicOf })
        .correct,
    ).toBe(true);
    expect(scoreTurn({ expect: { smallTalk: 'thanks' }, escalatedBefore: false, turns: [customer(), reply], topicOf }).correct).toBe(false);
    expect(scoreTurn({ expect: { smallTalk: 'greeting' }, escalatedBefore: false, turns: [customer(), escalation('low_confidence')], topicOf }).correct).toBe(
      false,
    );
  });

  it('counts a clarifying turn when it offers choices, one of them expected when entries are named', () => {
    expect(scoreTurn({ expect: { clarify: [] }, escalatedBefore: false, turns: [customer(), clarify('withdrawal-failed-zh')], topicOf }).correct).toBe(true);
    expect(
      scoreTurn({
        expect: { clarify: ['withdrawal-pending-en'] },
        escalatedBefore: false,
        turns: [customer(), clarify('withdrawal-failed-en', 'withdrawal-pending-zh')],
        topicOf,
      }).correct,
    ).toBe(true);
    expect(
      scoreTurn({ expect: { clarify: ['withdrawal-pending-en'] }, escalatedBefore: false, turns: [customer(), clarify('withdrawal-failed-en')], topicOf }),
    ).toEqual({
      correct: false,
      got: 'clarified: withdrawal-failed-en',
    });
    expect(scoreTurn({ expect: { clarify: [] }, escalatedBefore: false, turns: [customer(), escalation('low_confidence')], topicOf }).correct).toBe(false);
  });

  it('counts a forwarded message only while the conversation was with humans', () => {
    expect(scoreTurn({ expect: { forward: true }, escalatedBefore: true, turns: [customer()], topicOf }).correct).toBe(true);
    expect(scoreTurn({ expect: { forward: true }, escalatedBefore: true, turns: [customer(), turn('bot', 'notice')], topicOf }).correct).toBe(true);
    expect(scoreTurn({ expect: { forward: true }, escalatedBefore: false, turns: [customer(), answer('withdrawal-failed-en')], topicOf }).correct).toBe(false);
  });
});

describe('the clarify contract', () => {
  it('reads the choices of a bot turn of kind clarify, and none of any other turn', () => {
    expect(toOfferedChoices(clarify('withdrawal-pending-en'))).toEqual([{ entryId: 'withdrawal-pending-en', title: 'withdrawal-pending-en' }]);
    expect(toOfferedChoices(answer('withdrawal-pending-en'))).toEqual([]);
    expect(toOfferedChoices(turn('bot', 'clarify', { choices: 'not a list' }))).toEqual([]);
  });

  it('counts a pick among offered choices as a choice turn whatever it expects', () => {
    expect(toExpectationKind({ choose: 'withdrawal-pending-en' }, { answer: ['withdrawal-pending-en'] })).toBe('choice');
    expect(toExpectationKind({ choose: null }, { escalate: ['low_confidence'] })).toBe('choice');
    expect(toExpectationKind('hi', { smallTalk: 'greeting' })).toBe('smallTalk');
  });
});
