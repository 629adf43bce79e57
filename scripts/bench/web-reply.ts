import { benchEnv } from './in-process.js';
import { startHelpdesk } from '../../src/main.js';
import { makeTempDir, removeTempDir } from './cleanup.js';
import { BENCH_QUESTIONS } from './questions.js';
import { summarize } from './stats.js';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

interface MessageReply {
  outcome?: string;
}

async function postJson(url: string, body: unknown, token?: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const json: unknown = await response.json();
  return { status: response.status, json };
}

/**
 * Offline reply latency through the web API, against the product started in-process: each
 * question in a new conversation (an escalated conversation stops getting bot answers), sent
 * sequentially; the message request is timed end to end, body included.
 */
export async function benchWebReply(options: { repoRoot: string; engine: 'pglite' | 'postgres'; databaseUrl?: string; warmup?: number; measured?: number }) {
  const warmup = options.warmup ?? 20;
  const measured = options.measured ?? 300;
  const dataDir = await makeTempDir(`helpdesk-bench-web-${options.engine}-`);
  try {
    const startT0 = performance.now();
    const running = await startHelpdesk({
      env: benchEnv({ port: 0, dataDir, repoRoot: options.repoRoot, databaseUrl: options.databaseUrl }),
    });
    const startMs = performance.now() - startT0;
    try {
      const samples: number[] = [];
      const outcomes: Record<string, number> = {};
      const total = warmup + measured;
      for (let i = 0; i < total; i++) {
        const text = BENCH_QUESTIONS[i % BENCH_QUESTIONS.length] as string;
        const created = await postJson(`${running.url}/api/conversations`, {});
        const conversation = created.json as { id?: string; token?: string };
        if (created.status !== 201 || !conversation.id || !conversation.token) {
          throw new Error(`POST /api/conversations answered ${created.status}: ${JSON.stringify(created.json).slice(0, 300)}`);
        }
        const t0 = performance.now();
        const reply = await postJson(`${running.url}/api/conversations/${conversation.id}/messages`, { text }, conversation.token);
        const elapsed = performance.now() - t0;
        if (reply.status !== 201) {
          throw new Error(
            `POST /api/conversations/:id/messages answered ${reply.status} for ${JSON.stringify(text)}: ${JSON.stringify(reply.json).slice(0, 300)}`,
          );
        }
        if (i >= warmup) {
          samples.push(elapsed);
          const outcome = (reply.json as MessageReply).outcome ?? 'unknown';
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        }
        if ((i + 1) % 100 === 0) log(`  webReply ${options.engine}: ${i + 1}/${total} requests`);
      }
      const summary = summarize(samples);
      log(`  webReply ${options.engine}: p50 ${summary.p50Ms} ms, p95 ${summary.p95Ms} ms`);
      return {
        ...summary,
        warmup,
        distinctQuestions: BENCH_QUESTIONS.length,
        outcomes,
        inProcessStartMs: Math.round(startMs),
        target: { p95MsMax: 100, met: summary.p95Ms <= 100 },
      };
    } finally {
      await running.stop();
    }
  } finally {
    await removeTempDir(dataDir);
  }
}
