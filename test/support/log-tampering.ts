import type { Db } from '../../src/adapters/postgres/db/database.js';

/** The guard triggers of the turn-log tables (see the migrations), to switch back on after tampering. */
export const LOG_TRIGGERS: Record<string, string[]> = {
  turn: ['turn_no_update_delete', 'turn_no_truncate'],
  log_entry: ['log_entry_no_change', 'log_entry_no_truncate'],
  log_head: ['log_head_guard', 'log_head_no_truncate'],
  log_checkpoint: ['log_checkpoint_no_change', 'log_checkpoint_no_truncate'],
  log_node: ['log_node_no_change', 'log_node_no_truncate'],
};

/** What a database owner can do: switch the guard triggers off, rewrite, switch them back on. */
export function asOwner(tables: string[], body: string): string {
  const off = tables.map((t) => `ALTER TABLE ${t} DISABLE TRIGGER USER;`).join(' ');
  const on = tables.flatMap((t) => (LOG_TRIGGERS[t] ?? []).map((name) => `ALTER TABLE ${t} ENABLE ALWAYS TRIGGER ${name};`)).join(' ');
  return `${off} ${body}; ${on}`;
}

/** Runs several statements at once, as a DBA's psql session would: PGlite's exec or node-postgres' simple query. */
export function rawExec(db: Db): (query: string) => Promise<unknown> {
  const client = (db as unknown as { $client: { exec?: (q: string) => Promise<unknown>; query: (q: string) => Promise<unknown> } }).$client;
  return (query: string) => (client.exec ? client.exec(query) : client.query(query));
}
