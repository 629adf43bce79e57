/**
 * Worker thread of the parallel audit (see audit-workers.ts): joins the auditing transaction's
 * snapshot on its own connection, then for each requested index range reads the entries and runs
 * the checks that need no other entry (leaf hash, header, turn content), replying in columns.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { checkEntry, type Violation } from '../../../core/audit/verify-log.js';
import { loadContentKeys } from '../db/content-keys.js';
import { type AuditKeyCache, type CopiedRows, copiedAuditRows, type RunCopy } from './audit-rows.js';
import { type Run, runOn } from '../db/statement.js';
import { type AuditBegin, type AuditPageReply, type AuditPageRequest, CONTENT_GONE, KIND_CODES, PREV_LEAF, PREV_OTHER } from './audit-workers.js';

const port = parentPort;
if (!port) throw new Error('audit-worker.ts runs as a worker thread');
const { databaseUrl, masterKeys } = workerData as { databaseUrl: string; masterKeys: string };
// The master keys of the audit's process, handed over in memory: stored keys are unwrapped here.
const contentKeys = loadContentKeys({ text: masterKeys }).keys;
const unwrap = (wrapped: Uint8Array, conversationId: string) => contentKeys.unwrap(wrapped, conversationId);

// Connects at once; pages wait for the snapshot to be imported (`begin`).
const client = new pg.Client({ connectionString: databaseUrl });
// A lost connection fails the page under way (the audit reports it); unheard, it would end the thread.
client.on('error', () => undefined);
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
  // Each worker is one of the audit's parallel readers already: a parallel plan per page would only
  // add processes (about twice PostgreSQL's CPU per entry).
  await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
})();
ready.catch(() => undefined); // reported by the first page that waits for it
const run: Run = runOn(client);
const keys: AuditKeyCache = new Map();

/**
 * COPY … TO STDOUT on the bare client: a minimal submittable query (what pg-copy-streams does) that
 * gathers the CopyData messages into one buffer. Each message is a view of node-postgres's read
 * buffer, so it is copied at once.
 */
const copy: RunCopy = (text) =>
  new Promise((resolve, reject) => {
    let buffer = Buffer.allocUnsafe(4 << 20);
    let length = 0;
    let failed = false;
    client.query({
      submit(connection: { query(text: string): void }) {
        connection.query(text);
      },
      handleCopyData(message: { chunk: Buffer }) {
        const chunk = message.chunk;
        if (length + chunk.length > buffer.length) {
          const grown = Buffer.allocUnsafe(Math.max(2 * buffer.length, length + chunk.length));
          buffer.copy(grown, 0, 0, length);
          buffer = grown;
        }
        chunk.copy(buffer, length);
        length += chunk.length;
      },
      handleCommandComplete() {},
      handleEmptyQuery() {},
      handleCopyInResponse() {},
      handleRowDescription() {},
      handleDataRow() {},
      handleError(error: Error) {
        failed = true;
        reject(error);
      },
      handleReadyForQuery() {
        if (!failed) resolve(buffer.subarray(0, length));
      },
    } as unknown as pg.QueryConfig);
  });

// Conversations by number, so that each id crosses to the main thread once rather than with every
// entry; numbering starts afresh (the main thread is told) when there are many.
const CONVERSATION_NUMBERS = 200_000;
const conversationNumbers = new Map<string, number>();

/** Checks a page read already; pages are checked in the order they were asked for (see below). */
function check(request: AuditPageRequest, rows: CopiedRows): AuditPageReply {
  if (conversationNumbers.size >= CONVERSATION_NUMBERS) conversationNumbers.clear();
  const n = rows.count;
  const reply: AuditPageReply = {
    id: request.id,
    idx: new Float64Array(n),
    leaves: new Uint8Array(32 * n),
    prevs: new Uint8Array(32 * n),
    seq: new Float64Array(n),
    flags: new Uint8Array(n),
    conv: new Int32Array(n),
    convFrom: conversationNumbers.size,
    newConvs: [],
    otherPrevs: [],
    problems: [],
  };
  for (let i = 0; i < n; i++) {
    const facts = checkEntry(rows.entry(i));
    reply.idx[i] = facts.idx;
    reply.leaves.set(facts.leaf, 32 * i);
    reply.seq[i] = facts.seq ?? Number.NaN;
    let flags = (facts.kind === null ? 0 : KIND_CODES.indexOf(facts.kind) + 1) | (facts.contentGone ? CONTENT_GONE : 0);
    if (typeof facts.prev === 'string') {
      flags |= PREV_OTHER;
      reply.otherPrevs.push([i, facts.prev]);
    } else if (facts.prev !== null) {
      flags |= PREV_LEAF;
      reply.prevs.set(facts.prev, 32 * i);
    }
    reply.flags[i] = flags;
    let number = conversationNumbers.get(facts.conv);
    if (number === undefined) {
      number = conversationNumbers.size;
      conversationNumbers.set(facts.conv, number);
      reply.newConvs.push(facts.conv);
    }
    reply.conv[i] = number;
    if (facts.violations || facts.contentViolation) {
      const problem: { i: number; violations?: Violation[]; contentViolation?: Violation } = { i };
      if (facts.violations) problem.violations = facts.violations;
      if (facts.contentViolation) problem.contentViolation = facts.contentViolation;
      reply.problems.push(problem);
    }
  }
  return reply;
}

// Each page is read as soon as it is asked for (the connection queues the reads, so PostgreSQL reads
// the next page while this thread checks one), but pages are checked in order: conversation numbers
// must reach the main thread in the order it reads the replies.
let checked: Promise<unknown> = Promise.resolve();
function page(request: AuditPageRequest): Promise<AuditPageReply> {
  const rows = ready.then(() => copiedAuditRows(run, copy, { from: request.from, to: request.to }, unwrap, keys));
  rows.catch(() => undefined); // handled below, in order
  const reply = checked.then(async () => check(request, await rows));
  checked = reply.catch(() => undefined);
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
    (reply) => port.postMessage(reply, [reply.idx.buffer, reply.leaves.buffer, reply.prevs.buffer, reply.seq.buffer, reply.flags.buffer, reply.conv.buffer]),
    (error: unknown) => port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
