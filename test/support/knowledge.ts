import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { readKnowledgeFiles } from '../../src/adapters/knowledge-files/read-knowledge-files.js';
import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import { createPassageSplitter } from '../../src/adapters/local/passage-splitter.js';
import { createPgKnowledgeIndex } from '../../src/adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { type Embedder, syncKnowledgeFiles } from '../../src/core/index.js';
import { createTestDatabase, type Engine } from './databases.js';
import { KNOWLEDGE_DIR } from './helpdesk.js';

/**
 * For one describe block: a copy of the starter knowledge folder (`dir`, free to edit) and a fresh
 * database (`db`), made before its tests and removed after them; `sync` syncs the folder into it.
 */
export function useKnowledgeCopy(engine: Engine, defaultEmbedder: Embedder = createLocalEmbedder()) {
  let dir = '';
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kb-'));
    await cp(KNOWLEDGE_DIR, dir, { recursive: true });
    db = await createTestDatabase(engine);
  });
  afterAll(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });
  const copy = {
    get dir(): string {
      return dir;
    },
    get db() {
      if (!db) throw new Error('useKnowledgeCopy: the database exists only inside the tests');
      return copy.database.db;
    },
    get database() {
      if (!db) throw new Error('useKnowledgeCopy: the database exists only inside the tests');
      return db.database;
    },
    sync: async (embedder: Embedder = defaultEmbedder) =>
      syncKnowledgeFiles(await readKnowledgeFiles(dir), {
        index: createPgKnowledgeIndex(copy.database),
        embedder,
        splitPassages: createPassageSplitter(),
      }),
  };
  return copy;
}
