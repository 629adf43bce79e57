import { readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../src/adapters/postgres/db/database.js';
import { createPgKnowledgeIndex } from '../../src/adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { toTerms } from '../../src/core/index.js';
import { testEngines } from '../support/databases.js';
import { useKnowledgeCopy } from '../support/knowledge.js';

/** BM25's corpus figures are kept in kb_stats by triggers (drizzle/0010): always what kb_chunk holds. */
describe.each(testEngines())('BM25 corpus figures on %s', (engine) => {
  const kb = useKnowledgeCopy(engine);
  const sync = () => kb.sync();
  const figures = async () => {
    const [row] = await queryRows<{ stored: string; actual: string }>(
      kb.db,
      sql`SELECT (SELECT chunks || ':' || terms FROM kb_stats WHERE id = 1) AS stored,
                 (SELECT count(*) || ':' || coalesce(sum(term_count), 0) FROM kb_chunk) AS actual`,
    );
    return row as { stored: string; actual: string };
  };

  it('match kb_chunk after a first sync, a change, a removal and direct changes', async () => {
    expect(await figures()).toEqual({ stored: '0:0', actual: '0:0' });
    await sync();
    let f = await figures();
    expect(f.stored).toBe(f.actual);
    expect(f.actual).not.toBe('0:0');
    const [a, b] = (await readdir(join(kb.dir, 'en'))).filter((n) => n.endsWith('.md')).sort();
    const changed = join(kb.dir, 'en', a as string);
    await writeFile(changed, `${await readFile(changed, 'utf8')}\nA further paragraph with several more words in it.\n`);
    await unlink(join(kb.dir, 'en', b as string));
    await sync();
    f = await figures();
    expect(f.stored).toBe(f.actual);
    await kb.db.execute(sql`UPDATE kb_chunk SET term_count = term_count + 2 WHERE id IN (SELECT id FROM kb_chunk ORDER BY id LIMIT 3)`);
    await kb.db.execute(sql`DELETE FROM kb_entry WHERE id = (SELECT min(id) FROM kb_entry)`);
    f = await figures();
    expect(f.stored).toBe(f.actual);
  });

  it('give the same BM25 figures as counting the chunks', async () => {
    const index = createPgKnowledgeIndex(kb.database);
    const terms = toTerms('How do I reset my password? 我的提现一直没到账');
    const found = await index.searchLexical(terms, 20);
    const [row] = await queryRows<{ n: number }>(kb.db, sql`SELECT count(*)::float8 AS n FROM kb_chunk`);
    expect(found.maxIdf).toBe(Math.log(1 + ((row?.n ?? 0) - 1 + 0.5) / 1.5));
    expect(found.hits.length).toBeGreaterThan(0);
    expect(found.hits.map((h) => h.score)).toEqual([...found.hits.map((h) => h.score)].sort((x, y) => y - x));
  });
});
