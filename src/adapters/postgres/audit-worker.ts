/**
 * Worker thread of the parallel audit (see audit-workers.ts): joins the auditing transaction's
 * snapshot on its own connection, then for each requested index range reads the entries and runs
 * the checks that need no other entry (leaf hash, header, turn content), replying in columns.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { checkEntry, type Violation } from '../../core/audit/verify-log.js';
import { type AuditKeyCache, auditRows, type RunQuery } from './audit-rows.js';
import { type AuditBegin, type AuditPageReply, type AuditPageRequest, KIND_CODES } from './audit-workers.js';

const port = parentPort;
if (!port) throw new Error('audit-worker.ts runs as a worker thread');
const { databaseUrl } = workerData as { databaseUrl: string };

// Connects at once; pages wait for the snapshot to be imported (`begin`).
const client = new pg.Client({ connectionString: databaseUrl });
const connected = client.connect();
let markBegun: (snapshot: string) => void = () => undefined;
const begun = new Promise<string>((resolve) => {
  markBegun = resolve;
});
const ready = (async () => {
  await connected;
  const snapshot = await begun;
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await client.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
})();
ready.catch(() => undefined); // reported by the first page that waits for it
const run: RunQuery = async <T>(text: string, params: unknown[]) => (await client.query(text, params)).rows as T[];
const keys: AuditKeyCache = new Map();

async function page(request: AuditPageRequest): Promise<AuditPageReply> {
  await ready;
  const entries = await auditRows(run, { from: request.from, to: request.to }, keys);
  const n = entries.length;
  const reply: AuditPageReply = {
    id: request.id,
    idx: new Float64Array(n),
    leaves: new Uint8Array(32 * n),
    seq: new Float64Array(n),
    flags: new Uint8Array(n),
    conv: new Array<string>(n),
    prev: new Array<string | null>(n),
    problems: [],
  };
  for (let i = 0; i < n; i++) {
    const facts = checkEntry(entries[i] as (typeof entries)[number]);
    reply.idx[i] = facts.idx;
    reply.leaves.set(facts.leaf, 32 * i);
    reply.seq[i] = facts.seq ?? Number.NaN;
    reply.flags[i] = (facts.kind === null ? 0 : KIND_CODES.indexOf(facts.kind) + 1) | (facts.contentGone ? 0x80 : 0);
    reply.conv[i] = facts.conv;
    reply.prev[i] = facts.prev;
    if (facts.violations || facts.contentViolation) {
      const problem: { i: number; violations?: Violation[]; contentViolation?: Violation } = { i };
      if (facts.violations) problem.violations = facts.violations;
      if (facts.contentViolation) problem.contentViolation = facts.contentViolation;
      reply.problems.push(problem);
    }
  }
  return reply;
}

port.on('message', (message: AuditBegin | AuditPageRequest | 'close') => {
  if (message === 'close') {
    void client.end().finally(() => port.close());
    return;
  }
  if ('snapshot' in message) {
    markBegun(message.snapshot);
    return;
  }
  page(message).then(
    (reply) => port.postMessage(reply, [reply.idx.buffer, reply.leaves.buffer, reply.seq.buffer, reply.flags.buffer]),
    (error: unknown) => port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
