/**
 * Turn-log figures for `npm run bench`: appends/s from 2 processes on PostgreSQL with p50/p99,
 * checkpoint lag, full verification time (scaled to 1M entries) and inclusion-proof time.
 *
 * Also an append worker (used by the bench and by the multi-process tests):
 *   tsx scripts/bench/turn-log.ts worker DATABASE_URL COUNT CONCURRENCY
 * prints `ready`, waits for a line on stdin, then appends COUNT one-turn appends over CONCURRENCY
 * conversations and prints `ack <conversationId> <seq> <latencyMs> <epochMs>` after each commit.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { generateMasterKeyText, loadContentKeys } from '../../src/adapters/postgres/db/content-keys.js';
import { openDatabase, queryRows } from '../../src/adapters/postgres/db/database.js';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import { createPgTurnLog } from '../../src/adapters/postgres/turn-log/pg-turn-log.js';
import { randomUUID } from 'node:crypto';
import { createFirewall, generateSignerKey, leafHash, LOG_FORMAT_VERSION, type NewTurn, parseSignerKey, toHeaderBytes } from '../../src/core/index.js';
import { appendToLog } from '../../src/adapters/postgres/turn-log/pg-log-append.js';
import { percentile, round } from './stats.js';

const SELF = fileURLToPath(import.meta.url);

// One content master key for the benchmark's processes (they inherit the environment): they share a database.
process.env.CONTENT_MASTER_KEY ??= generateMasterKeyText();
/** The content master keys every process of the benchmark (and a test using its workers) shares. */
export const benchContentKeys = () => loadContentKeys({ text: process.env.CONTENT_MASTER_KEY }).keys;
const firewall = createFirewall({ maxMessageChars: 4000 });
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function runWorker(url: string, count: number, concurrency: number): Promise<void> {
  const database = await openDatabase({ databaseUrl: url, dataDir: 'unused', contentKeys: benchContentKeys() });
  const flushes = process.env.TURN_LOG_FLUSHES ? Number(process.env.TURN_LOG_FLUSHES) : undefined;
  const store = createPgConversationStore(database, flushes ? { maxFlushes: flushes } : {});
  const conversations = [];
  for (let i = 0; i < concurrency; i++) {
    const { conversation } = await store.open({ channel: 'web', externalId: `bench-${process.pid}-${i}`, language: 'en', tokenHash: null });
    conversations.push(conversation.id);
  }
  process.stdout.write('ready\n');
  await new Promise<void>((done) => process.stdin.once('data', () => done()));
  let next = 0;
  // Acks are written out in bunches (each carries its own time): a pipe write per append would
  // cost this process CPU the appends are measured with.
  let acks: string[] = [];
  const flush = () => {
    if (acks.length > 0) process.stdout.write(acks.join(''));
    acks = [];
  };
  const flusher = setInterval(flush, 20);
  await Promise.all(
    conversations.map(async (id) => {
      while (next < count) {
        next += 1;
        const t0 = performance.now();
        const text = firewall.screen({ text: `message ${next} from ${process.pid} 你好` }).text;
        const result = await store.append(id, [{ role: 'customer', kind: 'message', text, language: 'en' }]);
        const ms = performance.now() - t0;
        acks.push(`ack ${id} ${result.turns[0]?.seq} ${ms.toFixed(3)} ${Date.now()}\n`);
      }
    }),
  );
  clearInterval(flusher);
  flush();
  process.stdout.write('done\n');
  await database.close();
}

export interface Ack {
  conversationId: string;
  seq: number;
  latencyMs: number;
  at: number;
}

export type Worker = {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  acks: Ack[];
  ready: Promise<void>;
  exited: Promise<number | null>;
  go(): void;
};

/** Starts an append worker process against `url`. */
export function startAppendWorker(url: string, count: number, concurrency: number): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, 'worker', url, String(count), String(concurrency)], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const acks: Ack[] = [];
  let buffer = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((done) => {
    markReady = done;
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') markReady();
      const [tag, conversationId, seq, ms, at] = line.split(' ');
      if (tag === 'ack' && conversationId) acks.push({ conversationId, seq: Number(seq), latencyMs: Number(ms), at: Number(at) });
    }
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  void exited.then((code) => {
    if (code !== 0 && code !== null && stderr) process.stderr.write(`[turn-log worker] ${stderr.slice(-2000)}\n`);
  });
  return { child, acks, ready, exited, go: () => child.stdin.write('go\n') };
}

