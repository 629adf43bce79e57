import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import { createPassageSplitter } from '../../src/adapters/local/passage-splitter.js';
import { createPgSecurityEventLog } from '../../src/adapters/postgres/stores/pg-security-events.js';
import { createPgTurnLog } from '../../src/adapters/postgres/turn-log/pg-turn-log.js';
import { createConsole } from '../../src/create-console.js';
import { createPgHandoffStore } from '../../src/adapters/postgres/stores/pg-handoff-store.js';
import {
  createHandoffDesk,
  createOfficialAllowlist,
  generateSignerKey,
  type HandoffDesk,
  parseSignerKey,
  parseWorkingHours,
  type SessionSettings,
} from '../../src/core/index.js';
import type { Engine } from './databases.js';
import { createTestHelpdesk, silentLogger } from './helpdesk.js';
import { ADMIN_TOKEN, OFFICIAL } from './safety-helpdesk.js';

export { ADMIN_TOKEN };
export const EDITOR = { user: 'alice', password: 'alice-password-1' };
export const AGENT = { user: 'bob', password: 'bob-password-12' };
export const LEAD = { user: 'carol', password: 'carol-password-1' };

/**
 * The helpdesk with its turn log, the knowledge base kept in the database (the starter files
 * adopted into its history), staff sign-in and the console mounted on its web app, as main.ts
 * wires them; an editor and an agent account.
 */
export async function createTestConsole(engine: Engine, options: { sessions?: Partial<SessionSettings>; threshold?: number; inbox?: boolean } = {}) {
  let turnLog: ReturnType<typeof createPgTurnLog> | undefined;
  const signer = parseSignerKey(generateSignerKey('exchange.example/turn-log'));
  const t = await createTestHelpdesk(engine, {
    threshold: options.threshold,
    turnLog: (database) => {
      turnLog = createPgTurnLog({ database, origin: 'exchange.example/turn-log', signer });
      return turnLog;
    },
    safety: (database) => ({
      allowlist: createOfficialAllowlist(OFFICIAL),
      rateLimit: { limit: 1000, windowMs: 60_000 },
      events: createPgSecurityEventLog(database.db),
      adminToken: ADMIN_TOKEN,
    }),
  });
  const staff = await createConsole({
    database: t.database,
    index: t.knowledge,
    helpdesk: t.helpdesk,
    embedder: createLocalEmbedder(),
    splitPassages: createPassageSplitter(),
    allowlist: createOfficialAllowlist(OFFICIAL),
    adminToken: ADMIN_TOKEN,
    exchangeName: 'ExampleX',
    logger: silentLogger,
    sessions: options.sessions,
    onError: (error) => {
      throw error;
    },
  });
  await staff.knowledge.prepare();
  // With the inbox: the handoff desk as main.ts wires it (agents' replies through the outbound guard).
  const desk: HandoffDesk | undefined = options.inbox
    ? createHandoffDesk({
        conversations: t.conversations,
        handoffs: createPgHandoffStore(t.database.db),
        customerChannels: {},
        logger: silentLogger,
        review: t.helpdesk.reviewOutbound,
        settings: { hours: parseWorkingHours('24/7', 'UTC'), minutesPerConversation: 5, unclaimedAfterMs: 3_600_000, genericAgentName: undefined },
      })
    : undefined;
  staff.mount(t.app, desk ? { desk, conversations: t.conversations } : undefined);
  await staff.access.addAccount({ name: EDITOR.user, role: 'kb_editor', password: EDITOR.password });
  await staff.access.addAccount({ name: AGENT.user, role: 'agent', password: AGENT.password });
  await staff.access.addAccount({ name: LEAD.user, role: 'lead', password: LEAD.password });
  return { ...t, staff, desk, turnLog: turnLog as ReturnType<typeof createPgTurnLog> };
}
