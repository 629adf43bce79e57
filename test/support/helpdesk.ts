import { readKnowledgeFiles } from '../../src/adapters/knowledge-files/read-knowledge-files.js';
import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import type { Database } from '../../src/adapters/postgres/db/database.js';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import { createPgKnowledgeIndex } from '../../src/adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { createPgHandoffStore } from '../../src/adapters/postgres/stores/pg-handoff-store.js';
import { createWebApp } from '../../src/adapters/web/web-app.js';
import { bundleWidget, createWidgetRoutes } from '../../src/adapters/web/widget-routes.js';
import { toReadiness } from '../../src/check-readiness.js';
import {
  type Answerer,
  type ConversationStore,
  createHandoffDesk,
  createHelpdesk,
  parseWorkingHours,
  type Embedder,
  type HelpdeskSafety,
  type TurnLog,
} from '../../src/core/index.js';
import { createTestDatabase, type Engine } from './databases.js';
import { KNOWLEDGE_DIR } from './knowledge-dir.js';
import { testHelpdeskParts } from './helpdesk-parts.js';
import { silentLogger } from './silent-logger.js';

export { KNOWLEDGE_DIR, silentLogger };

type HelpdeskOptions = {
  answerer?: Answerer;
  embedder?: Embedder;
  threshold?: number;
  maxMessageChars?: number;
  /** Safety settings built on the test database (main.ts wires them from configuration). */
  safety?: (database: Database) => HelpdeskSafety;
  /** The turn log built on the test database (main.ts wires the PostgreSQL one). */
  turnLog?: (database: Database) => TurnLog;
  /** Wraps the conversation store (e.g. to wake the handoff desk on appends, as main.ts does). */
  wrapConversations?: (store: ConversationStore) => ConversationStore;
  /** A handoff desk on the test database, wired as the helpdesk's queue as main.ts wires it. */
  desk?: { hours?: string; minutesPerConversation?: number };
};

/** The real helpdesk on a given database, wired as main.ts wires it (offline embedder by default); nothing synced yet. */
export function wireHelpdesk(database: Database, options: HelpdeskOptions = {}) {
  const embedder = options.embedder ?? createLocalEmbedder();
  const knowledge = createPgKnowledgeIndex(database);
  const store = createPgConversationStore(database);
  const conversations = options.wrapConversations ? options.wrapConversations(store) : store;
  const desk = options.desk
    ? createHandoffDesk({
        conversations,
        handoffs: createPgHandoffStore(database.db),
        customerChannels: {},
        logger: silentLogger,
        settings: {
          hours: parseWorkingHours(options.desk.hours ?? '24/7', 'UTC'),
          minutesPerConversation: options.desk.minutesPerConversation ?? 10,
          unclaimedAfterMs: 60_000,
          genericAgentName: undefined,
        },
      })
    : undefined;
  const helpdesk = createHelpdesk({
    ...testHelpdeskParts({ knowledge, embedder, answerer: options.answerer, threshold: options.threshold, maxMessageChars: options.maxMessageChars }),
    ...(desk ? { queue: desk } : {}),
    conversations,
    ...(options.safety ? { safety: options.safety(database) } : {}),
    ...(options.turnLog ? { turnLog: options.turnLog(database) } : {}),
  });
  return { helpdesk, knowledge, conversations, desk };
}

/** The real helpdesk on a fresh database with the starter knowledge base synced, and its web app (the widget mounted as main.ts mounts it). */
export async function createTestHelpdesk(engine: Engine, options: HelpdeskOptions & { bodyLimitBytes?: number } = {}) {
  const { database, drop, url } = await createTestDatabase(engine);
  const { helpdesk, knowledge, conversations, desk } = wireHelpdesk(database, options);
  const report = await helpdesk.syncKnowledge(await readKnowledgeFiles(KNOWLEDGE_DIR));
  const app = createWebApp({
    helpdesk,
    bodyLimitBytes: options.bodyLimitBytes ?? 65_536,
    health: async () => ({ database: database.engine }),
    readiness: async () => toReadiness(await database.probe(2_000)),
    onError: () => undefined,
  });
  app.route('/', createWidgetRoutes(await bundleWidget({ exchangeName: 'ExampleX', maxMessageChars: options.maxMessageChars ?? 4000 })));
  return { database, url, helpdesk, knowledge, conversations, desk, app, report, drop };
}

/** A JSON call to the product's HTTP API (optionally with a bearer token); the status and the parsed body. */
export async function call(base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}
