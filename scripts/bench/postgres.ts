import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { trackDatabase, untrackDatabase } from './cleanup.js';

/** The admin URL of a PostgreSQL server that may create databases, if one is configured. */
export function adminDatabaseUrl(): string | undefined {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  return url && url.trim() !== '' ? url : undefined;
}

async function withAdmin<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates a fresh empty database `helpdesk_bench_<random>`; `drop()` removes it (idempotent). */
export async function createBenchDatabase(adminUrl: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `helpdesk_bench_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  let dropped: Promise<void> | undefined;
  const drop = () => {
    dropped ??= withAdmin(adminUrl, async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }).finally(() => untrackDatabase(name));
    return dropped;
  };
  trackDatabase(name, drop);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop };
}

/** Runs `body` against a fresh database and always drops it afterwards. */
export async function withBenchDatabase<T>(adminUrl: string, body: (url: string) => Promise<T>): Promise<T> {
  const database = await createBenchDatabase(adminUrl);
  try {
    return await body(database.url);
  } finally {
    await database.drop();
  }
}
