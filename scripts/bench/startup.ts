import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from './in-process.js';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, trackChild, untrackChild } from './cleanup.js';
import { median, round } from './stats.js';

const POLL_MS = 50;
const READY_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 20_000;
/** How long the server gets to exit by itself once npm has exited. */
const ORPHAN_GRACE_MS = 1000;
const OUTPUT_KEEP_CHARS = 200_000;

/** How the product's shutdowns went, across every start of this run. */
const stopCounts = { total: 0, orphaned: 0, forced: 0, lockLeft: 0, stopMs: [] as number[], npmExits: [] as string[] };

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface StartedChild {
  child: ChildProcess;
  exited: Promise<Exit>;
  hasExited: () => boolean;
  output: () => string;
}

function spawnProduct(repoRoot: string, dataDir: string, port: number): StartedChild {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir, KB_WATCH: 'false', LOG_LEVEL: 'info' };
  // Defaults for everything else: embedded database, offline mode, local embedder, repo knowledge.
  for (const name of ['DATABASE_URL', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'EMBEDDER', 'KNOWLEDGE_DIR', 'HOST']) delete env[name];
  // Its own process group (npm → sh → tsx → node), so a stray grandchild can be found and killed.
  const child = spawn('npm', ['start'], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_KEEP_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let done = false;
  const exited = new Promise<Exit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolveExit({ code, signal });
    });
    child.once('error', (error) => {
      done = true;
      tail += `\nspawn error: ${error.message}`;
      resolveExit({ code: null, signal: null });
    });
  });
  return { child, exited, hasExited: () => done, output: () => tail };
}

async function waitGroupGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (groupAlive(pid) && performance.now() < deadline) await sleep(POLL_MS);
  return !groupAlive(pid);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // gone meanwhile
  }
}

interface Stopped {
  exit: Exit;
  stopMs: number;
  /** npm exited on SIGTERM but the server (tsx → node) kept running and had to be signalled itself. */
  orphaned: boolean;
  forced: boolean;
}

/**
 * SIGTERM to the `npm start` process and wait for it to exit. npm relays the signal only to the
 * `sh -c` it runs the script with, which does not pass it on: if the server is still running
 * shortly after npm exited, SIGTERM goes to the rest of the process group (as a terminal's Ctrl-C
 * or a supervisor stopping the service would), and the bench waits until every process of the
 * group has exited — the embedded database allows one process per data folder. SIGKILL only as a
 * last resort.
 */
