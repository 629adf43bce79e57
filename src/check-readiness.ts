import type { DatabaseProbe } from './adapters/postgres/db/database.js';

/** What GET /readyz reports: each part `ok`, or what is wrong with it. */
export interface Readiness {
  ready: boolean;
  checks: { database: string; migrations: string; knowledge: string };
}

/**
 * Ready to take traffic: the database answers, every migration this code ships is applied, and the
 * knowledge base holds entries (else every question would be escalated as not covered).
 */
export function toReadiness(probe: DatabaseProbe): Readiness {
  if (!probe.reachable) return { ready: false, checks: { database: 'unreachable', migrations: 'unknown', knowledge: 'unknown' } };
  const migrations = probe.migrationsPending === 0 ? 'ok' : `${probe.migrationsPending} not applied`;
  const knowledge = probe.knowledgeEntries === null ? 'unknown' : probe.knowledgeEntries > 0 ? 'ok' : 'empty';
  return { ready: migrations === 'ok' && knowledge === 'ok', checks: { database: 'ok', migrations, knowledge } };
}
