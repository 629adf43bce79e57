import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type Database, openDatabase, queryRows } from '../../src/adapters/postgres/db/database.js';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import { createPgTurnLog } from '../../src/adapters/postgres/turn-log/pg-turn-log.js';
import { generateSignerKey, parseSignerKey } from '../../src/core/index.js';
import { freePort } from '../../scripts/bench/in-process.js';
import { type Ack, benchContentKeys, startAppendWorker, type Worker } from '../../scripts/bench/turn-log.js';
import { createEmptyPostgresDatabase, testEngines } from '../support/databases.js';
import { screened } from '../support/screened.js';

const SIGNER = parseSignerKey(generateSignerKey('test.example/processes'));
const PG_BIN = '/usr/lib/postgresql/15/bin';

const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 1200 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

/** Every acknowledged append has its turn and its log entry; the audit passes; nothing is orphaned. */
async function expectEveryAckLogged(database: Database, acks: Ack[]) {
  const rows = await queryRows<{ conversation_id: string; seq: number }>(
    database.db,
    sql`SELECT t.conversation_id, t.seq FROM turn t JOIN log_entry e ON e.kind = 'turn' AND e.conversation_id = t.conversation_id AND e.seq = t.seq`,
  );
  const logged = new Set(rows.map((r) => `${r.conversation_id}:${r.seq}`));
  const missing = acks.filter((a) => !logged.has(`${a.conversationId}:${a.seq}`));
  expect(missing).toEqual([]);
  const [counts] = await queryRows<{ turns: number; entries: number; max: number | null }>(
    database.db,
    sql`SELECT (SELECT count(*)::int FROM turn) AS turns, (SELECT count(*)::int FROM log_entry) AS entries, (SELECT max(idx)::int FROM log_entry) AS max`,
  );
  expect(counts?.entries).toBe(counts?.turns);
  expect(counts?.max).toBe((counts?.entries ?? 0) - 1);
  const report = await createPgTurnLog({ database, origin: 'test.example/processes', signer: SIGNER }).verify();
  expect(report.violations).toEqual([]);
  expect(report.size).toBe(counts?.entries);
}

async function runWorkers(workers: Worker[]) {
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.go();
}

