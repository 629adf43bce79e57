import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { type ContentKeys, loadContentKeys } from './content-keys.js';
import { lockDataDir } from './data-dir-lock.js';
import { openPrivately } from './data-dir-permissions.js';
import { type Run, runOn } from './statement.js';
import * as schema from '../schema/index.js';
import { contentMaster } from '../schema/index.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../../drizzle', import.meta.url));
/** HNSW search breadth: above the candidate count retrieval asks for, so the index returns them all. */
const HNSW_EF_SEARCH = 100;
// Any constant works; it only has to be the same in every instance that migrates.
const MIGRATION_LOCK_KEY = 7_262_001;

/** How long a new PostgreSQL connection may take: past it the operation fails instead of hanging. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Drizzle's typed builder and fixed statements (statement.ts), both on the same connection or pool. */
export interface Connection {
  db: Db;
  /** Fixed statements straight on the driver client: the measured hot paths only. */
  run: Run;
}

export interface TransactionConfig {
  isolationLevel?: 'read committed' | 'repeatable read' | 'serializable';
  accessMode?: 'read only' | 'read write';
}

export interface Database extends Connection {
  /**
   * Runs `work` in a transaction on one connection, committed when it resolves and rolled back
   * when it throws; `tx.db` and `tx.run` both run inside it.
   */
  transaction<T>(work: (tx: Connection) => Promise<T>, config?: TransactionConfig): Promise<T>;
  engine: 'pglite' | 'postgres';
  /** The master keys that wrap the content keys stored in this database (never stored in it). */
  contentKeys: ContentKeys;
  /**
   * Applies the drizzle migrations (safe with several instances starting at once), then checks that
   * the content master keys are the ones this database's content is wrapped under.
   */
  migrate(): Promise<void>;
  /**
   * Whether the database answers within `timeoutMs`, how many of the migrations in `drizzle/` it
   * lacks (this code expects tables it does not have yet) and how many knowledge entries it holds
   * (null while migrations are missing). Never throws: an unreachable database is
   * `{ reachable: false, error }`.
   */
  probe(timeoutMs: number): Promise<DatabaseProbe>;
  close(): Promise<void>;
}

export type DatabaseProbe = { reachable: true; migrationsPending: number; knowledgeEntries: number | null } | { reachable: false; error: string };

type Query = <T>(text: string) => Promise<T[]>;

