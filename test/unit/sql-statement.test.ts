import { describe, expect, it } from 'vitest';
import { statement, valuesOf } from '../../src/adapters/postgres/db/statement.js';

describe('statements with named parameters', () => {
  it('numbers each name once, in order of first appearance, and binds a repeated name to one value', () => {
    const st = statement<{ ids: string[]; limit: number }>('SELECT id FROM t WHERE id = ANY(:ids::uuid[]) AND n < :limit OR id = ANY(:ids::uuid[])');
    expect(st.text).toBe('SELECT id FROM t WHERE id = ANY($1::uuid[]) AND n < $2 OR id = ANY($1::uuid[])');
    expect(st.names).toEqual(['ids', 'limit']);
    expect(valuesOf(st, { limit: 5, ids: ['a'] })).toEqual([['a'], 5]);
  });

  it('leaves casts, quoted literals and quoted identifiers alone', () => {
    const st = statement<{ id: number }>(`SELECT x::text || ':not' AS "a:b", 'it''s :quoted' FROM t WHERE id = :id::bigint`);
    expect(st.text).toBe(`SELECT x::text || ':not' AS "a:b", 'it''s :quoted' FROM t WHERE id = $1::bigint`);
    expect(st.names).toEqual(['id']);
  });

  it('refuses to run without a value for every name, and names the same text the same way', () => {
    const st = statement<{ a: number; b: number }>('SELECT :a + :b');
    expect(() => valuesOf(st, { a: 1 } as { a: number; b: number })).toThrow(':b has no value');
    expect(statement('SELECT :a + :b').name).toBe(st.name);
    expect(statement('SELECT :a - :b').name).not.toBe(st.name);
  });
});