describe.skipIf(!testEngines().includes('postgres'))('turn log appended by several processes on one PostgreSQL', () => {
  it('keeps indexes contiguous without forks, with every acknowledged append logged', async () => {
    const empty = await createEmptyPostgresDatabase();
    const database = await openDatabase({ databaseUrl: empty.url, dataDir: 'unused', contentKeys: benchContentKeys() });
    try {
      await database.migrate();
      const workers = [startAppendWorker(empty.url, 400, 8), startAppendWorker(empty.url, 400, 8)];
      await runWorkers(workers);
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
      const acks = workers.flatMap((w) => w.acks);
      expect(acks).toHaveLength(800);
      await expectEveryAckLogged(database, acks);
    } finally {
      await database.close();
      await empty.drop();
    }
  });

  it('loses nothing acknowledged when a process is killed in the middle of appending', async () => {
    const empty = await createEmptyPostgresDatabase();
    const database = await openDatabase({ databaseUrl: empty.url, dataDir: 'unused', contentKeys: benchContentKeys() });
    try {
      await database.migrate();
      const victim = startAppendWorker(empty.url, 100_000, 16);
      const survivor = startAppendWorker(empty.url, 600, 8);
      await runWorkers([victim, survivor]);
      await until(() => victim.acks.length >= 300, 'the victim to acknowledge appends');
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toBeNull();
      expect(await survivor.exited).toBe(0);
      await expectEveryAckLogged(database, [...victim.acks, ...survivor.acks]);
    } finally {
      await database.close();
      await empty.drop();
    }
  });

  it('runs the app under a role that may append but cannot change, delete or unguard the log', async () => {
    const empty = await createEmptyPostgresDatabase();
    const owner = await openDatabase({ databaseUrl: empty.url, dataDir: 'unused', contentKeys: benchContentKeys() });
    const role = `helpdesk_app_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    let app: Database | undefined;
    try {
      await owner.migrate();
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      // The grants the README recommends for the application's role.
      await owner.db.execute(
        sql.raw(`
        GRANT USAGE ON SCHEMA public TO ${role};
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role};
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${role};
        REVOKE UPDATE, DELETE, TRUNCATE ON log_entry, log_node, log_checkpoint, turn FROM ${role};
        REVOKE DELETE, TRUNCATE ON log_head FROM ${role};`),
      );
      const url = new URL(empty.url);
      url.username = role;
      app = await openDatabase({ databaseUrl: url.toString(), dataDir: 'unused', contentKeys: benchContentKeys() });
      const store = createPgConversationStore(app);
      const { conversation } = await store.open({ channel: 'web', externalId: 'restricted', language: 'en', tokenHash: null });
      await store.append(conversation.id, [{ role: 'customer', kind: 'message', text: screened('appends work'), language: 'en' }]);
      const refused = async (statement: string) => {
        const error = await app?.db.execute(sql.raw(statement)).then(
          () => undefined,
          (e: unknown) => e,
        );
        return [error, (error as { cause?: unknown })?.cause].map((e) => String((e as Error | undefined)?.message)).join(' ');
      };
      expect(await refused('UPDATE log_entry SET kind = kind')).toMatch(/permission denied/);
      expect(await refused('DELETE FROM log_entry')).toMatch(/permission denied/);
      expect(await refused('TRUNCATE log_entry')).toMatch(/permission denied/);
      expect(await refused('DELETE FROM log_head')).toMatch(/permission denied/);
      expect(await refused('ALTER TABLE log_entry DISABLE TRIGGER USER')).toMatch(/must be owner/);
      expect(await refused('SET session_replication_role = replica')).toMatch(/permission denied/);
      expect(await refused("UPDATE turn SET text = 'x'")).toMatch(/permission denied/);
      const report = await createPgTurnLog({ database: app, origin: 'test.example/processes', signer: SIGNER }).verify();
      expect(report).toMatchObject({ ok: true, size: 1 });
    } finally {
      await app?.close();
      await owner.close();
      await empty.drop();
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });

  it.skipIf(!existsSync(`${PG_BIN}/initdb`))('loses nothing acknowledged when PostgreSQL stops immediately under load', async () => {
    // A private server, so stopping it does not disturb anyone else's.
    const dir = mkdtempSync(join(tmpdir(), 'turn-log-pg-'));
    const asPostgres = process.getuid?.() === 0;
    if (asPostgres) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), 0);
    const port = await freePort();
    const pg = (args: string) => {
      const command = `${PG_BIN}/${args}`;
      return asPostgres ? execFileSync('su', ['postgres', '-c', command], { encoding: 'utf8' }) : execFileSync('sh', ['-c', command], { encoding: 'utf8' });
    };
    const start = () => pg(`pg_ctl -D ${dir}/data -w -o "-p ${port} -k ${dir} -c listen_addresses=127.0.0.1" -l ${dir}/log start`);
    let database: Database | undefined;
    try {
      pg(`initdb -D ${dir}/data -A trust -U postgres`);
      start();
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      database = await openDatabase({ databaseUrl: url, dataDir: 'unused', contentKeys: benchContentKeys() });
      await database.migrate();
      await database.close();
      database = undefined;
      const workers = [startAppendWorker(url, 100_000, 16), startAppendWorker(url, 100_000, 16)];
      await runWorkers(workers);
      await until(() => workers.every((w) => w.acks.length >= 200), 'appends under load');
      pg(`pg_ctl -D ${dir}/data -m immediate stop`);
      const codes = await Promise.all(workers.map((w) => w.exited));
      expect(codes.every((c) => c !== 0)).toBe(true);
      start();
      database = await openDatabase({ databaseUrl: url, dataDir: 'unused', contentKeys: benchContentKeys() });
      await expectEveryAckLogged(
        database,
        workers.flatMap((w) => w.acks),
      );
    } finally {
      await database?.close();
      try {
        pg(`pg_ctl -D ${dir}/data -m immediate stop`);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