let shipped: number | undefined;
/** Migrations this code ships (the journal drizzle's migrator applies). */
function shippedMigrations(): number {
  shipped ??= (JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;
  return shipped;
}

async function probeWith(query: Query, timeoutMs: number): Promise<DatabaseProbe> {
  let timer: NodeJS.Timeout | undefined;
  const read = async (): Promise<DatabaseProbe> => {
    const [table] = await query<{ n: number }>(MIGRATIONS_TABLE);
    const [applied] = table?.n ? await query<{ n: number }>(APPLIED_MIGRATIONS) : [];
    const pending = Math.max(0, shippedMigrations() - (applied?.n ?? 0));
    const [entries] = pending === 0 ? await query<{ n: number }>('SELECT count(*)::int AS n FROM kb_entry') : [];
    return { reachable: true, migrationsPending: pending, knowledgeEntries: entries ? entries.n : null };
  };
  try {
    return await Promise.race([
      read(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    return { reachable: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

// Drizzle's migrator records each applied migration in drizzle.__drizzle_migrations (both engines);
// the table is absent before the first.
const MIGRATIONS_TABLE = `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'drizzle' AND tablename = '__drizzle_migrations'`;
const APPLIED_MIGRATIONS = 'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations';

/**
 * The connection string with the session settings sent in the startup packet (`options`), so that
 * every pooled connection has them from its first query: no extra round trip, and no query issued
 * on a client the pool is already handing out (node-pg's "already executing a query" warning).
 * A custom setting is kept as a placeholder until pgvector loads, which then adopts it.
 */
export function withSessionOptions(databaseUrl: string): { connectionString: string; options?: string } {
  const setting = `-c hnsw.ef_search=${HNSW_EF_SEARCH}`;
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    // Not a URL (a bare socket path): node-postgres takes the option beside it.
    return { connectionString: databaseUrl, options: setting };
  }
  const existing = url.searchParams.get('options');
  url.searchParams.set('options', existing ? `${existing} ${setting}` : setting);
  return { connectionString: url.toString() };
}

/**
 * Opens PostgreSQL through node-postgres when a URL is given, else the embedded PGlite with pgvector
 * in `dataDir` ("memory://" for a throwaway in-memory database).
 */
export async function openDatabase(options: { databaseUrl?: string | undefined; dataDir: string; contentKeys?: ContentKeys }): Promise<Database> {
  const database = await openEngine(options);
  // Without configured keys only a throwaway in-memory database gets keys (made up, in memory).
  const inMemory = options.dataDir.startsWith('memory://') && !options.databaseUrl;
  const keys = options.contentKeys ?? (inMemory ? loadContentKeys({}).keys : withoutKeys());
  const migrate = database.migrate;
  const opened: Database = {
    ...database,
    contentKeys: keys,
    async migrate() {
      await migrate();
      opened.contentKeys = await checkContentMaster(database.db, keys);
      registry.set(database.db, opened.contentKeys);
    },
  };
  registry.set(database.db, keys);
  return opened;
}

const registry = new WeakMap<Db, ContentKeys>();

/** The content master keys of an opened database (stores take them from there). */
export function contentKeysOf(db: Db): ContentKeys {
  const keys = registry.get(db);
  if (!keys) throw new Error('contentKeysOf: this database handle was not opened by openDatabase');
  return keys;
}

/**
 * Registers the fingerprints of `keys` (each version once) and refuses keys that differ from those
 * registered: content wrapped under one master key must never be written beside content another
 * key wraps. Tools opened without keys (migrate, kb:sync) register nothing.
 */
async function checkContentMaster(db: Db, keys: ContentKeys): Promise<ContentKeys> {
  if (keys.source === 'none') return keys;
  const rows = await db.select({ version: contentMaster.version, fingerprint: contentMaster.fingerprint }).from(contentMaster);
  const registered = new Map(rows.map((r) => [r.version, r.fingerprint]));
  for (const { version, fingerprint } of keys.fingerprints()) {
    const known = registered.get(version);
    if (known !== undefined && known !== fingerprint) {
      throw new Error(
        `content master key v${version} (${keys.source}) is not the one this database's content is wrapped under: every instance must use the same CONTENT_MASTER_KEY / CONTENT_KEY_FILE`,
      );
    }
    if (known === undefined) await db.insert(contentMaster).values({ version, fingerprint }).onConflictDoNothing();
  }
  return keys;
}

function withoutKeys(): ContentKeys {
  const refuse = (): never => {
    throw new Error('no content master key configured (CONTENT_MASTER_KEY or CONTENT_KEY_FILE): customer content cannot be read or written');
  };
  return {
    current: 0,
    source: 'none',
    versionOf: () => 0,
    wrap: refuse,
    unwrap: refuse,
    seal: refuse,
    open: refuse,
    addVersion: refuse,
    retireBelow: refuse,
    exportText: () => '',
    fingerprints: () => [],
  };
}

/** `BEGIN` / `SET TRANSACTION` modes: isolation level and access mode, or nothing. */
function transactionModes(config: TransactionConfig | undefined): string {
  const modes = [config?.isolationLevel && `ISOLATION LEVEL ${config.isolationLevel.toUpperCase()}`, config?.accessMode?.toUpperCase()].filter(Boolean);
  return modes.length > 0 ? ` ${modes.join(' ')}` : '';
}

/** A transaction's connection: statements on its client, drizzle's builder made on first use (hot paths need none). */
function onClient(client: Parameters<typeof runOn>[0], builder: () => Db): Connection {
  let db: Db | undefined;
  return {
    run: runOn(client),
    get db() {
      db ??= builder();
      return db;
    },
  };
}

async function openEngine(options: { databaseUrl?: string | undefined; dataDir: string }): Promise<Omit<Database, 'contentKeys'>> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      ...withSessionOptions(options.databaseUrl),
      max: 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // A connection cut without a FIN (a network partition, a host gone) is noticed by TCP.
      keepAlive: true,
    });
    // A connection lost (the server restarted or stopped, the network cut it) makes its client emit
    // 'error'. The pool listens only while a client is idle; one checked out (a transaction between
    // two statements) would have no listener, and an unheard 'error' ends the process. So every
    // client is heard from its first moment: the statement under way fails on its own (the caller
    // retries or answers), and the pool discards the client when it comes back unqueryable.
    pool.on('connect', (client) => client.on('error', () => undefined));
    pool.on('error', () => undefined);
    const db = drizzleNodePg(pool, { schema }) as unknown as Db;
    return {
      db,
      run: runOn(pool),
      async transaction(work, config) {
        const client = await pool.connect();
        let broken: Error | undefined;
        try {
          await client.query(`BEGIN${transactionModes(config)}`);
          try {
            const result = await work(onClient(client, () => drizzleNodePg(client, { schema }) as unknown as Db));
            await client.query('COMMIT');
            return result;
          } catch (error) {
            await client.query('ROLLBACK').catch((rollback: Error) => {
              // A connection that cannot roll back is not given to anyone else.
              broken = rollback;
            });
            throw error;
          }
        } finally {
          client.release(broken);
        }
      },
      engine: 'postgres',
      async migrate() {
        const client = await pool.connect();
        try {
          await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
          await migrateNodePg(drizzleNodePg(client, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
          client.release();
        }
      },
      probe: (timeoutMs) => probeWith(async <T>(text: string) => (await pool.query(text)).rows as T[], timeoutMs),
      close: () => pool.end(),
    };
  }
  const inMemory = options.dataDir.startsWith('memory://');
  const release = inMemory ? () => undefined : lockDataDir(options.dataDir);
  try {
    const create = () => PGlite.create(options.dataDir, { extensions: { vector } });
    const client = inMemory ? await create() : await openPrivately(options.dataDir, create);
    const db = drizzlePglite(client, { schema }) as unknown as Db;
    return {
      db,
      run: runOn(client),
      transaction: (work, config) =>
        client.transaction(async (tx) => {
          const modes = transactionModes(config);
          if (modes) await tx.query(`SET TRANSACTION${modes}`);
          // PGlite's transaction object answers queries as the database does (drizzle wraps it the same way).
          return work(onClient(tx, () => drizzlePglite(tx as unknown as PGlite, { schema }) as unknown as Db));
        }),
      engine: 'pglite',
      async migrate() {
        await migratePglite(drizzlePglite(client, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
        await client.exec(`SET hnsw.ef_search = ${HNSW_EF_SEARCH}`);
      },
      probe: (timeoutMs) => probeWith(async <T>(text: string) => (await client.query<T>(text)).rows, timeoutMs),
      async close() {
        try {
          await client.close();
        } finally {
          release();
        }
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

// A failed statement's error carries its bound values (drizzle: `params`, and "params: …" in the
// message), and PostgreSQL puts row values in `detail` ("Key (…)=(…)", "Failing row contains (…)")
// and, for a value it cannot read (SQLSTATE class 22), quotes it in the message. Customer content
// must not reach logs through them.
const PARAMS_IN_TEXT = /\nparams: [\s\S]*?(?=\n\s+at |$)/;
const VALUE_FIELDS = new Set(['params', 'detail']);

/**
 * An error as it may be logged: the same type, message and stack, causes included, without the
 * values a failed statement carried. Anything else passes unchanged.
 */
export function redactDatabaseError<T>(error: T): T {
  if (typeof error === 'string') return error.replace(PARAMS_IN_TEXT, '\nparams: [redacted]') as T;
  if (!(error instanceof Error)) return error;
  const source = error as Error & Record<string, unknown>;
  const copy = Object.create(Object.getPrototypeOf(error)) as Record<string, unknown>;
  const dataException = typeof source.code === 'string' && source.code.startsWith('22') && typeof source.severity === 'string';
  for (const key of Object.getOwnPropertyNames(error)) {
    const value = source[key];
    if (VALUE_FIELDS.has(key)) copy[key] = '[redacted]';
    else if (key === 'message' || key === 'stack') {
      const text = redactDatabaseError(String(value ?? ''));
      copy[key] = dataException ? text.replace(/"[^"\n]*"/g, '"[redacted]"') : text;
    } else if (key === 'cause') copy[key] = redactDatabaseError(value);
    else copy[key] = value;
  }
  return copy as T;
}

/** Rows of a raw query, whichever driver ran it. */
export async function queryRows<T>(db: Db, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