/** Appends `total` turns in large appends (the same code path, 1000 turns per transaction). */
export async function fill(url: string, total: number, log: (m: string) => void): Promise<void> {
  const database = await openDatabase({ databaseUrl: url, dataDir: 'unused', contentKeys: benchContentKeys() });
  const store = createPgConversationStore(database);
  const PER_APPEND = 1000;
  // Customer text is stored screened; the filler is screened once (its content does not matter here).
  const filler = firewall.screen({ text: '填充 filler text of a typical length for a support chat' }).text;
  let done = 0;
  let n = 0;
  while (done < total) {
    const { conversation } = await store.open({ channel: 'web', externalId: `fill-${n++}`, language: 'zh', tokenHash: null });
    const size = Math.min(PER_APPEND, total - done);
    await store.append(
      conversation.id,
      Array.from(
        { length: size },
        (_, i): NewTurn =>
          i % 2
            ? { role: 'bot', kind: 'message', text: `填充 ${done + i} filler text of a typical length for a support chat`, language: 'zh' }
            : { role: 'customer', kind: 'message', text: filler, language: 'zh' },
      ),
    );
    done += size;
    if (n % 100 === 0) log(`filled ${done}/${total}`);
  }
  await database.close();
}

/** Pads the log with legal-hold events (one per random conversation id) in transactions of 20k. */
export async function extendWithEvents(database: Awaited<ReturnType<typeof openDatabase>>, count: number, log: (m: string) => void): Promise<void> {
  const CHUNK = 20_000;
  for (let done = 0; done < count; done += CHUNK) {
    const n = Math.min(CHUNK, count - done);
    await database.transaction(async (tx) => {
      const prepared = Array.from({ length: n }, () => {
        const header = { v: LOG_FORMAT_VERSION, kind: 'legal_hold' as const, conv: randomUUID(), on: true, prev: null, at: Date.now() };
        const bytes = toHeaderBytes(header);
        return { header, bytes, leaf: leafHash(bytes) };
      });
      for (let i = 0; i < prepared.length; i += 2000) await appendToLog(tx.run, prepared.slice(i, i + 2000));
    });
    if ((done / CHUNK) % 10 === 0) log(`padded ${done + n}/${count}`);
  }
}

