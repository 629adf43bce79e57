import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LogHeader } from '../../../core/audit/log-entry.js';
import type { CheckedEntry, Violation } from '../../../core/audit/verify-log.js';

/** Entry kinds as the workers encode them (code = index + 1; 0 = header did not parse). */
export const KIND_CODES: ReadonlyArray<LogHeader['kind']> = ['turn', 'close', 'erasure', 'erasure_deferred', 'legal_hold', 'knowledge'];
const KIND_MASK = 0x07;
/** Flags: the header's `prev` names a leaf (in `prevs`), or is another string (in `otherPrevs`). */
export const PREV_LEAF = 0x08;
export const PREV_OTHER = 0x10;
/** Flag: the turn's content is gone. */
export const CONTENT_GONE = 0x80;

export interface AuditBegin {
  snapshot: string;
}

export interface AuditPageRequest {
  id: number;
  from: number;
  to: number;
}

/** One checked page, in columns (the typed arrays are transferred, not copied). */
export interface AuditPageReply {
  id: number;
  idx: Float64Array<ArrayBuffer>;
  leaves: Uint8Array<ArrayBuffer>;
  /** The leaf hash each header names as previous, when it names one (PREV_LEAF). */
  prevs: Uint8Array<ArrayBuffer>;
  /** NaN for none. */
  seq: Float64Array<ArrayBuffer>;
  /** Kind code in the low bits (0: the header did not parse), PREV_LEAF, PREV_OTHER, CONTENT_GONE. */
  flags: Uint8Array<ArrayBuffer>;
  /** Each entry's conversation, by the worker's number for it… */
  conv: Int32Array<ArrayBuffer>;
  /** …the ids of those it numbered first in this page, numbers `convFrom` on (0: it numbers afresh). */
  convFrom: number;
  newConvs: string[];
  /** `prev` strings that name no leaf, by position in the page. */
  otherPrevs: Array<[number, string]>;
  problems: Array<{ i: number; violations?: Violation[]; contentViolation?: Violation }>;
}

export const defaultAuditWorkers = (): number => Math.max(1, Math.min(4, availableParallelism()));

const WORKER_URL = new URL('./audit-worker.ts', import.meta.url).href;

/**
 * Starts `count` worker threads, each connecting to `databaseUrl`. `begin(snapshot)` has them read
 * in that snapshot (exported by the caller's open REPEATABLE READ transaction, which must stay open
 * until `close`); `pages(ranges, feed)` then checks the index ranges, spread over the workers, and
 * hands each entry to `feed` in index order.
 */
export function startAuditWorkers(options: { databaseUrl: string; count: number; masterKeys: string }) {
  // The product runs TypeScript through tsx; a worker needs its loader registered before its entry.
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL)}); });`;
  const pending = new Map<number, { resolve(reply: AuditPageReply): void; reject(error: Error): void }>();
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  const workers = Array.from({ length: options.count }, () => {
    const worker = new Worker(bootstrap, {
      eval: true,
      execArgv: [],
      workerData: { databaseUrl: options.databaseUrl, masterKeys: options.masterKeys },
      // A page (5,000 entries) leaves ~15 MB of short-lived objects: with a young generation that
      // holds it, they die young instead of being copied and promoted (audit ~10% faster than
      // with the default; 128 MB was slower again).
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
    });
    worker.on('message', (reply: AuditPageReply | { id: number; error: string }) => {
      const waiter = pending.get(reply.id);
      pending.delete(reply.id);
      if ('error' in reply) waiter?.reject(new Error(`audit worker: ${reply.error}`));
      else waiter?.resolve(reply);
    });
    worker.on('error', (error) => failAll(error));
    worker.on('exit', (code) => {
      if (code !== 0) failAll(new Error(`audit worker exited with code ${code}`));
    });
    return worker;
  });
  let nextId = 0;
  const request = (worker: Worker, from: number, to: number): Promise<AuditPageReply> =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, from, to } satisfies AuditPageRequest);
    });
  // Each worker's conversation numbers, as its replies (read in the order it sent them) tell them.
  const conversations = workers.map(() => [] as string[]);

  return {
    begin(snapshot: string): void {
      for (const worker of workers) worker.postMessage({ snapshot } satisfies AuditBegin);
    },
    async pages(ranges: Array<{ from: number; to: number }>, feed: (entry: CheckedEntry) => void): Promise<void> {
      // Two pages in flight per worker: one being read by PostgreSQL while the other is checked.
      const ahead = 2 * workers.length;
      const replies = new Map<number, Promise<AuditPageReply>>();
      const ask = (p: number) => {
        const range = ranges[p];
        if (!range) return;
        const reply = request(workers[p % workers.length] as Worker, range.from, range.to);
        reply.catch(() => undefined); // awaited in order below
        replies.set(p, reply);
      };
      for (let p = 0; p < ahead; p++) ask(p);
      for (let p = 0; p < ranges.length; p++) {
        const reply = await (replies.get(p) as Promise<AuditPageReply>);
        replies.delete(p);
        ask(p + ahead);
        const names = reply.convFrom === 0 ? [] : (conversations[p % workers.length] as string[]);
        if (names.length !== reply.convFrom) throw new Error('audit worker: conversation numbers out of step');
        for (const id of reply.newConvs) names.push(id);
        conversations[p % workers.length] = names;
        const problems = new Map(reply.problems.map((x) => [x.i, x]));
        const otherPrevs = new Map(reply.otherPrevs);
        const leaves = Buffer.from(reply.leaves.buffer, reply.leaves.byteOffset, reply.leaves.byteLength);
        const prevs = Buffer.from(reply.prevs.buffer, reply.prevs.byteOffset, reply.prevs.byteLength);
        for (let i = 0; i < reply.idx.length; i++) {
          const flags = reply.flags[i] as number;
          const code = flags & KIND_MASK;
          const seq = reply.seq[i] as number;
          const entry: CheckedEntry = {
            idx: reply.idx[i] as number,
            leaf: leaves.subarray(32 * i, 32 * i + 32),
            kind: code === 0 ? null : (KIND_CODES[code - 1] as LogHeader['kind']),
            conv: names[reply.conv[i] as number] as string,
            prev: flags & PREV_LEAF ? prevs.subarray(32 * i, 32 * i + 32) : flags & PREV_OTHER ? (otherPrevs.get(i) as string) : null,
            seq: Number.isNaN(seq) ? null : seq,
            contentGone: (flags & CONTENT_GONE) !== 0,
          };
          if (problems.size > 0) {
            const problem = problems.get(i);
            if (problem?.violations) entry.violations = problem.violations;
            if (problem?.contentViolation) entry.contentViolation = problem.contentViolation;
          }
          feed(entry);
        }
      }
    },
    async close(): Promise<void> {
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((done) => {
              worker.once('exit', () => done());
              worker.postMessage('close');
              setTimeout(() => void worker.terminate(), 5000).unref();
            }),
        ),
      );
    },
  };
}

export type AuditWorkers = ReturnType<typeof startAuditWorkers>;
