import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHelpdesk } from '../support/helpdesk.js';
import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import { type ChunkHit, createRetriever, type EntryHit, toTerms } from '../../src/core/index.js';
import { createPgKnowledgeIndex } from '../../src/adapters/postgres/knowledge-index/pg-knowledge-index.js';
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

  const QUESTIONS = ['我的提现一直没到账', 'How do I reset my password?', 'API key', '推荐一家好吃的火锅店', 'withdrawal pending for hours', '充错链了怎么办'];

  /** Two rankings agree: scores within float precision, and the same item at each rank unless it is tied there. */
  function expectSameRanking(memory: Array<{ id: string; score: number }>, statement: Array<{ id: string; score: number }>) {
    expect(memory.length).toBe(statement.length);
    memory.forEach((m, i) => {
      const s = statement[i] as { id: string; score: number };
      // pgvector sums in single precision: over 512 components its scores differ from the
      // in-memory double sums by up to about 1e-6.
      expect(m.score).toBeCloseTo(s.score, 5);
      // Tied scores (equal within float precision) may come in either order; at the cut-off a tie
      // may admit either chunk, its partner being the first one left out.
      const last = i === statement.length - 1;
      if (m.id !== s.id) expect(last || statement.some((o, j) => j !== i && Math.abs(o.score - s.score) < 1e-5)).toBe(true);
    });
  }

  /** The same terms, unknown ones null in both, idf equal up to floating-point rounding (the sums run in another order in SQL). */
  function expectSameIdf(inMemory: Map<string, number | null> | undefined, bySql: Map<string, number | null>) {
    expect([...(inMemory?.keys() ?? [])].sort()).toEqual([...bySql.keys()].sort());
    for (const [term, idf] of bySql) {
      const mine = inMemory?.get(term);
      if (idf === null) expect(mine).toBeNull();
      else expect(mine).toBeCloseTo(idf, 12);
    }
  }

  it("searches in memory exactly as the statements do: BM25 over chunks and over entries as in SQL, chunks and centroids as pgvector's exact scan", async () => {
    const embedder = createLocalEmbedder();
    const byStatements = createPgKnowledgeIndex(t.database, { replicaBudget: { terms: 0, values: 0 } });
    for (const question of QUESTIONS) {
      const [embedding] = await embedder.embed([question]);
      const terms = [...new Set(toTerms(question))];
      const inMemory = await t.knowledge.search?.(terms, embedding, embedder.id, 60);
      const lexical = await t.knowledge.searchLexical(terms, 60);
      const vector = await t.knowledge.searchVector(embedding ?? [], embedder.id, 60);
      const centroids = await t.knowledge.searchCentroids(embedding ?? [], embedder.id, 60);
      const chunkKey = (h: ChunkHit) => ({ id: `${h.entryId} ${h.kind}`, score: h.score });
      expectSameRanking(inMemory?.lexical?.hits.map(chunkKey) ?? [], lexical.hits.map(chunkKey));
      expectSameIdf(inMemory?.lexical?.idf, lexical.idf);
      expect(inMemory?.lexical?.maxIdf).toBe(lexical.maxIdf);
      const entryKey = (h: EntryHit) => ({ id: h.entryId, score: h.score });
      expectSameRanking(inMemory?.lexical?.entries.hits.map(entryKey) ?? [], lexical.entries.hits.map(entryKey));
      expect(lexical.entries.hits.length).toBeGreaterThan(0);
      expectSameIdf(inMemory?.lexical?.entries.idf, lexical.entries.idf);
      expect(inMemory?.lexical?.entries.maxIdf).toBe(lexical.entries.maxIdf);
      expectSameRanking(inMemory?.vector.map(chunkKey) ?? [], vector.map(chunkKey));
      expect(vector.length).toBe(60);
      expectSameRanking(
        inMemory?.centroids.map((c) => ({ id: c.entryId, score: c.score })) ?? [],
        centroids.map((c) => ({ id: c.entryId, score: c.score })),
      );
      expect(inMemory?.centroids.length).toBe(Math.min(60, (await t.knowledge.listEntries()).length));
      // Over the memory budget, the same search runs as statements.
      expect(await byStatements.search?.(terms, embedding, embedder.id, 60)).toEqual({ lexical, vector, centroids: inMemory?.centroids });
    }
  });

  it('gives searches that run together (one shared statement) exactly what each gets alone', async () => {
    const questions = [
      '我的提现一直没到账',
      'How do I reset my password?',
      'what are your trading fees',
      '充错链了怎么办',
      'withdrawal pending for hours',
      '推荐一家好吃的火锅店',
      '!!!',
    ];
    const alone = [];
    for (const question of questions) alone.push(await retriever.retrieve(question));
    const together = await Promise.all(questions.map((question) => retriever.retrieve(question)));
    expect(together).toEqual(alone);
    expect(together.map((r) => r.candidates.length).filter((n) => n > 0).length).toBeGreaterThanOrEqual(5);
  });
});
