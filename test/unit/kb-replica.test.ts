import { describe, expect, it } from 'vitest';
import { buildLexicalReplica, nearestByCosine, searchLexicalReplica, toCosineIndex } from '../../src/adapters/postgres/knowledge-index/kb-replica.js';

describe('the knowledge base copy in memory', () => {
  it('ranks by cosine exactly as a dense scan, best first, ties by position, zero vectors nowhere', () => {
    const vectors = [
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 0],
      [1, 1, 0, 0],
      [0, 1, 0, 0],
      [-1, 0, 0.5, 0],
    ];
    const index = toCosineIndex(vectors, 4);
    const query = [0, 2, 0, 0];
    const dense = vectors
      .map((v, at) => {
        const dot = v.reduce((sum, x, d) => sum + x * (query[d] as number), 0);
        const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0) * 4);
        return { at, score: norm > 0 ? dot / norm : NaN };
      })
      .filter((h) => !Number.isNaN(h.score))
      .sort((a, b) => b.score - a.score || a.at - b.at);
    expect(nearestByCosine(index, query, 10)).toEqual(dense);
    expect(nearestByCosine(index, query, 2)).toEqual([
      { at: 0, score: 1 },
      { at: 4, score: 1 },
    ]);
    expect(nearestByCosine(index, [0, 0, 0, 0], 10)).toEqual([]);
  });

  it('keeps the best k of many with a heap: the same as sorting them all', () => {
    const vectors = Array.from({ length: 500 }, (_, i) => [Math.sin(i), Math.cos(i * 7), (i % 13) / 13, i % 2]);
    const index = toCosineIndex(vectors, 4);
    const query = [0.3, -0.2, 0.9, 0.1];
    const all = nearestByCosine(index, query, 500);
    expect(all).toHaveLength(500);
    for (const k of [1, 7, 60]) expect(nearestByCosine(index, query, k)).toEqual(all.slice(0, k));
  });

  it('scores BM25 as the statement does: idf from df, length-normalized tf, unknown terms ignored, ties by chunk id', () => {
    const stats = { chunks: 3, terms: 12, entries: 3, entryTerms: 4 };
    const rows: Parameters<typeof buildLexicalReplica>[1] = [
      [
        10,
        'a-en',
        'a',
        1,
        'question',
        2,
        [
          ['fee', 1],
          ['trade', 1],
        ],
      ],
      [
        11,
        'b-en',
        'b',
        2,
        'passage',
        8,
        [
          ['fee', 2],
          ['withdraw', 3],
          ['card', 3],
        ],
      ],
      [
        12,
        'c-en',
        'c',
        1,
        'question',
        2,
        [
          ['fee', 1],
          ['trade', 1],
        ],
      ],
    ];
    const replica = buildLexicalReplica(stats, rows);
    const k1 = 1.2;
    const b = 0.75;
    const result = searchLexicalReplica(replica, ['trade', 'fee', 'nothing', 'fee'], 10, { k1, b });
    const idf = (df: number) => Math.log(1 + (3 - df + 0.5) / (df + 0.5));
    const part = (term: number, tf: number, len: number) => (term * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * len) / 4));
    expect(result.n).toBe(3);
    expect(result.terms).toEqual([
      ['fee', 3, idf(3)],
      ['trade', 2, idf(2)],
    ]);
    const short = part(idf(3), 1, 2) + part(idf(2), 1, 2);
    expect(result.hits).toEqual([
      ['a-en', 'a', 1, 'question', short],
      ['c-en', 'c', 1, 'question', short],
      ['b-en', 'b', 2, 'passage', part(idf(3), 2, 8)],
    ]);
    expect(searchLexicalReplica(replica, ['trade', 'fee'], 1, { k1, b }).hits).toEqual([['a-en', 'a', 1, 'question', short]]);
    // The best k whatever order the chunks were loaded in: a tie at the cut goes to the lower chunk id.
    const loadedBackwards = buildLexicalReplica(stats, [...rows].reverse());
    expect(searchLexicalReplica(loadedBackwards, ['trade', 'fee'], 1, { k1, b }).hits).toEqual([['a-en', 'a', 1, 'question', short]]);
    expect(searchLexicalReplica(loadedBackwards, ['trade', 'fee'], 1, { k1, b }).entry_hits).toEqual([['a-en', 'a', expect.any(Number)]]);
    expect(searchLexicalReplica(replica, ['nothing'], 10, { k1, b })).toEqual({ n: 3, terms: null, hits: null, e: 3, entry_terms: null, entry_hits: null });
  });

  it('scores whole entries by BM25 as the statement does: titles and questions summed per entry, passages left out, ties by entry id', () => {
    // Entry a: a title and two questions (3 + 2 + 3 terms); b: a title and a passage; c: one question.
    const replica = buildLexicalReplica({ chunks: 6, terms: 23, entries: 3, entryTerms: 12 }, [
      [
        1,
        'a-en',
        'a',
        1,
        'title',
        3,
        [
          ['card', 1],
          ['declin', 1],
          ['payment', 1],
        ],
      ],
      [
        2,
        'a-en',
        'a',
        1,
        'question',
        2,
        [
          ['card', 1],
          ['refus', 1],
        ],
      ],
      [
        3,
        'a-en',
        'a',
        1,
        'question',
        3,
        [
          ['payment', 1],
          ['declin', 1],
          ['shop', 1],
        ],
      ],
      [
        4,
        'b-en',
        'b',
        2,
        'title',
        2,
        [
          ['card', 1],
          ['lost', 1],
        ],
      ],
      [
        5,
        'b-en',
        'b',
        2,
        'passage',
        11,
        [
          ['refus', 5],
          ['payment', 6],
        ],
      ],
      [
        6,
        'c-en',
        'c',
        1,
        'question',
        2,
        [
          ['card', 1],
          ['lost', 1],
        ],
      ],
    ]);
    const k1 = 1.2;
    const b = 0.75;
    const avgdl = 12 / 3;
    const idf = (df: number) => Math.log(1 + (3 - df + 0.5) / (df + 0.5));
    const part = (termIdf: number, tf: number, len: number) => (termIdf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * len) / avgdl));
    const result = searchLexicalReplica(replica, ['refus', 'card', 'payment'], 10, { k1, b });
    expect(result.e).toBe(3);
    expect(result.entry_terms).toEqual([
      ['card', 3, idf(3)],
      ['payment', 1, idf(1)],
      ['refus', 1, idf(1)],
    ]);
    // The passage's "refus" and "payment" count for chunk BM25 only: entry b matches by "card" alone.
    expect(result.entry_hits).toEqual([
      ['a-en', 'a', part(idf(3), 2, 8) + part(idf(1), 2, 8) + part(idf(1), 1, 8)],
      ['b-en', 'b', part(idf(3), 1, 2)],
      ['c-en', 'c', part(idf(3), 1, 2)],
    ]);
    expect(searchLexicalReplica(replica, ['card'], 2, { k1, b }).entry_hits?.map(([entryId]) => entryId)).toEqual(['b-en', 'c-en']);
  });
});