async function stopProduct(started: StartedChild): Promise<Stopped> {
  const pid = started.child.pid;
  const t0 = performance.now();
  let orphaned = false;
  let forced = false;
  try {
    if (!started.hasExited()) started.child.kill('SIGTERM');
    const timedOut = Symbol('timeout');
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([
      started.exited,
      new Promise<symbol>((done) => {
        timer = setTimeout(() => done(timedOut), EXIT_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    if (pid !== undefined) {
      if (first === timedOut || !(await waitGroupGone(pid, ORPHAN_GRACE_MS))) {
        orphaned = true;
        signalGroup(pid, 'SIGTERM');
        if (!(await waitGroupGone(pid, EXIT_TIMEOUT_MS))) {
          forced = true;
          log(`processes of group ${pid} still alive ${EXIT_TIMEOUT_MS} ms after SIGTERM: SIGKILL`);
          signalGroup(pid, 'SIGKILL');
          await waitGroupGone(pid, EXIT_TIMEOUT_MS);
        }
      }
    }
    const exit = await started.exited;
    return { exit, stopMs: performance.now() - t0, orphaned, forced };
  } finally {
    untrackChild(pid);
  }
}

interface SyncLog {
  ms: number;
  added: number;
  unchanged: number;
}

/** The product's own "knowledge base synced" log line (pino JSON), if it printed one. */
function findSyncLog(output: string): SyncLog | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('knowledge base synced')) continue;
    try {
      const record = JSON.parse(line) as Partial<SyncLog> & { msg?: string };
      if (record.msg === 'knowledge base synced' && typeof record.ms === 'number') {
        return { ms: record.ms, added: record.added ?? 0, unchanged: record.unchanged ?? 0 };
      }
    } catch {
      // not a JSON log line
    }
  }
  return undefined;
}

/** Spawns `npm start` and times it until GET /healthz answers 200 (polled every 50 ms). */
async function timeStart(repoRoot: string, dataDir: string, label: string) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/healthz`;
  const t0 = performance.now();
  const started = spawnProduct(repoRoot, dataDir, port);
  try {
    let health: Record<string, unknown> | undefined;
    while (health === undefined) {
      if (started.hasExited()) {
        const exit = await started.exited;
        throw new Error(`npm start exited (code ${exit.code}, signal ${exit.signal}) before /healthz answered:\n${started.output().slice(-1500)}`);
      }
      if (performance.now() - t0 > READY_TIMEOUT_MS) {
        throw new Error(`/healthz did not answer 200 within ${READY_TIMEOUT_MS} ms:\n${started.output().slice(-1500)}`);
      }
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
        if (response.status === 200) health = (await response.json()) as Record<string, unknown>;
        else await response.body?.cancel();
      } catch {
        // not listening yet
      }
      if (health === undefined) await sleep(POLL_MS);
    }
    const readyMs = performance.now() - t0;
    const sync = findSyncLog(started.output());
    log(
      `  ${label}: ready in ${readyMs.toFixed(0)} ms (${String(health.database)}, ${String(health.mode)}` +
        `${sync ? `; knowledge sync ${sync.ms} ms, ${sync.added} added, ${sync.unchanged} unchanged` : ''})`,
    );
    return { readyMs, health, sync };
  } finally {
    const stopped = await stopProduct(started);
    const lockLeft = existsSync(join(dataDir, 'helpdesk.lock'));
    const npmExit = stopped.exit.signal ?? `code ${stopped.exit.code}`;
    if (stopped.forced || lockLeft) {
      log(
        `  ${label}: stop took ${stopped.stopMs.toFixed(0)} ms, npm exit ${npmExit}` +
          `${stopped.forced ? ', SIGKILL needed' : ''}${lockLeft ? ', data-dir lock left behind' : ''}`,
      );
    }
    stopCounts.total++;
    if (stopped.orphaned) stopCounts.orphaned++;
    if (stopped.forced) stopCounts.forced++;
    if (lockLeft) stopCounts.lockLeft++;
    if (!stopCounts.npmExits.includes(npmExit)) stopCounts.npmExits.push(npmExit);
    stopCounts.stopMs.push(stopped.stopMs);
  }
}

/**
 * Cold start (fresh empty DATA_DIR: migrations + first knowledge sync) then warm start (same
 * DATA_DIR, nothing to re-embed), `runs` times each; medians reported.
 */
export async function benchStartup(repoRoot: string, runs = 3) {
  const cold: number[] = [];
  const warm: number[] = [];
  const coldSync: SyncLog[] = [];
  const warmSync: SyncLog[] = [];
  let engine: unknown;
  for (let run = 1; run <= runs; run++) {
    const dataDir = await makeTempDir('helpdesk-bench-startup-');
    try {
      const c = await timeStart(repoRoot, dataDir, `cold start ${run}/${runs}`);
      cold.push(c.readyMs);
      if (c.sync) coldSync.push(c.sync);
      engine = c.health.database;
      const w = await timeStart(repoRoot, dataDir, `warm start ${run}/${runs}`);
      warm.push(w.readyMs);
      if (w.sync) warmSync.push(w.sync);
    } finally {
      await removeTempDir(dataDir);
    }
  }
  const warmMs = round(median(warm), 0);
  const syncFigures = (logs: SyncLog[]) =>
    logs.length === 0 ? null : { medianMs: round(median(logs.map((l) => l.ms)), 0), added: logs[0]?.added, unchanged: logs[0]?.unchanged };
  return {
    command: 'npm start',
    engine,
    runs,
    coldMs: round(median(cold), 0),
    warmMs,
    coldRunsMs: cold.map((x) => round(x, 0)),
    warmRunsMs: warm.map((x) => round(x, 0)),
    // From the product's "knowledge base synced" log line: the part of start-up spent syncing.
    knowledgeSync: { cold: syncFigures(coldSync), warm: syncFigures(warmSync) },
    shutdown: {
      starts: stopCounts.total,
      medianStopMs: round(median(stopCounts.stopMs), 0),
      npmExit: stopCounts.npmExits,
      // Stops where npm exited on SIGTERM but left the server running (the bench then signalled its group).
      serverOrphanedByNpm: stopCounts.orphaned,
      sigkillNeeded: stopCounts.forced,
      lockLeftBehind: stopCounts.lockLeft,
    },
    target: { warmMsMax: 10_000, met: warmMs <= 10_000 },
  };
}
