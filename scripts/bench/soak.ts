import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startFakeTelegram } from '../../test/stand-ins/fake-telegram.js';
import { makeTempDir, removeTempDir, trackChild, untrackChild } from './cleanup.js';
import { benchEnv, freePort } from './in-process.js';
import { BENCH_QUESTIONS } from './questions.js';
import { round, summarize } from './stats.js';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident set size of a process, in MB (Linux /proc). */
function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? round(Number(match[1]) / 1024, 1) : undefined;
  } catch {
    return undefined;
  }
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxy / sxx;
}

/**
 * A long run of the product on its embedded default (PGlite in a data folder), as its own process
 * (`src/main.ts`, as `npm start` runs it): steady web traffic (a new conversation every 4
 * messages) and Telegram updates through the stand-in (long polling), for `minutes`. The process's
 * RSS is sampled every 10 s. Reported: the samples, each window's low (the floor the garbage
 * collector and PGlite come back to), least-squares trends in MB per hour, and latency per window.
 * The first window is warm-up (caches, WASM memory, JIT) and left out of the trends.
 */
export async function benchSoak(options: { repoRoot: string; minutes: number; webPerS?: number; telegramPerS?: number }) {
  const webPerS = options.webPerS ?? 10;
  const telegramPerS = options.telegramPerS ?? 2;
  const durationMs = options.minutes * 60_000;
  const windows = Math.max(3, Math.min(10, Math.round(options.minutes / 3)));
  const windowMs = durationMs / windows;
  const dataDir = await makeTempDir('helpdesk-bench-soak-');
  const fake = await startFakeTelegram({ maxHoldMs: 1_000 });
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: options.repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...benchEnv({ port, dataDir, repoRoot: options.repoRoot }),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      RATE_LIMIT_MESSAGES: '10000',
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRoot,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  trackChild(child);
  const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString('utf8').includes('Helpdesk ready at')) resolve();
      });
      void exited.then((how) => reject(new Error(`the product ended before it was ready (${how})`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const pid = child.pid as number;
    const t0 = Date.now();
    const samples: Array<{ min: number; rssMb: number }> = [];
    const latencies: number[][] = Array.from({ length: windows }, () => []);
    let errors = 0;
    const errorKinds: Record<string, number> = {};
    const failed = (error: unknown) => {
      errors += 1;
      const kind = error instanceof Error ? error.message.slice(0, 80) : String(error);
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    };
    let webMessages = 0;
    let telegramUpdates = 0;
    let ended: string | undefined;
    void exited.then((how) => {
      ended = how;
    });
    const windowOf = () => Math.min(windows - 1, Math.floor((Date.now() - t0) / windowMs));
    const running = () => Date.now() - t0 < durationMs && !ended;

    const sampler = (async () => {
      while (running()) {
        const rss = rssMb(pid);
        if (rss !== undefined) samples.push({ min: round((Date.now() - t0) / 60_000, 2), rssMb: rss });
        await sleep(10_000);
      }
    })();
    const post = async (path: string, body: unknown, token?: string) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const json = (await res.json()) as { id?: string; token?: string };
      if (res.status !== 201) throw new Error(`${path.replace(/[0-9a-f-]{36}/, ':id')}: ${res.status}`);
      return json;
    };
    // Web: a customer every 4 / webPerS seconds opens a conversation and sends 4 messages, one
    // after another; customers overlap, up to MAX_CUSTOMERS at once (a customer due beyond that is
    // counted as not offered: the product is saturated, which a memory soak must not be).
    const MAX_CUSTOMERS = 16;
    let customers = 0;
    let notOffered = 0;
    const customer = async (c: number) => {
      try {
        const conversation = await post('/api/conversations', {});
        for (let k = 0; k < 4 && running(); k++) {
          const started = performance.now();
          await post(`/api/conversations/${conversation.id}/messages`, { text: BENCH_QUESTIONS[(c * 4 + k) % BENCH_QUESTIONS.length] }, conversation.token);
          latencies[windowOf()]?.push(performance.now() - started);
          webMessages += 1;
        }
      } catch (error) {
        failed(error);
      } finally {
        customers -= 1;
      }
    };
    const web = (async () => {
      const under = new Set<Promise<void>>();
      for (let c = 0; running(); c++) {
        const due = t0 + (c * 4 * 1000) / webPerS;
        if (due > Date.now()) await sleep(due - Date.now());
        if (customers >= MAX_CUSTOMERS) {
          notOffered += 4;
          continue;
        }
        customers += 1;
        const one = customer(c).finally(() => under.delete(one));
        under.add(one);
      }
      await Promise.all(under);
    })();
    const telegram = (async () => {
      for (let i = 0; running(); i++) {
        const due = t0 + (i * 1000) / telegramPerS;
        if (due > Date.now()) await sleep(due - Date.now());
        fake.userSends(7_000_000 + (i % 500), BENCH_QUESTIONS[i % BENCH_QUESTIONS.length] as string);
        telegramUpdates += 1;
      }
    })();
    let lastReport = 0;
    while (running()) {
      await sleep(5_000);
      if (Date.now() - lastReport >= 60_000) {
        lastReport = Date.now();
        log(
          `  soak: ${round((Date.now() - t0) / 60_000, 1)} of ${options.minutes} min, RSS ${samples.at(-1)?.rssMb ?? '?'} MB, ${webMessages} web messages, ${errors} errors`,
        );
      }
    }
    await Promise.all([sampler, web, telegram]);
    if (ended) throw new Error(`the product ended during the soak (${ended})`);
    const answered = fake.sent.length;

    const byWindow = Array.from({ length: windows }, (_, w) => {
      const inWindow = samples.filter((s) => s.min * 60_000 >= w * windowMs && s.min * 60_000 < (w + 1) * windowMs);
      const rss = inWindow.map((s) => s.rssMb);
      return {
        fromMin: round((w * windowMs) / 60_000, 1),
        rssLowMb: rss.length ? Math.min(...rss) : null,
        rssHighMb: rss.length ? Math.max(...rss) : null,
        webLatency: summarize(latencies[w] ?? []),
      };
    });
    const afterWarmUp = samples.filter((s) => s.min * 60_000 >= windowMs);
    const lows = byWindow.slice(1).flatMap((w) => (w.rssLowMb === null ? [] : [[w.fromMin / 60, w.rssLowMb] as [number, number]]));
    const lowsTrend = round(slope(lows), 1);
    const trend = round(slope(afterWarmUp.map((s) => [s.min / 60, s.rssMb])), 1);
    return {
      engine: 'pglite',
      minutes: options.minutes,
      offered: { webMessagesPerS: webPerS, telegramUpdatesPerS: telegramPerS },
      webMessages,
      webMessagesNotOffered: notOffered,
      telegramUpdates,
      telegramMessagesSent: answered,
      errors,
      errorKinds,
      rssMb: { first: samples[0]?.rssMb ?? null, last: samples.at(-1)?.rssMb ?? null, max: Math.max(...samples.map((s) => s.rssMb)) },
      windows: byWindow,
      trendAfterWarmUpMbPerHour: trend,
      lowsTrendAfterWarmUpMbPerHour: lowsTrend,
      // The floor rising more than 10 MB an hour after warm-up: memory that is not given back.
      grows: lowsTrend > 10,
      samples,
    };
  } finally {
    if (!child.exitCode && !child.signalCode) child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(kill);
    untrackChild(child.pid);
    await fake.close();
    await removeTempDir(dataDir);
  }
}
