import { createPgSecurityEventLog } from '../../src/adapters/postgres/stores/pg-security-events.js';
import { type Answerer, createOfficialAllowlist, type SecurityEventLog } from '../../src/core/index.js';
import type { Engine } from './databases.js';
import { createTestHelpdesk } from './helpdesk.js';

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
  let events: SecurityEventLog | undefined;
  const t = await createTestHelpdesk(engine, {
    ...options,
    safety: (database) => {
      events = createPgSecurityEventLog(database.db);
      return {
        allowlist: createOfficialAllowlist(OFFICIAL),
        rateLimit: options.rateLimit ?? { limit: 1000, windowMs: 60_000 },
        events,
        adminToken: ADMIN_TOKEN,
      };
    },
  });
  return { ...t, events: events as SecurityEventLog };
}
