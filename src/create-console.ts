import type { Hono } from 'hono';
import type { Database } from './adapters/postgres/database.js';
import { createPgAccountStore, createPgSessionStore } from './adapters/postgres/pg-admin-store.js';
import { createPgGapSource } from './adapters/postgres/pg-gap-source.js';
import type { PgKnowledgeIndex } from './adapters/postgres/pg-knowledge-index.js';
import { createPgKnowledgeStore } from './adapters/postgres/pg-knowledge-store.js';
import { createAdminApp } from './adapters/web/admin/admin-app.js';
import { bundleConsole, createConsoleRoutes } from './adapters/web/admin/console-routes.js';
import {
  createAdminAccess,
  createGapReport,
  createKnowledgeBase,
  type CustomerFileStore,
  type Embedder,
  type Helpdesk,
  type KnowledgeBase,
  type SecurityEvent,
  type Logger,
  type OfficialAllowlist,
  type PassageSplitter,
  type SessionSettings,
} from './core/index.js';


/** How often an instance looks for knowledge changes published by another (for the links it may cite). */
export const KNOWLEDGE_FOLLOW_MS = 1_000;
/** How often expired staff sessions are deleted. */
const SESSION_PURGE_MS = 10 * 60_000;

/** The knowledge base with its history in the database (for the product and the kb: commands). */
export function createStoredKnowledgeBase(deps: {
  database: Database;
  index: PgKnowledgeIndex;
  embedder: Embedder;
  splitPassages: PassageSplitter;
  allowlist: OfficialAllowlist | undefined;
  setKnowledgeLinks: (urls: string[]) => void;
  record: (event: SecurityEvent) => Promise<void>;
  logger: Logger;
}): KnowledgeBase {
  return createKnowledgeBase({
    store: createPgKnowledgeStore(deps.database.db, deps.index),
    index: deps.index,
    embedder: deps.embedder,
    splitPassages: deps.splitPassages,
    allowlist: () => deps.allowlist,
    setKnowledgeLinks: deps.setKnowledgeLinks,
    record: deps.record,
    logger: deps.logger,
  });
}

/**
 * The knowledge base as admins keep it (history in the database), staff sign-in, the gap report,
 * and the console with its JSON API, wired on one database: what main.ts and the tests mount.
 */
export async function createConsole(deps: {
  database: Database;
  index: PgKnowledgeIndex;
  helpdesk: Helpdesk;
  embedder: Embedder;
  splitPassages: PassageSplitter;
  allowlist: OfficialAllowlist | undefined;
  adminToken: string | undefined;
  exchangeName: string;
  /** Customers' uploaded files, shown to agents. */
  files?: CustomerFileStore;
  logger: Logger;
  sessions?: Partial<SessionSettings>;
  onError: (error: unknown) => void;
}) {
  const { database, helpdesk, logger } = deps;
  const record = (event: Parameters<Helpdesk['recordSecurityEvent']>[0]) => helpdesk.recordSecurityEvent(event);
  const knowledge = createStoredKnowledgeBase({
    database,
    index: deps.index,
    embedder: deps.embedder,
    splitPassages: deps.splitPassages,
    allowlist: deps.allowlist,
    setKnowledgeLinks: (urls) => helpdesk.setKnowledgeLinks(urls),
    record,
    logger,
  });
  const access = createAdminAccess({
    accounts: createPgAccountStore(database.db),
    sessions: createPgSessionStore(database.db),
    settings: deps.sessions,
    adminToken: deps.adminToken,
    record,
  });
  const gaps = createGapReport({ source: createPgGapSource(database.db), embedder: deps.embedder });
  const assets = await bundleConsole({ exchangeName: deps.exchangeName });

  /** Mounts the console (/admin) and its API (/api/admin) on the product's app. */
  function mount(app: Hono): void {
    app.route('/', createAdminApp({ access, knowledge, gaps, helpdesk, ...(deps.files ? { files: deps.files } : {}), onError: deps.onError }));
    app.route('/', createConsoleRoutes(assets));
  }

  /** Follows other instances' publications and purges expired sessions until stopped. */
  function start(): { stop(): void } {
    const following = knowledge.follow(KNOWLEDGE_FOLLOW_MS);
    const purge = setInterval(() => {
      access.purgeSessions().catch((error) => logger.warn({ err: error }, 'session purge failed'));
    }, SESSION_PURGE_MS);
    purge.unref();
    return {
      stop() {
        following.stop();
        clearInterval(purge);
      },
    };
  }

  return { knowledge, access, gaps, mount, start };
}

export type Console = Awaited<ReturnType<typeof createConsole>>;
