import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import { queryRows } from '../../src/adapters/postgres/db/database.js';
import { createPgKnowledgeIndex } from '../../src/adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { type Embedder, type KnowledgeIndex, toTerms } from '../../src/core/index.js';
import { testEngines } from '../support/databases.js';
import { useKnowledgeCopy } from '../support/knowledge.js';

/** Whether a search for two-factor setup finds its English entry, by each kind of search. */
function findsTwoFactor(index: KnowledgeIndex) {
  const local = createLocalEmbedder();
  const question = 'how do I set up two-factor authentication';
  return async () => {
    const [query] = await local.embed([question]);
    const results = await index.search?.([...new Set(toTerms(question))], query, local.id, 1000);
    return {
      lexical: results?.lexical?.hits.some((h) => h.entryId === '2fa-setup-change-en'),
      vector: results?.vector.some((h) => h.entryId === '2fa-setup-change-en'),
      centroids: results?.centroids.some((h) => h.entryId === '2fa-setup-change-en'),
    };
  };
}

describe.each(testEngines())('knowledge sync on %s', (engine) => {
  let embedCalls: number;
  const local = createLocalEmbedder();
  const counting: Embedder = {
    id: local.id,
    async embed(texts) {
      embedCalls += texts.length;
      return local.embed(texts);
    },
  };
  const kb = useKnowledgeCopy(engine, counting);
  const sync = kb.sync;

  it('ingests the whole starter knowledge base, at least 30 entries in each language', async () => {
    embedCalls = 0;
    const report = await sync();
    expect(report.problems).toEqual([]);
    const entries = await createPgKnowledgeIndex(kb.database).listEntries();
    expect(entries.filter((e) => e.lang === 'zh').length).toBeGreaterThanOrEqual(30);
    expect(entries.filter((e) => e.lang === 'en').length).toBeGreaterThanOrEqual(30);
    expect(report.added.length).toBe(entries.length);
    expect(entries.every((e) => e.version === 1)).toBe(true);
    expect(embedCalls).toBeGreaterThan(entries.length);
  });

  it('is idempotent: a second sync changes and embeds nothing', async () => {
    embedCalls = 0;
    const report = await sync();
    expect(report).toMatchObject({ added: [], updated: [], removed: [] });
    expect(embedCalls).toBe(0);
  });

  it('re-embeds only a changed entry and bumps its version', async () => {
    const path = join(kb.dir, 'en', 'trading-fees.md');
    await writeFile(path, `${await readFile(path, 'utf8')}\nFees are shown before you confirm an order.\n`);
    embedCalls = 0;
    const report = await sync();
    expect(report.updated).toEqual(['trading-fees-en']);
    expect(embedCalls).toBeGreaterThan(0);
    expect(embedCalls).toBeLessThan(20);
    const entry = (await createPgKnowledgeIndex(kb.database).listEntries()).find((e) => e.id === 'trading-fees-en');
    expect(entry?.version).toBe(2);
  });

  it('skips a malformed file with its reason, keeps its last good version, and loads the others', async () => {
    const path = join(kb.dir, 'en', 'api-keys.md');
    const original = await readFile(path, 'utf8');
    await writeFile(path, original.replace(/^lang: en$/m, 'lang: fr'));
    await writeFile(join(kb.dir, 'en', 'new-broken.md'), '---\nid: [unclosed\n---\nbody');
    const report = await sync();
    const reasons = Object.fromEntries(report.problems.map((p) => [p.source, p.reason]));
    expect(reasons['en/api-keys.md']).toMatch(/lang/);
    expect(reasons['en/new-broken.md']).toMatch(/front matter/);
    expect(report.removed).toEqual([]);
    const ids = (await createPgKnowledgeIndex(kb.database).listEntries()).map((e) => e.id);
    expect(ids).toContain('api-keys-en');
    await writeFile(path, original);
    await unlink(join(kb.dir, 'en', 'new-broken.md'));
  });

  it('removes an entry whose file was deleted', async () => {
    await unlink(join(kb.dir, 'zh', 'close-account.md'));
    await unlink(join(kb.dir, 'en', 'close-account.md'));
    const report = await sync();
    expect(report.removed.sort()).toEqual(['close-account-en', 'close-account-zh']);
    const ids = (await createPgKnowledgeIndex(kb.database).listEntries()).map((e) => e.id);
    expect(ids).not.toContain('close-account-en');
  });

  it('keeps one centroid per entry, searchable by the query vector, and drops it with its entry', async () => {
    const index = createPgKnowledgeIndex(kb.database);
    const entries = await index.listEntries();
    const [query] = await local.embed(['how do I close my account']);
    const hits = await index.searchCentroids(query ?? [], local.id, 1000);
    expect(hits.map((h) => h.entryId).sort()).toEqual(entries.map((e) => e.id).sort());
    expect(hits.map((h) => h.entryId)).not.toContain('close-account-en');
    const scores = hits.map((h) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(await index.searchCentroids(query ?? [], 'another-embedder', 10)).toEqual([]);
  });

  it("sees what another instance's sync removed and added in its next search, in memory and by statements", async () => {
    for (const replicaBudget of [undefined, { terms: 0, values: 0 }]) {
      const reader = createPgKnowledgeIndex(kb.database, { replicaBudget, generationMaxAgeMs: 0 });
      const found = findsTwoFactor(reader);
      expect(await found()).toEqual({ lexical: true, vector: true, centroids: true });
      const file = join(kb.dir, 'en', '2fa-setup-change.md');
      const text = await readFile(file, 'utf8');
      await unlink(file);
      await sync();
      expect(await found()).toEqual({ lexical: false, vector: false, centroids: false });
      await writeFile(file, text);
      await sync();
      expect(await found()).toEqual({ lexical: true, vector: true, centroids: true });
    }
  });

  it("reads the generation at most once per max age: another instance's sync shows once that age has passed", async () => {
    const patient = findsTwoFactor(createPgKnowledgeIndex(kb.database, { generationMaxAgeMs: 60_000 }));
    const eager = findsTwoFactor(createPgKnowledgeIndex(kb.database, { generationMaxAgeMs: 0 }));
    expect(await patient()).toEqual({ lexical: true, vector: true, centroids: true });
    const file = join(kb.dir, 'en', '2fa-setup-change.md');
    const text = await readFile(file, 'utf8');
    await unlink(file);
    try {
      await sync();
      expect(await eager()).toEqual({ lexical: false, vector: false, centroids: false });
      // Within its minute, the patient one still searches the copy of the generation it read.
      expect(await patient()).toEqual({ lexical: true, vector: true, centroids: true });
    } finally {
      await writeFile(file, text);
      await sync();
    }
  });

  it('re-embeds everything when the embedder changes, keeping versions', async () => {
    const other: Embedder = { id: 'local-test-other', embed: (texts) => local.embed(texts) };
    const report = await sync(other);
    const entries = await createPgKnowledgeIndex(kb.database).listEntries();
    expect(report.updated.length).toBe(entries.length);
    expect(entries.find((e) => e.id === 'trading-fees-en')?.version).toBe(2);
    const hits = await createPgKnowledgeIndex(kb.database).searchVector((await other.embed(['password']))[0] ?? [], other.id, 5);
    expect(hits.length).toBe(5);
  });

  const storage = async () =>
    (
      await queryRows<{ storage: string }>(
        kb.db,
        sql`SELECT attstorage AS storage FROM pg_attribute WHERE attrelid = 'kb_chunk'::regclass AND attname = 'embedding'`,
      )
    )[0]?.storage;

  it('keeps embeddings in the row, and still syncs and searches embeddings too large for a row or an HNSW index (3,072 dimensions)', async () => {
    // PLAIN: a k-NN scan reads each embedding from the row, not from TOAST.
    expect(await storage()).toBe('p');
    // A large model (text-embedding-3-large has 3,072 dimensions): the column goes back to TOAST first.
    const wide: Embedder = {
      id: 'test-wide-3072',
      async embed(texts) {
        const narrow = await local.embed(texts);
        return narrow.map((v) => Array.from({ length: 3072 }, (_, i) => (v[i % v.length] ?? 0) / 6));
      },
    };
    const report = await sync(wide);
    expect(report.updated.length).toBeGreaterThan(60);
    expect(await storage()).toBe('x');
    const hits = await createPgKnowledgeIndex(kb.database).searchVector((await wide.embed(['reset my password']))[0] ?? [], wide.id, 3);
    expect(hits[0]?.topic).toMatch(/^password-reset/);
  });
});
