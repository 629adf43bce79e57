import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffMs, retry, sleep } from '../../src/core/lib/retry.js';
import { createWakeLoop } from '../../src/core/lib/wake-loop.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

describe('backoffMs', () => {
  it('doubles from the base and stops at the cap, for any attempt number', () => {
    const b = { baseMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffMs(a, b))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffMs(10_000, b)).toBe(1_000);
    expect(backoffMs(-3, b)).toBe(100);
  });
});

describe('retry', () => {
  afterEach(() => vi.useRealTimers());

  it('retries a failing call with the back-off until it succeeds', async () => {
    vi.useFakeTimers();
    const waits: number[] = [];
    let calls = 0;
    const result = retry(
      async () => {
        calls++;
        if (calls < 4) throw new Error(`fail ${calls}`);
        return 'ok';
      },
      { backoff: { baseMs: 10, maxMs: 25 }, onRetry: (_e, _a, delay) => waits.push(delay) },
    );
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    expect(waits).toEqual([10, 20, 25]);
  });

  it('gives up after the given attempts, and at once when retryIf says no', async () => {
    let calls = 0;
    const always = () => {
      calls++;
      return Promise.reject(new Error('down'));
    };
    await expect(retry(always, { backoff: { baseMs: 1, maxMs: 1 }, attempts: 3 })).rejects.toThrow('down');
    expect(calls).toBe(3);
    calls = 0;
    await expect(retry(always, { backoff: { baseMs: 1, maxMs: 1 }, retryIf: () => false })).rejects.toThrow('down');
    expect(calls).toBe(1);
  });

  it("waits the delay retryIf gives (a server's Retry-After) instead of the back-off", async () => {
    vi.useFakeTimers();
    const waits: number[] = [];
    let calls = 0;
    const result = retry(
      async () => {
        if (++calls === 1) throw new Error('429');
        return calls;
      },
      { backoff: { baseMs: 10, maxMs: 10 }, retryIf: () => 5_000, onRetry: (_e, _a, d) => waits.push(d) },
    );
    await vi.advanceTimersByTimeAsync(4_999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe(2);
    expect(waits).toEqual([5_000]);
  });

  it('stops waiting and throws the last error when its signal aborts', async () => {
    const controller = new AbortController();
    const result = retry(() => Promise.reject(new Error('still down')), { backoff: { baseMs: 60_000, maxMs: 60_000 }, signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(result).rejects.toThrow('still down');
  });

  it('sleep resolves early when aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const done = sleep(60_000, controller.signal);
    controller.abort();
    await done;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('createWakeLoop', () => {
  afterEach(() => vi.useRealTimers());

  it('runs once more after the run in progress however often it was woken meanwhile', async () => {
    let release: () => void = () => undefined;
    let runs = 0;
    const loop = createWakeLoop({
      name: 'test',
      intervalMs: 60_000,
      logger: silent,
      run: async () => {
        runs++;
        if (runs === 1) await new Promise<void>((r) => (release = r));
      },
    });
    loop.start();
    const woken = [loop.wake(), loop.wake(), loop.wake()];
    expect(runs).toBe(1);
    release();
    await Promise.all(woken);
    expect(runs).toBe(2);
    await loop.stop();
  });

  it('runs on its timer, sooner when a run says when its next work is due, and survives a failing run', async () => {
    vi.useFakeTimers();
    const at: number[] = [];
    let runs = 0;
    const loop = createWakeLoop({
      name: 'test',
      intervalMs: 1_000,
      logger: silent,
      run: async () => {
        at.push(Date.now());
        runs++;
        if (runs === 2) throw new Error('database away');
        return runs === 1 ? 200 : undefined;
      },
    });
    const start = Date.now();
    loop.start();
    await vi.advanceTimersByTimeAsync(2_500);
    await loop.stop();
    expect(at.map((t) => t - start)).toEqual([0, 200, 1_200, 2_200]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs).toBe(4);
  });

  it('does nothing once stopped, and stop waits for the run in progress', async () => {
    let finished = false;
    const loop = createWakeLoop({
      name: 'test',
      intervalMs: 10,
      logger: silent,
      run: async () => {
        await new Promise((r) => setTimeout(r, 30));
        finished = true;
      },
    });
    loop.start();
    await loop.stop();
    expect(finished).toBe(true);
    finished = false;
    await loop.wake();
    expect(finished).toBe(false);
  });
});
