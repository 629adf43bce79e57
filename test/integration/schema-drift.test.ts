import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { is, sql } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, queryRows } from '../../src/adapters/postgres/db/database.js';
import * as schema from '../../src/adapters/postgres/schema/index.js';
import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import { createTestDatabase, type Engine, testEngines } from '../support/databases.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const SCHEMA_ENTRY = join(ROOT, 'src/adapters/postgres/schema/index.ts');

const tables = (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));

describe('drizzle migrations', () => {
  it('drizzle-kit generate finds nothing to migrate: the snapshots know every table of the schema', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'drift-'));
    try {
      await cp(MIGRATIONS_FOLDER, join(dir, 'drizzle'), { recursive: true });
      const before = (await readdir(join(dir, 'drizzle'))).sort();
      const { stdout } = await run(
        join(ROOT, 'node_modules/.bin/drizzle-kit'),
        ['generate', '--dialect', 'postgresql', '--schema', SCHEMA_ENTRY, '--out', './drizzle'],
        { cwd: dir, env: { ...process.env, FORCE_COLOR: '0' } },
      );
      const after = (await readdir(join(dir, 'drizzle'))).sort();
      expect(after, `drizzle-kit wrote a migration: the schema and drizzle/ disagree\n${stdout}`).toEqual(before);
      expect(stdout).toContain('No schema changes');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('lists every migration file in the journal, with strictly increasing timestamps', async () => {
    const journal = JSON.parse(await readFile(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
      entries: Array<{ idx: number; when: number; tag: string }>;
    };
    const files = (await readdir(MIGRATIONS_FOLDER))
      .filter((f) => f.endsWith('.sql'))
      .map((f) => f.slice(0, -4))
      .sort();
    expect(journal.entries.map((e) => e.tag)).toEqual(files);
    journal.entries.forEach((e, i) => {
      expect(e.idx).toBe(i);
      // The migrator skips a migration whose timestamp is older than the last one applied.
      if (i > 0) expect(e.when).toBeGreaterThan(journal.entries[i - 1]?.when ?? 0);
    });
    const snapshots = (await readdir(join(MIGRATIONS_FOLDER, 'meta'))).filter((f) => f.endsWith('_snapshot.json'));
    expect(snapshots).toHaveLength(files.length);
  });

  it("declares the offline embedder's vector index for the embedder the product really uses", () => {
    const local = createLocalEmbedder();
    expect(schema.OFFLINE_EMBEDDER).toEqual({ id: local.id, dimensions: local.dimensions });
  });
});

type Shape = { tables: Record<string, { columns: string[]; constraints: string[]; indexes: string[] }> };

/** Tables, columns (type, null, default), constraints and indexes as the schema declares them. */
function declaredShape(): Shape {
  const shape: Shape = { tables: {} };
  for (const table of tables) {
    const config = getTableConfig(table);
    const columns = config.columns.map((c) => {
      const type = c
        .getSQLType()
        .replace(/^bigserial$/, 'bigint')
        .replace(/^serial$/, 'integer');
      const hasDefault = c.hasDefault || /serial$/.test(c.getSQLType());
      return `${c.name} ${type}${c.notNull ? ' not null' : ''}${hasDefault ? ' default' : ''}`;
    });
    const primary = config.columns.filter((c) => c.primary).map(() => `p ${config.name}_pkey`);
    const constraints = [
      ...primary,
      ...config.primaryKeys.map((pk) => `p ${pk.getName()}`),
      ...config.foreignKeys.map((fk) => `f ${fk.getName()}`),
      ...config.checks.map((ck) => `c ${ck.name}`),
      ...config.uniqueConstraints.map((u) => `u ${u.getName()}`),
    ];
    const indexes = config.indexes.map((i) => `${i.config.unique ? 'unique ' : ''}${i.config.name}`);
    shape.tables[config.name] = { columns: columns.sort(), constraints: constraints.sort(), indexes: indexes.sort() };
  }
  return shape;
}

/** The same, read from the catalog of a migrated database (constraint-backing indexes left out). */
async function actualShape(db: Parameters<typeof queryRows>[0]): Promise<Shape> {
  const columns = await queryRows<{ table: string; column: string; type: string; not_null: boolean; has_default: boolean }>(
    db,
    sql`SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
               a.attnotnull AS not_null, a.atthasdef AS has_default
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  const constraints = await queryRows<{ table: string; type: string; name: string }>(
    db,
    sql`SELECT c.relname AS table, k.contype::text AS type, k.conname AS name
          FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND k.contype IN ('p', 'f', 'c', 'u')`,
  );
  const indexes = await queryRows<{ table: string; name: string; unique: boolean }>(
    db,
    sql`SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique
          FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)`,
  );
  const shape: Shape = { tables: {} };
  const of = (name: string) => (shape.tables[name] ??= { columns: [], constraints: [], indexes: [] });
  for (const c of columns) of(c.table).columns.push(`${c.column} ${c.type}${c.not_null ? ' not null' : ''}${c.has_default ? ' default' : ''}`);
  for (const k of constraints) of(k.table).constraints.push(`${k.type} ${k.name}`);
  for (const i of indexes) of(i.table).indexes.push(`${i.unique ? 'unique ' : ''}${i.name}`);
  for (const t of Object.values(shape.tables)) {
    t.columns.sort();
    t.constraints.sort();
    t.indexes.sort();
  }
  return shape;
}

describe.each(testEngines())('the migrated database on %s', (engine: Engine) => {
  let test: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    test = await createTestDatabase(engine);
  });
  afterAll(() => test?.drop());

  it('has exactly the tables, columns, constraints and indexes the schema declares', async () => {
    expect(await actualShape(test.database.db)).toEqual(declaredShape());
  });
});
