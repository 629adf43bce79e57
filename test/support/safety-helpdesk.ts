import { createPgSecurityEventLog } from '../../src/adapters/postgres/stores/pg-security-events.js';
import { type Answerer, createOfficialAllowlist, type SecurityEventLog } from '../../src/core/index.js';
import type { Engine } from './databases.js';
import { createTestHelpdesk } from './helpdesk.js';
import { ADMIN_TOKEN, OFFICIAL } from './official.js';

export { ADMIN_TOKEN, OFFICIAL };

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
