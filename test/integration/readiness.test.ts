import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/adapters/postgres/db/database.js';
import { createWebApp } from '../../src/adapters/web/web-app.js';
import { toReadiness } from '../../src/check-readiness.js';
import { createEmptyPostgresDatabase, type Engine, testEngines } from '../support/databases.js';
import { wireHelpdesk } from '../support/helpdesk.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function emptyDatabase(engine: Engine) {
  if (engine === 'pglite') {
    const database = await openDatabase({ dataDir: 'memory://' });
    return { database, drop: () => database.close() };
  }
  const empty = await createEmptyPostgresDatabase();
  const database = await openDatabase({ databaseUrl: empty.url, dataDir: 'unused' });
  return { database, drop: async () => (await database.close(), await empty.drop()) };
}

describe.each(testEngines())('readiness (GET /readyz) on %s', (engine) => {
  it('answers 503 naming the part that is not ready: migrations not applied, then an empty knowledge base; 200 once loaded', async () => {
    const { database, drop } = await emptyDatabase(engine);
    try {
      const { helpdesk } = wireHelpdesk(database);
      const app = createWebApp({
        helpdesk,
        bodyLimitBytes: 65_536,
        health: async () => ({}),
        readiness: async () => toReadiness(await database.probe(2_000)),
        onError: () => undefined,
      });
      const readyz = async () => {
        const res = await app.request('/readyz');
        return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
      };
      const before = await readyz();
      expect(before.status).toBe(503);
      expect(before.body.status).toBe('not_ready');
      expect(before.body.checks.database).toBe('ok');
      expect(before.body.checks.migrations).toMatch(/^\d+ not applied$/);

      await database.migrate();
      expect(await readyz()).toEqual({ status: 503, body: { status: 'not_ready', checks: { database: 'ok', migrations: 'ok', knowledge: 'empty' } } });

      const { readKnowledgeFiles } = await import('../../src/adapters/knowledge-files/read-knowledge-files.js');
      const { KNOWLEDGE_DIR } = await import('../support/helpdesk.js');
      await helpdesk.syncKnowledge(await readKnowledgeFiles(KNOWLEDGE_DIR));
      expect(await readyz()).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'ok', migrations: 'ok', knowledge: 'ok' } } });
    } finally {
      await drop();
    }
  });

  it('reports a database that does not answer as unreachable, without throwing', async () => {
    if (engine === 'postgres') {
      const database = await openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${await closedPort()}/none`, dataDir: 'unused' });
      try {
        const probe = await database.probe(2_000);
        expect(probe.reachable).toBe(false);
        expect(toReadiness(probe)).toEqual({ ready: false, checks: { database: 'unreachable', migrations: 'unknown', knowledge: 'unknown' } });
      } finally {
        await database.close();
      }
      return;
    }
    const database = await openDatabase({ dataDir: 'memory://' });
    await database.migrate();
    await database.close();
    expect((await database.probe(2_000)).reachable).toBe(false);
  });
});
