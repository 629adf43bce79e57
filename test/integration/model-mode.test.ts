import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIAnswerer } from '../../src/adapters/openai/openai-answerer.js';
import { createOpenAIClient } from '../../src/adapters/openai/openai-client.js';
import { createOpenAIEmbedder } from '../../src/adapters/openai/openai-embedder.js';
import { startFakeOpenAI } from '../stand-ins/fake-openai.js';
import { createTestHelpdesk } from '../support/helpdesk.js';

describe('model mode through the openai SDK against a local stand-in', () => {
  let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
  let t: Awaited<ReturnType<typeof createTestHelpdesk>>;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const client = createOpenAIClient({ apiKey: 'test-key', baseUrl: fake.baseUrl, timeoutMs: 1500 });
    t = await createTestHelpdesk('pglite', { answerer: createOpenAIAnswerer(client, { model: 'test-model', exchangeName: 'ExampleX' }) });
  });
  afterAll(async () => {
    await t.drop();
    await fake.close();
  });

  const ask = async (text: string) => {
    const { conversation } = await t.helpdesk.startConversation({ channel: 'web' });
    return t.helpdesk.handleCustomerInput({ conversationId: conversation.id, message: t.helpdesk.screen({ text }) });
  };

  it('writes a grounded answer from the retrieved entries and cites them', async () => {
    fake.script({ kind: 'reply', content: 'Use "Forgot password" on the login page. [password-reset-en]' });
    const result = await ask('How do I reset my password?');
    const answer = result.turns.at(-1);
    expect(answer).toMatchObject({ role: 'bot', answerMode: 'model', text: 'Use "Forgot password" on the login page.' });
    expect(answer?.data.citations?.map((c) => c.id)).toEqual(['password-reset-en']);
    const request = fake.requests.at(-1);
    const prompt = JSON.stringify(request?.body.messages);
    expect(prompt).toContain('password-reset-en');
    expect(prompt).toContain('How do I reset my password?');
  });

  it('offers the closest entries when the model finds no answer in them, and escalates on the second miss', async () => {
    fake.script({ kind: 'reply', content: 'NO_ANSWER' }, { kind: 'reply', content: 'NO_ANSWER' });
    const result = await ask('How do I reset my password?');
    expect(result.outcome).toBe('clarified');
    expect(result.turns.at(-1)?.data.choices?.map((c) => c.entryId)).toContain('password-reset-en');
    const again = await t.helpdesk.handleCustomerInput({
      conversationId: result.conversation.id,
      message: t.helpdesk.screen({ text: 'How can I change my password?' }),
    });
    expect(again.outcome).toBe('escalated');
    expect(again.turns.at(-1)?.escalation?.reason).toBe('low_confidence');
  });

  it('falls back to the offline answer when the model fails', async () => {
    fake.script({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const result = await ask('How do I reset my password?');
    const answer = result.turns.at(-1);
    expect(answer).toMatchObject({ role: 'bot', answerMode: 'fallback' });
    expect(answer?.data.citations?.[0]?.id).toBe('password-reset-en');
  });

  it('falls back to the offline answer when the model times out', async () => {
    fake.script({ kind: 'delay', ms: 4000, content: 'late' }, { kind: 'delay', ms: 4000, content: 'late' });
    const result = await ask('What are the trading fees?');
    expect(result.turns.at(-1)?.answerMode).toBe('fallback');
  });

  it('never calls the model for a question retrieval cannot ground', async () => {
    const before = fake.requests.length;
    const result = await ask('Can you recommend a pizza place in Rome?');
    expect(result.outcome).toBe('clarified');
    expect(fake.requests.length).toBe(before);
  });

  it('asks the embeddings API for floats and returns one vector per text', async () => {
    const client = createOpenAIClient({ apiKey: 'test-key', baseUrl: fake.baseUrl, timeoutMs: 1500 });
    const embedder = createOpenAIEmbedder(client, 'test-embed');
    const vectors = await embedder.embed(['提现', 'withdrawal pending']);
    expect(vectors).toHaveLength(2);
    expect(vectors[0]).toHaveLength(64);
    expect(fake.requests.at(-1)?.body.encoding_format).toBe('float');
  });

  it('escalates with model_failure when the embedding model is down', async () => {
    const client = createOpenAIClient({ apiKey: 'test-key', baseUrl: fake.baseUrl, timeoutMs: 1500 });
    const withModelEmbedder = await createTestHelpdesk('pglite', { embedder: createOpenAIEmbedder(client, 'test-embed') });
    try {
      fake.setEmbeddingsDown(true);
      const { conversation } = await withModelEmbedder.helpdesk.startConversation({ channel: 'web' });
      const result = await withModelEmbedder.helpdesk.handleCustomerInput({
        conversationId: conversation.id,
        message: withModelEmbedder.helpdesk.screen({ text: 'How do I reset my password?' }),
      });
      expect(result.outcome).toBe('escalated');
      expect(result.turns.at(-1)?.escalation?.reason).toBe('model_failure');
    } finally {
      fake.setEmbeddingsDown(false);
      await withModelEmbedder.drop();
    }
  });
});