export async function benchTurnLog(
  url: string,
  options: { appendsPerProcess: number; concurrency: number; verifyEntries: number; proofEntries: number; log: (m: string) => void },
) {
  const { log } = options;
  const database = await openDatabase({ databaseUrl: url, dataDir: 'unused', contentKeys: benchContentKeys() });
  await database.migrate();
  const checkpoints: Array<{ at: number; size: number }> = [];
  const turnLog = createPgTurnLog({
    database,
    origin: 'bench.example/turn-log',
    signer: parseSignerKey(generateSignerKey('bench.example/turn-log')),
    audit: { databaseUrl: url },
    publish: async (_note, cp) => {
      checkpoints.push({ at: Date.now(), size: cp.size });
    },
  });
  try {
    // 1. Appends from 2 processes, checkpoints about once a second meanwhile.
    const workers = [0, 1].map(() => startAppendWorker(url, options.appendsPerProcess, options.concurrency));
    await Promise.all(workers.map((w) => w.ready));
    const checkpointing = turnLog.startCheckpointing(1000);
    const t0 = performance.now();
    for (const w of workers) w.go();
    const codes = await Promise.all(workers.map((w) => w.exited));
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1500));
    await checkpointing.stop();
    if (codes.some((c) => c !== 0)) throw new Error(`append worker failed (exit ${codes.join(', ')})`);
    const acks = workers.flatMap((w) => w.acks);
    const latencies = acks.map((a) => a.latencyMs).sort((a, b) => a - b);

    // Checkpoint lag: from an append's acknowledgement to the first published checkpoint covering it.
    const idxRows = await queryRows<{ conversation_id: string; seq: number; idx: string }>(
      database.db,
      sql`SELECT conversation_id, seq, idx FROM log_entry WHERE kind = 'turn'`,
    );
    const idxOf = new Map(idxRows.map((r) => [`${r.conversation_id}:${r.seq}`, Number(r.idx)]));
    const lags: number[] = [];
    for (const a of acks) {
      const idx = idxOf.get(`${a.conversationId}:${a.seq}`);
      const covering = idx === undefined ? undefined : checkpoints.find((c) => c.size > idx && c.at >= a.at - 5);
      if (covering) lags.push(Math.max(0, covering.at - a.at));
    }
    lags.sort((a, b) => a - b);
    const appends = {
      processes: 2,
      inFlightPerProcess: options.concurrency,
      appends: acks.length,
      seconds: round(seconds, 2),
      perSecond: Math.round(acks.length / seconds),
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      maxMs: round(latencies[latencies.length - 1] ?? Number.NaN),
    };
    log(`appends: ${JSON.stringify(appends)}`);
    const checkpointLag = {
      checkpoints: checkpoints.length,
      p50Ms: round(percentile(lags, 50)),
      p99Ms: round(percentile(lags, 99)),
      maxMs: round(lags[lags.length - 1] ?? Number.NaN),
    };
    log(`checkpoint lag: ${JSON.stringify(checkpointLag)}`);

    // 2. Full verification over a larger log, scaled to 1M entries.
    const current = (await turnLog.head()).size;
    if (options.verifyEntries > current) await fill(url, options.verifyEntries - current, log);
    await turnLog.checkpointNow();
    const v0 = performance.now();
    const report = await turnLog.verify();
    const verifySeconds = (performance.now() - v0) / 1000;
    if (!report.ok) throw new Error(`audit failed: ${report.violations[0]?.reason}`);
    const verification = { entries: report.entries, seconds: round(verifySeconds), secondsPer1M: round((verifySeconds * 1_000_000) / report.entries, 1) };
    log(`verification: ${JSON.stringify(verification)}`);

    // 3. Inclusion proofs from storage, at `proofEntries` (padded with small event entries).
    const before = (await turnLog.head()).size;
    if (options.proofEntries > before) await extendWithEvents(database, options.proofEntries - before, log);
    const size = (await turnLog.head()).size;
    // A served log is in steady state: the bulk padding is vacuumed and analyzed first (what
    // autovacuum does soon after). Proofs are timed in a fresh process, as a server would serve
    // them: not in this one, whose heap is full of the padding it just generated. 50 proofs warm
    // up before 500 are timed.
    await database.db.execute(sql`VACUUM ANALYZE log_entry, log_node`);
    const proofMs = await timeProofsInChild(url, size, 50, 500);
    const proofs = { treeSize: size, proofs: proofMs.length, p50Ms: round(percentile(proofMs, 50)), p99Ms: round(percentile(proofMs, 99)) };
    log(`proofs: ${JSON.stringify(proofs)}`);
    return { appends, checkpointLag, verification, proofs };
  } finally {
    await database.close();
  }
}

/** Times `timed` inclusion proofs of random entries in a tree of `size`, after `warm` untimed ones, in a child process. */
async function timeProofsInChild(url: string, size: number, warm: number, timed: number): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, 'proofs', url, String(size), String(warm), String(timed)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
  });
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  if (code !== 0) throw new Error(`proof timing process failed (exit ${code})`);
  return (JSON.parse(out) as number[]).sort((a, b) => a - b);
}

async function runProofs(url: string, size: number, warm: number, timed: number): Promise<void> {
  const database = await openDatabase({ databaseUrl: url, dataDir: 'unused', contentKeys: benchContentKeys() });
  const turnLog = createPgTurnLog({ database, origin: 'bench.example/turn-log' });
  const ms: number[] = [];
  for (let i = 0; i < warm + timed; i++) {
    const index = Math.floor(Math.random() * size);
    const t0 = performance.now();
    await turnLog.inclusionProof(index, size);
    if (i >= warm) ms.push(performance.now() - t0);
  }
  await database.close();
  process.stdout.write(JSON.stringify(ms));
}

if (process.argv[1] && resolve(process.argv[1]) === SELF && process.argv[2] === 'proofs') {
  const [url, size, warm, timed] = process.argv.slice(3);
  await runProofs(url as string, Number(size), Number(warm), Number(timed));
  process.exit(0);
}

if (process.argv[1] && resolve(process.argv[1]) === SELF && process.argv[2] === 'worker') {
  const [url, count, concurrency] = process.argv.slice(3);
  await runWorker(url as string, Number(count), Number(concurrency));
  process.exit(0);
}
