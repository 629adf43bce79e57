import { readKnowledgeFiles } from '../../src/adapters/knowledge-files/read-knowledge-files.js';
import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import { createPassageSplitter } from '../../src/adapters/local/passage-splitter.js';
import { createPgConversationStore } from '../../src/adapters/postgres/pg-conversation-store.js';
import { createPgKnowledgeIndex } from '../../src/adapters/postgres/pg-knowledge-index.js';
import { createPgSecurityEventLog } from '../../src/adapters/postgres/pg-security-events.js';
import { createWebApp } from '../../src/adapters/web/web-app.js';
import { type Answerer, createHelpdesk, createOfficialAllowlist, createRetriever } from '../../src/core/index.js';
import { createTestDatabase, type Engine } from './databases.js';
import { KNOWLEDGE_DIR, silentLogger } from './helpdesk.js';

/** The official contacts of the starter knowledge base, as .env.example configures them. */
export const OFFICIAL = {
  urls: ['https://www.examplex.example', 'https://support.examplex.example', 'https://status.examplex.example'],
  telegramHandles: ['@ExampleXSupportBot', '@ExampleXAnnouncements'],
  emails: ['support@examplex.example'],
  phones: [],
};

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** The real helpdesk wired as main.ts wires it, safety included, on a fresh database. */
export async function createSafeTestHelpdesk(
  engine: Engine,
  options: {
    answerer?: Answerer;
    rateLimit?: { limit: number; windowMs: number };
    maxMessageChars?: number;
    bodyLimitBytes?: number;
    threshold?: number;
  } = {},
) {
  const { database, drop } = await createTestDatabase(engine);
  const embedder = createLocalEmbedder();
  const knowledge = createPgKnowledgeIndex(database.db);
  const conversations = createPgConversationStore(database.db);
  const events = createPgSecurityEventLog(database.db);
  const helpdesk = createHelpdesk({
    conversations,
    knowledge,
    embedder,
    retriever: createRetriever({ index: knowledge, embedder }),
    splitPassages: createPassageSplitter(),
    answerer: options.answerer,
    logger: silentLogger,
    settings: { exchangeName: 'ExampleX', answerThreshold: options.threshold ?? 0.5, maxMessageChars: options.maxMessageChars ?? 4000 },
    safety: {
      allowlist: createOfficialAllowlist(OFFICIAL),
      rateLimit: options.rateLimit ?? { limit: 1000, windowMs: 60_000 },
      events,
      adminToken: ADMIN_TOKEN,
    },
  });
  const report = await helpdesk.syncKnowledge(await readKnowledgeFiles(KNOWLEDGE_DIR));
  const app = createWebApp({
    helpdesk,
    bodyLimitBytes: options.bodyLimitBytes ?? 65_536,
    health: async () => ({ database: database.engine }),
    onError: () => undefined,
  });
  return { database, helpdesk, conversations, events, app, report, drop };
}
