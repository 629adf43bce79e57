import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHelpdesk, wireHelpdesk } from '../support/helpdesk.js';
import { testEngines } from '../support/databases.js';

describe.each(testEngines())('greeting a channel customer with their first message on %s', (engine) => {
  let t: Awaited<ReturnType<typeof createTestHelpdesk>>;
  beforeAll(async () => {
    t = await createTestHelpdesk(engine);
  });
  afterAll(() => t.drop());

  it('stores the greeting, the first message and the reply in one append, greeting first', async () => {
    const started = await t.helpdesk.startConversation({ channel: 'telegram', externalId: 'greet-1', language: 'en', greetWithFirstTurn: true });
    expect(started.isNew).toBe(true);
    expect(started.turns).toEqual([]);
    const outcome = await t.helpdesk.handleCustomerInput({
      conversationId: started.conversation.id,
      message: t.helpdesk.screen({ text: 'How do I reset my password?' }),
      created: { conversation: started.conversation, turns: started.turns },
    });
    expect(outcome.turns.map((turn) => [turn.seq, turn.kind])).toEqual([
      [1, 'greeting'],
      [2, 'message'],
      [3, 'answer'],
    ]);
    const stored = await t.helpdesk.turns(started.conversation.id, 0);
    expect(stored.map((turn) => turn.kind)).toEqual(['greeting', 'message', 'answer']);
    // The same customer again: an existing conversation, no second greeting.
    const again = await t.helpdesk.startConversation({ channel: 'telegram', externalId: 'greet-1', language: 'en', greetWithFirstTurn: true });
    expect(again.isNew).toBe(false);
    const next = await t.helpdesk.handleCustomerInput({
      conversationId: again.conversation.id,
      message: t.helpdesk.screen({ text: 'what are your trading fees' }),
    });
    expect(next.turns.map((turn) => turn.kind)).not.toContain('greeting');
  });

  it('greets on the next input a conversation whose first input stored nothing, also after a restart', async () => {
    const started = await t.helpdesk.startConversation({ channel: 'telegram', externalId: 'greet-2', language: 'en', greetWithFirstTurn: true });
    await expect(
      t.helpdesk.handleCustomerInput({
        conversationId: started.conversation.id,
        message: t.helpdesk.screen({ text: '' }),
        created: { conversation: started.conversation, turns: [] },
      }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await t.helpdesk.turns(started.conversation.id, 0)).toEqual([]);

    // A restarted process knows nothing of the pending greeting: the conversation has no turn yet.
    const restarted = wireHelpdesk(t.database).helpdesk;
    const reopened = await restarted.startConversation({ channel: 'telegram', externalId: 'greet-2', language: 'en', greetWithFirstTurn: true });
    expect(reopened.isNew).toBe(true);
    expect(reopened.conversation.id).toBe(started.conversation.id);
    const outcome = await restarted.handleCustomerInput({
      conversationId: reopened.conversation.id,
      message: restarted.screen({ text: 'hello, my deposit has not arrived' }),
    });
    expect(outcome.turns[0]?.kind).toBe('greeting');
    expect((await restarted.turns(started.conversation.id, 0)).filter((turn) => turn.kind === 'greeting')).toHaveLength(1);
  });

  it('greets on its next update a conversation whose first input failed, in the same process', async () => {
    const first = await t.helpdesk.startConversation({ channel: 'telegram', externalId: 'greet-3', language: 'en', greetWithFirstTurn: true });
    await expect(
      t.helpdesk.handleCustomerInput({
        conversationId: first.conversation.id,
        message: t.helpdesk.screen({ text: '' }),
        created: { conversation: first.conversation, turns: [] },
      }),
    ).rejects.toMatchObject({
      code: 'invalid_input',
    });
    const second = await t.helpdesk.startConversation({ channel: 'telegram', externalId: 'greet-3', language: 'en', greetWithFirstTurn: true });
    expect(second.isNew).toBe(true);
    const outcome = await t.helpdesk.recordCustomerTurn({
      conversationId: second.conversation.id,
      kind: 'attachment',
      message: t.helpdesk.screen({ text: 'screenshot' }),
      reply: 'Got it.',
    });
    expect(outcome.turns.map((turn) => turn.kind)).toEqual(['greeting', 'attachment', 'notice']);
  });
});
