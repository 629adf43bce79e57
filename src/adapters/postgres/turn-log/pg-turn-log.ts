import { and, asc, desc, eq, gt, isNotNull, like, lt, lte, ne, notExists, or, sql } from 'drizzle-orm';
import {
  type AuditReport,
  type CheckpointSource,
  checkKnowledgeRevisions,
  type RevisionStatus,
  completeSubtrees,
  consistencyRanges,
  createLogVerifier,
  type LogVerifier,
  foldSubtrees,
  inclusionRanges,
  LOG_FORMAT_VERSION,
  type LogHeader,
  type Logger,
  type NoteSigner,
  nodeHash,
  openContent,
  parseVerifierKey,
  signCheckpoint,
  signNote,
  toReceiptBody,
  TRANSCRIPT_FORMAT,
  type TranscriptBundle,
  type TranscriptEntry,
  type TurnLog,
  type Violation,
  parseHeader,
} from '../../../core/index.js';
import { type Connection, contentKeysOf, type Database, type Db, queryRows } from '../db/database.js';
import { type AuditKeyCache, auditRows } from './audit-rows.js';
import { type AuditWorkers, defaultAuditWorkers, startAuditWorkers } from './audit-workers.js';
import { appendToLog, loadChains, STORED_LEVEL_STEP } from './pg-log-append.js';
import {
  channelOutbox,
  channelUpdate,
  conversation,
  conversationKey,
  customerFile,
  handoff,
  kbRevision,
  toEntryContent,
  legalHold,
  logCheckpoint,
  logEntry,
  logHead,
  turn,
  turnContent,
} from '../schema/index.js';

const AUDIT_PAGE = 5000;

/** Below this many entries the audit runs in this thread: starting workers costs more. */
const PARALLEL_AUDIT_FROM = 20_000;

export type ErasureResult = { status: 'erased'; entryIdx: number; turnsErased: number } | { status: 'deferred'; entryIdx: number; reason: string };

/** Publishes a signed checkpoint outside the database (a folder of files, a Slack channel…). */
export type PublishCheckpoint = (note: string, checkpoint: { size: number; root: Buffer }) => Promise<void>;

/**
 * The verifiable turn log's storage side: checkpoints, proofs and transcripts, erasure, the full
 * audit and the scheduled self-check. Appends happen in the conversation store's transaction.
 */
