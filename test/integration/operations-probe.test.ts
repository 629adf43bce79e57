import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/adapters/postgres/db/database.js';
import { createPgOperationsProbe } from '../../src/adapters/postgres/stores/pg-operations-probe.js';
import { createPgChannelOutbox, createPgUpdateInbox } from '../../src/adapters/postgres/stores/pg-telegram-store.js';
import { createPrometheusMetrics } from '../../src/adapters/prometheus/prometheus-metrics.js';
import type { OperationsProbe } from '../../src/core/index.js';
import { createTestDatabase, testEngines } from '../support/databases.js';

const scrape = async (metrics: ReturnType<typeof createPrometheusMetrics>) => (await metrics.handle(new Request('http://x/metrics'))).text();

describe.each(testEngines())('the operations probe on %s', (engine) => {
  let database: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ database, drop } = await createTestDatabase(engine));
  }, 60_000);
  afterAll(async () => drop?.());

  it('reports pending outbox and inbox items per channel with the age of the oldest, and none once sent', async () => {
    const probe = createPgOperationsProbe(database.db);
    expect(await probe.read()).toEqual({
      outbox: [],
      inbox: [],
      turnLog: { size: 0, checkpointSize: 0, checkpointAgeSeconds: null },
      handoffs: { unclaimed: 0, claimed: 0, oldestUnclaimedAgeSeconds: 0 },
    });
    const outbox = createPgChannelOutbox(database);
    const message = (chatId: string, n: number) => ({
      channel: 'telegram',
      chatId,
      dedupeKey: `probe:${chatId}:${n}`,
      method: 'sendMessage',
      payload: { chat_id: chatId, text: 'hi' },
    });
    await outbox.enqueue([message('1', 1), message('1', 2), message('2', 1)]);
    await createPgUpdateInbox(database).record({ source: 'telegram:42', updateId: 7, chatId: '1', messageId: 1, payload: {} });
    await new Promise((r) => setTimeout(r, 1100));

    const read = await probe.read();
    expect(read.outbox).toEqual([{ name: 'telegram', pending: 3, oldestAgeSeconds: expect.any(Number) }]);
    expect(read.outbox[0]?.oldestAgeSeconds).toBeGreaterThanOrEqual(1);
    expect(read.inbox).toEqual([{ name: 'telegram:42', pending: 1, oldestAgeSeconds: expect.any(Number) }]);
    expect(read.inbox[0]?.oldestAgeSeconds).toBeGreaterThanOrEqual(1);

    // Sending the heads of both chats, then the last one, empties the outbox.
    const first = await outbox.claim('telegram', 10, 30_000);
    const second = await outbox.claim(
      'telegram',
      10,
      30_000,
      first.map((m) => ({ id: m.id, result: {}, at: new Date() })),
    );
    await outbox.claim(
      'telegram',
      10,
      30_000,
      second.map((m) => ({ id: m.id, result: {}, at: new Date() })),
    );
    expect((await probe.read()).outbox).toEqual([]);
  });

  it('reads the database at most once per cache period however many scrapes come at once', async () => {
    const real = createPgOperationsProbe(database.db);
    let reads = 0;
    const counting: OperationsProbe = {
      read: () => {
        reads += 1;
        return real.read();
      },
    };
    const metrics = createPrometheusMetrics({ probe: counting, probeCacheMs: 60_000 });
    const texts = await Promise.all(Array.from({ length: 50 }, () => scrape(metrics)));
    expect(reads).toBe(1);
    for (const text of texts) expect(text).toMatch(/^helpdesk_operations_probe_success 1$/m);
    await scrape(metrics);
    expect(reads).toBe(1);
  });

  it('answers a scrape without the database figures when the database is slower than the timeout, and starts no second read meanwhile', async () => {
    const real = createPgOperationsProbe(database.db);
    let reads = 0;
    let release: () => void = () => undefined;
    const slow: OperationsProbe = {
      read: async () => {
        reads += 1;
        await new Promise<void>((r) => (release = r));
        return real.read();
      },
    };
    const errors: unknown[] = [];
    const metrics = createPrometheusMetrics({ probe: slow, probeTimeoutMs: 100, probeCacheMs: 60_000, onProbeError: (e) => errors.push(e) });
    const first = await scrape(metrics);
    expect(first).toMatch(/^helpdesk_operations_probe_success 0$/m);
    expect(first).not.toMatch(/^helpdesk_turn_log_size_entries \d/m);
    await scrape(metrics);
    expect(reads).toBe(1);
    expect(errors.length).toBe(2);
    release();
    await new Promise((r) => setTimeout(r, 200));
    // The read that outlived the timeouts is the one kept for the cache period.
    const later = await scrape(metrics);
    expect(later).toMatch(/^helpdesk_operations_probe_success 1$/m);
    expect(later).toMatch(/^helpdesk_turn_log_size_entries 0$/m);
    expect(later).not.toMatch(/^helpdesk_turn_log_checkpoint_age_seconds/m);
    expect(reads).toBe(1);
  });
});
