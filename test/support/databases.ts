import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadContentKeys } from '../../src/adapters/postgres/db/content-keys.js';
import { type Database, openDatabase } from '../../src/adapters/postgres/db/database.js';

export type Engine = 'pglite' | 'postgres';

const ADMIN_URL = process.env.TEST_DATABASE_URL;

/**
 * Engines to run database tests on. PostgreSQL needs TEST_DATABASE_URL (a role that may create
 * databases); in CI its absence fails the run loudly instead of skipping silently.
 */
export function testEngines(): Engine[] {
  if (ADMIN_URL) return ['pglite', 'postgres'];
  if (process.env.CI) throw new Error('TEST_DATABASE_URL is not set: CI must run the PostgreSQL tests (see .ci/run).');
  console.warn('TEST_DATABASE_URL is not set: PostgreSQL tests are skipped (PGlite tests still run).');
  return ['pglite'];
}

/** A fresh, migrated database: an in-memory PGlite, or a new database on the test PostgreSQL server. */
export async function createTestDatabase(engine: Engine): Promise<{ database: Database; url: string | undefined; drop(): Promise<void> }> {
  if (engine === 'pglite') {
    const database = await openDatabase({ dataDir: 'memory://' });
    await database.migrate();
    return { database, url: undefined, drop: () => database.close() };
  }
  const empty = await createEmptyPostgresDatabase();
  // The test's own master key, in memory: a real deployment configures one (CONTENT_KEY_FILE).
  const database = await openDatabase({ databaseUrl: empty.url, dataDir: 'unused', contentKeys: loadContentKeys({}).keys });
  await database.migrate();
  return {
    database,
    url: empty.url,
    async drop() {
      await database.close();
      await empty.drop();
    },
  };
}

/** A new empty database on the test server for a whole app instance; returns its URL. */
export async function createEmptyPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!ADMIN_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `helpdesk_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: ADMIN_URL });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