export function createPgTurnLog(deps: {
  database: Database;
  origin: string;
  /** Needed to issue checkpoints and transcripts; audits and erasure work with the public key alone. */
  signer?: NoteSigner;
  verifierKey?: string;
  publish?: PublishCheckpoint;
  logger?: Logger;
  /**
   * The full audit on PostgreSQL: with `databaseUrl`, large logs are checked by `workers` threads
   * (default: one per core, at most 4) on their own connections. `parallelFrom` (entries) and
   * `pageSize` are for tests.
   */
  audit?: { databaseUrl?: string | undefined; workers?: number; parallelFrom?: number; pageSize?: number };
}) {
  const { database, origin } = deps;
  const { db } = database;
  const contentKeys = contentKeysOf(db);
  const pageSize = deps.audit?.pageSize ?? AUDIT_PAGE;
  // Without any key the log can still append, erase and place holds; checks then report the lack.
  const verifierKey: string = deps.verifierKey ?? deps.signer?.verifierKey ?? '';
  const verifier = verifierKey ? parseVerifierKey(verifierKey) : undefined;
  const signerOrThrow = (): NoteSigner => {
    if (!deps.signer) throw new Error('no signing key: this instance cannot issue checkpoints');
    return deps.signer;
  };

  async function head(q: Db = db): Promise<{ size: number; root: Buffer }> {
    const [row] = await q.select({ size: logHead.size, root: logHead.root }).from(logHead).where(eq(logHead.id, 1));
    if (!row) throw new Error('log_head row missing: run the migrations');
    return row;
  }

  async function latestStored(): Promise<{ size: number; note: string } | undefined> {
    const [row] = await db.select({ size: logCheckpoint.size, note: logCheckpoint.note }).from(logCheckpoint).orderBy(desc(logCheckpoint.size)).limit(1);
    return row;
  }

  let inFlight: Promise<{ size: number; note: string } | undefined> | undefined;

  /**
   * Signs and publishes a checkpoint of the current head when the log grew since the last one.
   * Several instances may race: Ed25519 is deterministic and the size is unique, so they agree.
   */
  function checkpointNow(): Promise<{ size: number; note: string } | undefined> {
    inFlight ??= (async () => {
      try {
        const current = await head();
        const last = await latestStored();
        if (last && last.size >= current.size) return last;
        if (current.size === 0) return undefined;
        const note = signCheckpoint({ origin, size: current.size, root: current.root }, signerOrThrow());
        await db.insert(logCheckpoint).values({ size: current.size, root: current.root, note }).onConflictDoNothing();
        await deps.publish?.(note, current);
        return { size: current.size, note };
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  /** Hashes of the given ranges of the tree, from stored leaves and stored subtree hashes. */
  async function rangeHashes(ranges: Array<readonly [number, number]>): Promise<Buffer[]> {
    const plans = ranges.map(([a, b]) => completeSubtrees(a, b));
    const leafIdx = new Set<number>();
    const nodeKeys = new Map<number, Set<number>>();
    for (const plan of plans) {
      for (const { level, index } of plan) {
        const base = Math.floor(level / STORED_LEVEL_STEP) * STORED_LEVEL_STEP;
        const width = 2 ** (level - base);
        for (let i = index * width; i < (index + 1) * width; i++) {
          if (base === 0) leafIdx.add(i);
          else {
            const set = nodeKeys.get(base) ?? new Set<number>();
            set.add(i);
            nodeKeys.set(base, set);
          }
        }
      }
    }
    // Stored leaves and stored subtree hashes in one round trip; each list is one array parameter
    // (a proof needs up to ~150 hashes: one parameter each made the statement costly to build).
    // Keyed by (level, index) packed in one number: level < 64, index < 2^47.
    const known = new Map<number, Buffer>();
    const ids = (values: Iterable<number>) => `{${[...values].join(',')}}`;
    const parts = [
      ...(leafIdx.size > 0 ? [sql`SELECT 0 AS level, idx, leaf_hash AS hash FROM log_entry WHERE idx = ANY(${ids(leafIdx)}::bigint[])`] : []),
      ...[...nodeKeys].map(([level, set]) => sql`SELECT level, idx, hash FROM log_node WHERE level = ${level} AND idx = ANY(${ids(set)}::bigint[])`),
    ];
    if (parts.length > 0) {
      const rows = await queryRows<{ level: number | string; idx: number | string; hash: Uint8Array }>(db, sql.join(parts, sql` UNION ALL `));
      for (const r of rows) known.set(Number(r.level) * 2 ** 47 + Number(r.idx), Buffer.from(r.hash.buffer, r.hash.byteOffset, r.hash.byteLength));
    }
    const subtree = (level: number, index: number): Buffer => {
      const hit = known.get(level * 2 ** 47 + index);
      if (hit) return hit;
      if (level % STORED_LEVEL_STEP === 0) throw new Error(`log storage lacks subtree ${level}:${index}`);
      return nodeHash(subtree(level - 1, index * 2), subtree(level - 1, index * 2 + 1));
    };
    return plans.map((plan) => foldSubtrees(plan.map(({ level, index }) => subtree(level, index))));
  }

  /** Inclusion proof of entry `index` in the tree of `size` entries. */
  async function inclusionProof(index: number, size: number): Promise<Buffer[]> {
    return rangeHashes(inclusionRanges(index, size));
  }

  /** RFC 9162 consistency proof between the trees of `first` and `second` entries (first <= second). */
  async function consistencyProof(first: number, second: number): Promise<Buffer[]> {
    return rangeHashes(consistencyRanges(first, second));
  }

  async function transcript(conversationId: string): Promise<TranscriptBundle> {
    const checkpoint = await checkpointNow();
    if (!checkpoint) throw new Error('the log is empty');
    const size = checkpoint.size;
    const rows = await db
      .select({
        idx: logEntry.idx,
        header: logEntry.header,
        leafHash: logEntry.leafHash,
        kind: logEntry.kind,
        seq: logEntry.seq,
        sealed: turnContent.sealed,
        key: conversationKey.key,
        data: turn.data,
      })
      .from(logEntry)
      .leftJoin(turnContent, and(eq(logEntry.kind, 'turn'), eq(turnContent.conversationId, logEntry.conversationId), eq(turnContent.seq, logEntry.seq)))
      .leftJoin(turn, and(eq(logEntry.kind, 'turn'), eq(turn.conversationId, logEntry.conversationId), eq(turn.seq, logEntry.seq)))
      .leftJoin(conversationKey, eq(conversationKey.conversationId, logEntry.conversationId))
      .where(and(eq(logEntry.conversationId, conversationId), lt(logEntry.idx, size)))
      .orderBy(asc(logEntry.idx));
    const ranges = rows.map((r) => inclusionRanges(r.idx, size));
    const hashes = await rangeHashes(ranges.flat());
    const erasures = rows.filter((r) => r.kind === 'erasure');
    let offset = 0;
    const entries: TranscriptEntry[] = rows.map((r, i) => {
      const count = (ranges[i] as unknown[]).length;
      const proof = hashes.slice(offset, offset + count).map((h) => h.toString('base64'));
      offset += count;
      const entry: TranscriptEntry = {
        idx: r.idx,
        header: r.header.toString('base64'),
        proof,
        receipt: signNote(toReceiptBody(origin, r.idx, r.leafHash), signerOrThrow()),
      };
      if (r.kind !== 'turn' || r.seq === null) return entry;
      const key = r.key ? contentKeys.unwrap(r.key, conversationId) : undefined;
      const opened = r.sealed && key ? openContent(key, conversationId, r.seq, r.sealed) : undefined;
      // Internal notes are kept from the customer; a sealed row says so only in its content.
      const data =
        (r.data as { sealed?: number } | null)?.sealed === 1 && opened ? (JSON.parse(opened.contentBytes.toString('utf8')) as { data?: unknown }).data : r.data;
      const internal = (data as { internal?: boolean } | null)?.internal === true;
      if (opened && !internal) entry.content = { salt: opened.salt.toString('base64'), bytes: opened.contentBytes.toString('base64') };
      else if (internal) entry.withheld = true;
      else {
        const erasure = erasures.find((e) => e.idx > r.idx && (e.seq ?? 0) >= (r.seq as number));
        if (erasure) entry.erasedBy = erasure.idx;
      }
      return entry;
    });
    return {
      format: TRANSCRIPT_FORMAT,
      origin,
      publicKey: verifierKey,
      conversationId,
      checkpoint: checkpoint.note,
      entries,
    };
  }

  /** Appends one non-turn entry for a locked conversation inside `run`'s transaction. */
  async function logEvent<T>(
    conversationId: string,
    build: (prev: string | null, at: number, lastSeq: number, hold: { reason: string } | undefined) => LogHeader,
    after: (tx: Db, idx: number, header: LogHeader) => Promise<T>,
  ): Promise<T> {
    return database.transaction(async ({ db: tx, run }) => {
      // A writer's lock on the table before the row's: a key rotation (which locks the table, then
      // re-seals rows) waits for this transaction instead of waiting on its row while it waits on
      // the table. Row-exclusive does not hold back other writers.
      await tx.execute(sql`LOCK TABLE conversation IN ROW EXCLUSIVE MODE`);
      const [locked] = await tx.select().from(conversation).where(eq(conversation.id, conversationId)).for('update');
      if (!locked) throw new Error(`conversation ${conversationId} not found`);
      const [hold] = await tx.select().from(legalHold).where(eq(legalHold.conversationId, conversationId));
      const chains = await loadChains(tx, [conversationId]);
      const prepared = chains.prepare(build(chains.prevOf(conversationId), Date.now(), locked.lastSeq, hold));
      const [entry] = await appendToLog(run, [prepared]);
      if (!entry) throw new Error('log append returned nothing');
      return after(tx, entry.idx, entry.header);
    });
  }

  /**
   * Crypto-shreds one customer's content: logs the erasure with its scope, deletes the key and the
   * ciphertext, redacts the turn rows. Under a legal hold it logs the deferral instead.
   */
  async function erase(conversationId: string, reason = 'customer_request'): Promise<ErasureResult> {
    return logEvent<ErasureResult>(
      conversationId,
      (prev, at, lastSeq, hold) =>
        hold
          ? { v: LOG_FORMAT_VERSION, kind: 'erasure_deferred', conv: conversationId, reason: 'legal_hold', prev, at }
          : { v: LOG_FORMAT_VERSION, kind: 'erasure', conv: conversationId, through: lastSeq, reason, prev, at },
      async (tx, idx, header) => {
        if (header.kind !== 'erasure') return { status: 'deferred', entryIdx: idx, reason: 'legal_hold' };
        // The conversation row first (handle and external id, which name the customer), before
        // conversation_key: the order in which a key rotation locks them.
        await tx
          .update(conversation)
          .set({ customerHandle: null, externalId: `erased:${conversationId}` })
          .where(eq(conversation.id, conversationId));
        await tx.execute(sql`SELECT set_config('helpdesk.erasure', ${String(idx)}, true)`);
        const redacted = await tx
          .update(turn)
          .set({ text: '', data: { erasedBy: idx }, escalationDetail: null })
          .where(and(eq(turn.conversationId, conversationId), lte(turn.seq, header.through), sql`NOT jsonb_exists(${turn.data}, 'erasedBy')`))
          .returning({ seq: turn.seq });
        await tx.execute(sql`SELECT set_config('helpdesk.erasure', '', true)`);
        await tx.delete(turnContent).where(and(eq(turnContent.conversationId, conversationId), lte(turnContent.seq, header.through)));
        await tx.delete(conversationKey).where(eq(conversationKey.conversationId, conversationId));
        // The files the customer uploaded: unreadable with the key gone, and removed.
        await tx.delete(customerFile).where(eq(customerFile.conversationId, conversationId));
        await purgeChannelCopies(tx, conversationId, idx);
        return { status: 'erased', entryIdx: idx, turnsErased: redacted.length };
      },
    );
  }

  /**
   * What the channels kept of an erased conversation goes with it: the Telegram updates its turns
   * came from (payload purged, ids kept so that a redelivery is still recognised), the replies to
   * them in the outbox (payload emptied, pending ones given up) and what the handoff was relaying.
   * (The conversation row stays, the log refers to it, under an external id that names nobody: a
   * Telegram user's next message opens a new conversation; a web customer holding the
   * conversation's token, a random secret kept as a hash, may go on.)
   */
  async function purgeChannelCopies(tx: Db, conversationId: string, erasureIdx: number): Promise<void> {
    const keyed = await tx
      .select({ key: turn.externalKey })
      .from(turn)
      .where(and(eq(turn.conversationId, conversationId), isNotNull(turn.externalKey)));
    const updates = keyed.flatMap((r) => {
      const match = /^tg:(\d+):(\d+)$/.exec(r.key ?? '');
      return match ? [{ source: `telegram:${match[1]}`, updateId: Number(match[2]), bot: match[1] as string }] : [];
    });
    for (const u of updates) {
      await tx
        .update(channelUpdate)
        .set({ payload: null, status: sql`CASE WHEN ${channelUpdate.status} = 'pending' THEN 'done' ELSE ${channelUpdate.status} END`, lastError: null })
        .where(and(eq(channelUpdate.source, u.source), eq(channelUpdate.updateId, u.updateId)));
    }
    const replyKeys = [...updates.map((u) => `tg:${u.bot}:u${u.updateId}:%`), `%:${conversationId}:%`];
    await tx
      .update(channelOutbox)
      .set({
        payload: {},
        status: sql`CASE WHEN ${channelOutbox.status} = 'pending' THEN 'failed' ELSE ${channelOutbox.status} END`,
        lastError: sql`CASE WHEN ${channelOutbox.status} = 'pending' THEN 'erased' ELSE ${channelOutbox.lastError} END`,
        lockedUntil: null,
      })
      .where(and(ne(channelOutbox.channel, 'slack'), or(...replyKeys.map((k) => like(channelOutbox.dedupeKey, k)))));
    const [desk] = await tx
      .update(handoff)
      .set({ mirrorInflight: null, lastError: null })
      .where(eq(handoff.conversationId, conversationId))
      .returning({ channel: handoff.deskChannel, thread: handoff.deskThread });
    // The agents' Slack thread: the bot's messages there are redacted, its uploads deleted, by the
    // Slack adapter through the outbox (whenever the server runs: this may be a command-line erasure).
    if (desk?.channel && desk.thread) {
      await tx
        .insert(channelOutbox)
        .values({
          channel: 'slack',
          chatId: desk.channel,
          dedupeKey: `slack:redact:${conversationId}:${erasureIdx}`,
          method: 'redact_thread',
          payload: {
            channel: desk.channel,
            thread: desk.thread,
            marker: `_Erased at the customer's request (turn log entry #${erasureIdx})._ 已应客户要求删除。`,
          },
        })
        .onConflictDoNothing();
    }
  }

  /** Places (or replaces) a legal hold: erasure requests are deferred and the deferral logged. */
  async function placeLegalHold(conversationId: string, reason: string): Promise<number> {
    return logEvent(
      conversationId,
      (prev, at) => ({ v: LOG_FORMAT_VERSION, kind: 'legal_hold', conv: conversationId, on: true, prev, at }),
      async (tx, idx) => {
        await tx.insert(legalHold).values({ conversationId, reason }).onConflictDoUpdate({ target: legalHold.conversationId, set: { reason } });
        return idx;
      },
    );
  }

  async function releaseLegalHold(conversationId: string): Promise<number> {
    return logEvent(
      conversationId,
      (prev, at) => ({ v: LOG_FORMAT_VERSION, kind: 'legal_hold', conv: conversationId, on: false, prev, at }),
      async (tx, idx) => {
        await tx.delete(legalHold).where(eq(legalHold.conversationId, conversationId));
        return idx;
      },
    );
  }

  const auditPage = (afterIdx: number, limit: number, keys: AuditKeyCache, on: Connection = database) =>
    auditRows(on.run, { afterIdx, limit }, (wrapped, id) => contentKeys.unwrap(wrapped, id), keys);

  /**
   * Turns stored without a log entry (at most 100). NOT EXISTS rather than an outer join: it is
   * planned as a merge anti-join of the two (conversation, seq) indexes, without reading the tables
   * (0.6 s for 1M turns instead of 1.4 s).
   */
  async function turnsWithoutEntry(q: Db = db): Promise<Array<{ conversationId: string; seq: number }>> {
    return q
      .select({ conversationId: turn.conversationId, seq: turn.seq })
      .from(turn)
      .where(
        notExists(
          q
            .select({ one: sql`1` })
            .from(logEntry)
            .where(and(eq(logEntry.kind, 'turn'), eq(logEntry.conversationId, turn.conversationId), eq(logEntry.seq, turn.seq))),
        ),
      )
      .limit(100);
  }

  /** The knowledge base's history against its log entries (few rows: read whole, in the audit's snapshot). */
  async function knowledgeViolations(q: Db): Promise<Violation[]> {
    const entries = await q.select({ idx: logEntry.idx, header: logEntry.header }).from(logEntry).where(eq(logEntry.kind, 'knowledge'));
    const events = entries.flatMap((e) => {
      const parsed = parseHeader(e.header);
      return parsed.ok && parsed.header.kind === 'knowledge' ? [{ idx: e.idx, header: parsed.header }] : [];
    });
    const revisions = await q.select().from(kbRevision);
    return checkKnowledgeRevisions(
      events,
      revisions.map((r) => ({
        content: toEntryContent(r),
        version: r.version,
        status: r.status as RevisionStatus,
        author: r.author,
        logIdx: r.logIdx,
      })),
    );
  }

  async function storedCheckpoints(q: Db = db): Promise<CheckpointSource[]> {
    const rows = await q.select({ note: logCheckpoint.note }).from(logCheckpoint).orderBy(asc(logCheckpoint.size));
    return rows.map((r) => ({ source: 'database', note: r.note }));
  }

  /**
   * Full audit: streams every entry and checks it, the stored checkpoints and the published ones
   * (`published`, read from outside the database by the caller). It reads one REPEATABLE READ
   * snapshot, so appends going on meanwhile do not disturb it.
   */
  async function verify(options: { published?: CheckpointSource[]; verifierKey?: string } = {}): Promise<AuditReport> {
    const auditVerifier = options.verifierKey ? parseVerifierKey(options.verifierKey) : verifier;
    const databaseUrl = deps.audit?.databaseUrl;
    // Worker threads take about half a second to start: they start now, alongside ANALYZE.
    const workers =
      databaseUrl && (await head()).size >= (deps.audit?.parallelFrom ?? PARALLEL_AUDIT_FROM)
        ? startAuditWorkers({ databaseUrl, count: deps.audit?.workers ?? defaultAuditWorkers(), masterKeys: contentKeys.exportText() })
        : undefined;
    try {
      await analyzeIfStale();
      return await database.transaction(
        async (tx) => {
          const q = tx.db;
          const h = await head(q);
          const v = createLogVerifier({ origin, verifier: auditVerifier, checkpoints: [...(await storedCheckpoints(q)), ...(options.published ?? [])] });
          if (workers) {
            const withoutEntry = await feedFromWorkers(q, workers, h.size, v);
            v.addViolations(await knowledgeViolations(q));
            return v.finish(h, withoutEntry);
          }
          await feedInThread(tx, v);
          v.addViolations(await knowledgeViolations(q));
          return v.finish(h, await turnsWithoutEntry(q));
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      );
    } finally {
      await workers?.close();
    }
  }

  /**
   * Fresh planner statistics keep the paged join index-ordered (no sort spilling to disk): the
   * audit's tables are analyzed first when autovacuum has not done so since a tenth of them changed.
   */
  async function analyzeIfStale(): Promise<void> {
    const tables = ['log_entry', 'turn', 'turn_content', 'conversation_key'];
    try {
      const stale = await queryRows<{ relname: string }>(
        db,
        sql`SELECT relname FROM pg_stat_user_tables
            WHERE relname IN (${sql.join(
              tables.map((t) => sql`${t}`),
              sql`, `,
            )})
              AND (coalesce(last_analyze, last_autoanalyze) IS NULL OR n_mod_since_analyze > 0.1 * greatest(n_live_tup, 1000))`,
      );
      const names = tables.filter((t) => stale.some((r) => r.relname === t));
      if (names.length > 0) await db.execute(sql.raw(`ANALYZE ${names.join(', ')}`));
    } catch {
      // Statistics are an optimization: the audit runs without them.
    }
  }

  /** Keyset pages, the next one fetched while this one is checked: the database and the CPU overlap. */
  async function feedInThread(q: Connection, v: LogVerifier): Promise<void> {
    const keys: AuditKeyCache = new Map();
    let page = await auditPage(-1, pageSize, keys, q);
    for (;;) {
      const last = page[page.length - 1];
      const next = page.length === pageSize && last ? auditPage(last.idx, pageSize, keys, q) : undefined;
      for (const entry of page) v.feed(entry);
      if (!next) break;
      page = await next;
    }
  }

  /**
   * The audit's bulk on PostgreSQL in worker threads: the snapshot of the audit's transaction `q`
   * is exported to them; they read index ranges on their own connections and check each entry on
   * its own (leaf hash, header, decryption and content); this thread checks the order-dependent
   * rest (tree, chains, erasures, checkpoints).
   */
  async function feedFromWorkers(q: Db, workers: AuditWorkers, headSize: number, v: LogVerifier): Promise<Array<{ conversationId: string; seq: number }>> {
    // The workers read in parallel already: a parallel plan on top would only add processes to a
    // machine the audit keeps busy.
    await q.execute(sql`SET LOCAL max_parallel_workers_per_gather = 0`);
    const [exported] = await queryRows<{ snapshot: string }>(q, sql`SELECT pg_export_snapshot() AS snapshot`);
    workers.begin((exported as { snapshot: string }).snapshot);
    const [bounds] = await queryRows<{ first: string | number | null; last: string | number | null }>(
      q,
      sql`SELECT min(idx) AS first, max(idx) AS last FROM log_entry`,
    );
    // Pages of the indices the head covers; rows a tampering left outside them (negative, or
    // beyond the head) come in one page each side, so a forged index cannot make pages explode.
    const ranges: Array<{ from: number; to: number }> = [];
    if (bounds?.first !== null && bounds?.first !== undefined) {
      const first = Number(bounds.first);
      const last = Number(bounds.last);
      const end = Math.min(headSize, last + 1);
      if (first < 0) ranges.push({ from: Number.MIN_SAFE_INTEGER, to: 0 });
      for (let from = 0; from < end; from += pageSize) ranges.push({ from, to: Math.min(from + pageSize, end) });
      if (last >= end) ranges.push({ from: Math.max(end, 0), to: Number.MAX_SAFE_INTEGER });
    }
    // This connection is idle while the workers read: the turns without an entry are looked for
    // meanwhile (in the same snapshot), rather than after the last page.
    const withoutEntry = turnsWithoutEntry(q);
    withoutEntry.catch(() => undefined); // awaited below
    await workers.pages(ranges, v.feedChecked);
    return withoutEntry;
  }

  /**
   * Scheduled self-check: verifies the entries appended since the last run, every stored
   * checkpoint as the stream reaches its size, and the head against the recomputed root; calls
   * `alert` with new violations. `check()` runs once now (also used by tests).
   */
  function startSelfCheck(intervalMs: number, alert: (violations: Violation[]) => void): { stop(): void; check(): Promise<void> } {
    const v = createLogVerifier({ origin, verifier });
    let seenCheckpoint = -1;
    let reported = 0;
    let running: Promise<void> | undefined;
    const extra: Violation[] = [];
    const run = async () => {
      try {
        // Checkpoints first, so each is compared when the stream reaches its size.
        const notes = await db
          .select({ size: logCheckpoint.size, note: logCheckpoint.note })
          .from(logCheckpoint)
          .where(gt(logCheckpoint.size, seenCheckpoint))
          .orderBy(asc(logCheckpoint.size));
        const fresh = notes.filter((n) => n.size > v.size);
        if (fresh.length > 0) {
          v.addCheckpoints(fresh.map((n) => ({ source: 'database', note: n.note })));
          seenCheckpoint = (fresh[fresh.length - 1] as { size: number }).size;
        }
        const h = await head();
        // Keys are kept for this run only: an erased conversation's key must not live on in memory.
        const keys: AuditKeyCache = new Map();
        for (;;) {
          const page = await auditPage(v.size - 1, pageSize, keys);
          for (const entry of page.filter((e) => e.idx < h.size)) v.feed(entry);
          if (page.length < pageSize || v.size >= h.size) break;
        }
        if (h.size < v.size) extra.push({ idx: h.size, reason: `log head went back from ${v.size} to ${h.size} entries` });
        else if (h.size === v.size && !v.root().equals(h.root)) extra.push({ idx: null, reason: 'log head root does not match the stored entries' });
        const all = [...v.violations(), ...extra];
        if (all.length > reported) {
          alert(all.slice(reported));
          reported = all.length;
        }
      } catch (error) {
        deps.logger?.error({ err: error }, 'turn log self-check failed to run');
      }
    };
    const check = () => {
      running ??= run().finally(() => {
        running = undefined;
      });
      return running;
    };
    const timer = setInterval(() => void check(), intervalMs);
    timer.unref();
    void check();
    return {
      stop: () => clearInterval(timer),
      check,
    };
  }

  /** Signs a checkpoint about every `intervalMs` when the log grew. */
  function startCheckpointing(intervalMs: number): { stop(): Promise<void> } {
    const timer = setInterval(() => {
      checkpointNow().catch((error) => deps.logger?.error({ err: error }, 'checkpoint failed'));
    }, intervalMs);
    timer.unref();
    return {
      async stop() {
        clearInterval(timer);
        await inFlight?.catch(() => undefined);
      },
    };
  }

  const turnLog: TurnLog = {
    origin,
    publicKey: verifierKey,
    async latestCheckpoint() {
      return (await latestStored())?.note;
    },
    transcript,
  };

  return {
    ...turnLog,
    head,
    checkpointNow,
    inclusionProof,
    consistencyProof,
    transcript,
    erase,
    placeLegalHold,
    releaseLegalHold,
    verify,
    startSelfCheck,
    startCheckpointing,
    /** Header of one entry, parsed (for tools and tests). */
    async entry(idx: number) {
      const [row] = await db.select().from(logEntry).where(eq(logEntry.idx, idx));
      if (!row) return undefined;
      const parsed = parseHeader(row.header);
      return { ...row, parsed: parsed.ok ? parsed.header : undefined };
    },
  };
}

export type PgTurnLog = ReturnType<typeof createPgTurnLog>;
