import type { Hono } from 'hono';
import type { Database } from './adapters/postgres/db/database.js';
import { createPgAccountStore, createPgSessionStore } from './adapters/postgres/stores/pg-admin-store.js';
import { createPgGapSource } from './adapters/postgres/stores/pg-gap-source.js';
import { createPgStats } from './adapters/postgres/stores/pg-stats.js';
import { createPgHandoffStore } from './adapters/postgres/stores/pg-handoff-store.js';
import { createPgInboxStore } from './adapters/postgres/stores/pg-inbox-store.js';
import { createPgSavedReplyStore } from './adapters/postgres/stores/pg-saved-reply-store.js';
import type { PgKnowledgeIndex } from './adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { createPgKnowledgeStore } from './adapters/postgres/stores/pg-knowledge-store.js';
import { createAdminApp } from './adapters/web/admin/admin-app.js';
import { bundleConsole, createConsoleRoutes } from './adapters/web/admin/console-routes.js';
import {
  createAdminAccess,
  createAgentInbox,
  createGapReport,
  createInboxFeed,
  createSavedReplies,
  type ConversationStore,
  type HandoffDesk,
  type HandoffDeskDeps,
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
/**
 * How often the agents' inbox looks for changes while someone watches it: what another instance
 * did shows within this (this instance's own changes show at once).
 */
export const INBOX_POLL_MS = 1_000;
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
 * the dashboard's figures, and the console with its JSON API, wired on one database: what main.ts and the tests mount.
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
  const inboxStore = createPgInboxStore(database.db);
  const inboxFeed = createInboxFeed({ changeMarks: (watched) => inboxStore.changeMarks(watched), intervalMs: INBOX_POLL_MS, logger });
  const savedReplies = createSavedReplies({ store: createPgSavedReplyStore(database.db), review: (text, context) => helpdesk.reviewOutbound(text, context) });

  /**
   * Mounts the console (/admin) and its API (/api/admin) on the product's app; with the handoff
   * desk, the agents' inbox too (acting through the same desk as Slack).
   */
  function mount(app: Hono, inbox?: { desk: HandoffDesk; conversations: ConversationStore; customerChannels?: HandoffDeskDeps['customerChannels'] }): void {
    const agentInbox = inbox
      ? createAgentInbox({
          desk: inbox.desk,
          handoffs: createPgHandoffStore(database.db),
          conversations: inbox.conversations,
          store: inboxStore,
          ...(inbox.customerChannels ? { customerChannels: inbox.customerChannels } : {}),
        })
      : undefined;
    app.route(
      '/',
      createAdminApp({
        access,
        knowledge,
        gaps,
        helpdesk,
        stats: createPgStats(database.db),
        ...(deps.files ? { files: deps.files } : {}),
        onError: deps.onError,
        ...(agentInbox ? { inbox: { inbox: agentInbox, feed: inboxFeed, savedReplies } } : {}),
      }),
    );
    app.route('/', createConsoleRoutes(assets));
  }

  /** Follows other instances' publications and purges expired sessions until stopped. */
  function start(): { stop(): Promise<void> } {
    const following = knowledge.follow(KNOWLEDGE_FOLLOW_MS);
    const purge = setInterval(() => {
      access.purgeSessions().catch((error) => logger.warn({ err: error }, 'session purge failed'));
    }, SESSION_PURGE_MS);
    purge.unref();
    return {
      async stop() {
        following.stop();
        clearInterval(purge);
        await inboxFeed.stop();
      },
    };
  }

  return { knowledge, access, gaps, inboxFeed, savedReplies, mount, start };
}

export type Console = Awaited<ReturnType<typeof createConsole>>;
