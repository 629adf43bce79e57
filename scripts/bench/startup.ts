import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, trackChild, untrackChild } from './cleanup.js';
import { median, round } from './stats.js';

const POLL_MS = 50;
const READY_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 20_000;
const OUTPUT_TAIL_CHARS = 4000;

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** A TCP port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error('no free port'))));
    });
  });
}

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
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
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

/** SIGTERM to the npm process, wait for it and its whole group to exit; SIGKILL only as a fallback. */
async function stopProduct(started: StartedChild): Promise<{ exit: Exit; stopMs: number; forced: boolean }> {
  const pid = started.child.pid;
  const t0 = performance.now();
  let forced = false;
  try {
    if (!started.hasExited() && pid !== undefined) started.child.kill('SIGTERM');
    const timedOut = Symbol('timeout');
    const first = await Promise.race([started.exited, sleep(EXIT_TIMEOUT_MS).then(() => timedOut)]);
    if (first === timedOut && pid !== undefined) {
      forced = true;
      log(`npm start (pid ${pid}) did not exit ${EXIT_TIMEOUT_MS} ms after SIGTERM: SIGKILL to its group`);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    const exit = await started.exited;
    // npm may exit before its children: wait for the whole group (the database lock lives in node).
    if (pid !== undefined) {
      const deadline = performance.now() + EXIT_TIMEOUT_MS;
      while (groupAlive(pid) && performance.now() < deadline) await sleep(POLL_MS);
      if (groupAlive(pid)) {
        forced = true;
        log(`processes of group ${pid} still alive after npm exited: SIGKILL`);
        process.kill(-pid, 'SIGKILL');
        while (groupAlive(pid)) await sleep(POLL_MS);
      }
    }
    return { exit, stopMs: performance.now() - t0, forced };
  } finally {
    untrackChild(pid);
  }
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
    log(`  ${label}: ready in ${readyMs.toFixed(0)} ms (${String(health.database)}, ${String(health.mode)})`);
    return { readyMs, health };
  } finally {
    const stopped = await stopProduct(started);
    const lockLeft = existsSync(join(dataDir, 'helpdesk.lock'));
    if (stopped.forced || lockLeft || stopped.exit.code !== 0) {
      log(
        `  ${label}: stop took ${stopped.stopMs.toFixed(0)} ms, exit code ${stopped.exit.code}, signal ${stopped.exit.signal}` +
          `${stopped.forced ? ', forced' : ''}${lockLeft ? ', data-dir lock left behind' : ''}`,
      );
    }
    stopCounts.total++;
    if (stopped.forced) stopCounts.forced++;
    if (lockLeft) stopCounts.lockLeft++;
    if (stopped.exit.code !== 0) stopCounts.nonZeroExit++;
    stopCounts.stopMs.push(stopped.stopMs);
  }
}

const stopCounts = { total: 0, forced: 0, lockLeft: 0, nonZeroExit: 0, stopMs: [] as number[] };

/**
 * Cold start (fresh empty DATA_DIR: migrations + first knowledge sync) then warm start (same
 * DATA_DIR, nothing to re-embed), `runs` times each; medians reported.
 */
export async function benchStartup(repoRoot: string, runs = 3) {
  const cold: number[] = [];
  const warm: number[] = [];
  let engine: unknown;
  for (let run = 1; run <= runs; run++) {
    const dataDir = await makeTempDir('helpdesk-bench-startup-');
    try {
      const c = await timeStart(repoRoot, dataDir, `cold start ${run}/${runs}`);
      cold.push(c.readyMs);
      engine = c.health.database;
      const w = await timeStart(repoRoot, dataDir, `warm start ${run}/${runs}`);
      warm.push(w.readyMs);
    } finally {
      await removeTempDir(dataDir);
    }
  }
  const warmMs = round(median(warm), 0);
  return {
    command: 'npm start',
    engine,
    runs,
    coldMs: round(median(cold), 0),
    warmMs,
    coldRunsMs: cold.map((x) => round(x, 0)),
    warmRunsMs: warm.map((x) => round(x, 0)),
    shutdown: {
      medianStopMs: round(median(stopCounts.stopMs), 0),
      nonZeroExit: stopCounts.nonZeroExit,
      forcedKills: stopCounts.forced,
      lockLeftBehind: stopCounts.lockLeft,
    },
    target: { warmMsMax: 10_000, met: warmMs <= 10_000 },
  };
}
