import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHelpdesk } from '../support/helpdesk.js';
import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import { createRetriever } from '../../src/core/index.js';
import { testEngines } from '../support/databases.js';

describe.each(testEngines())('hybrid retrieval on %s', (engine) => {
  let t: Awaited<ReturnType<typeof createTestHelpdesk>>;
  let retriever: ReturnType<typeof createRetriever>;
  beforeAll(async () => {
    t = await createTestHelpdesk(engine);
    retriever = createRetriever({ index: t.knowledge, embedder: createLocalEmbedder() });
  });
  afterAll(() => t.drop());

  it.each([
    ['我的提现一直没到账', 'withdrawal-pending'],
    ['充错链了怎么办', 'deposit-wrong-network'],
    ['忘记密码了怎么办', 'password-reset'],
    ['How do I reset my password?', 'password-reset'],
    ['I sent XRP without the tag', 'deposit-missing-memo'],
    ['what are your trading fees', 'trading-fees'],
    ['提現記錄在哪裡看', 'transaction-history'],
    ['身份认证审核没通过是什么原因？', 'kyc-rejected-or-pending'],
    ['My BTC deposit has not arrived after 2 hours', 'deposit-not-credited'],
  ])('finds the right entry for "%s" with confidence above the threshold', async (question, slug) => {
    const result = await retriever.retrieve(question);
    expect(result.candidates[0]?.topic.replace(/-(en|zh)$/, '')).toBe(slug);
    expect(result.confidence).toBeGreaterThanOrEqual(0.5);
  });

  it('ranks the deposit entry, not the withdrawal one, first for a Chinese deposit that has not arrived', async () => {
    const result = await retriever.retrieve('我的充值两个小时了还没到账怎么办？');
    expect(result.candidates[0]?.topic).toBe('deposit-not-credited-en');
    expect(result.candidates[1]?.topic).toBe('withdrawal-pending-en');
  });

  it('gives questions the knowledge base does not cover a low confidence', async () => {
    for (const question of ['what is the weather in Paris tomorrow', '推荐一家好吃的火锅店']) {
      const result = await retriever.retrieve(question);
      expect(result.confidence).toBeLessThan(0.5);
    }
  });

  it('returns one candidate per topic, best first, with scores in [0,1]', async () => {
    const result = await retriever.retrieve('withdrawal pending for hours');
    const topics = result.candidates.map((c) => c.topic);
    expect(new Set(topics).size).toBe(topics.length);
    for (const c of result.candidates) expect(c.score).toBeGreaterThanOrEqual(0);
    expect(result.confidence).toBeGreaterThanOrEqual(0);
    expect(result.confidence).toBeLessThanOrEqual(1);
    const scores = result.candidates.map((c) => c.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("ranks entries by centroid in memory exactly as pgvector's exact scan does, scores within float precision", async () => {
    const embedder = createLocalEmbedder();
    for (const question of ['我的提现一直没到账', 'How do I reset my password?', 'API key', '推荐一家好吃的火锅店']) {
      const [embedding] = await embedder.embed([question]);
      const nearest = await t.knowledge.searchNearest?.(embedding ?? [], embedder.id, 60);
      const exact = await t.knowledge.searchCentroids(embedding ?? [], embedder.id, 60);
      expect(nearest?.centroids.map((c) => c.entryId)).toEqual(exact.map((c) => c.entryId));
      nearest?.centroids.forEach((c, i) => expect(c.score).toBeCloseTo(exact[i]?.score ?? NaN, 6));
      expect(nearest?.centroids.length).toBe(Math.min(60, (await t.knowledge.listEntries()).length));
    }
  });

  it('gives searches that run together (one shared statement) exactly what each gets alone', async () => {
    const questions = ['我的提现一直没到账', 'How do I reset my password?', 'what are your trading fees', '充错链了怎么办', 'withdrawal pending for hours', '推荐一家好吃的火锅店', '!!!'];
    const alone = [];
    for (const question of questions) alone.push(await retriever.retrieve(question));
    const together = await Promise.all(questions.map((question) => retriever.retrieve(question)));
    expect(together).toEqual(alone);
    expect(together.map((r) => r.candidates.length).filter((n) => n > 0).length).toBeGreaterThanOrEqual(5);
  });
});
