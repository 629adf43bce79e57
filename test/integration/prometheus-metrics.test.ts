import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../scripts/bench/in-process.js';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { type FakeTelegram, startFakeTelegram } from '../stand-ins/fake-telegram.js';
import { createEmptyPostgresDatabase, testEngines } from '../support/databases.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';
import { seededMnemonic } from '../support/mnemonics.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
/** The webhook path of this test carries a secret, as operators often make it. */
const WEBHOOK_PATH = '/telegram/hook-5ecret-path-0123';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/**
 * Parses an exposition. The parser folds a histogram's series into one unlabeled sample, so
 * histograms are read a second time as plain series (`<name>_count{…}`, `<name>_bucket{…}`) with
 * their TYPE lines left out; the first parse has already checked every line as written.
 */
function parseExposition(text: string): MetricFamily[] {
  const checked = parsePrometheusTextFormat(text);
  const histograms = new Set(checked.filter((f) => f.type === 'HISTOGRAM').map((f) => f.name));
  const plain = parsePrometheusTextFormat(
    text
      .split('\n')
      .filter((line) => !/^# (TYPE|HELP) (\S+)/.test(line) || !histograms.has(/^# (?:TYPE|HELP) (\S+)/.exec(line)?.[1] ?? ''))
      .join('\n'),
  );
  return [...checked.filter((f) => !histograms.has(f.name)), ...plain.filter((f) => f.type === 'UNTYPED')];
}

/** A series' value: the sum over samples whose labels include `labels` (0 when none); a histogram's observations as `<name>_count`. */
function seriesValue(families: MetricFamily[], name: string, labels: Record<string, string> = {}): number {
  return families
    .filter((f) => f.name === name)
    .flatMap((f) => f.metrics)
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((sum, m) => sum + Number(m.value ?? 0), 0);
}

describe.each(testEngines())('GET /metrics of the running product on %s', (engine) => {
  let running: RunningHelpdesk;
  let telegram: FakeTelegram;
  let dataDir: string;
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-metrics-'));
    const postgres = engine === 'postgres' ? await createEmptyPostgresDatabase() : undefined;
    dropDatabase = postgres?.drop;
    telegram = await startFakeTelegram();
    const port = await freePort();
    running = await startHelpdesk({
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
        DATA_DIR: dataDir,
        KNOWLEDGE_DIR,
        KB_WATCH: 'false',
        LOG_LEVEL: 'silent',
        METRICS_TOKEN,
        ...(postgres ? { DATABASE_URL: postgres.url } : {}),
      },
    });
    await telegram.waitFor(() => telegram.webhookInfo() !== undefined, 15_000, 'setWebhook');
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await telegram?.close();
    await dropDatabase?.();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function scrape(): Promise<{ text: string; families: MetricFamily[] }> {
    const res = await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { text, families: parseExposition(text) };
  }

  async function customer() {
    const created = (await (
      await fetch(`${running.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"language":"en"}' })
    ).json()) as {
      id: string;
      token: string;
    };
    return async (body: Record<string, unknown>) => {
      const res = await fetch(`${running.url}/api/conversations/${created.id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${created.token}` },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return (await res.json()) as { outcome: string };
    };
  }

  it('refuses a scrape without the metrics token', async () => {
    expect((await fetch(`${running.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${running.url}/metrics`, { headers: { authorization: 'Bearer not-the-metrics-token' } })).status).toBe(401);
  });

  it('moves replies, escalations, firewall catches, retrieval and request figures after a scripted conversation', async () => {
    const before = (await scrape()).families;

    const say = await customer();
    expect((await say({ text: 'What are the trading fees?' })).outcome).toBe('answered');
    expect((await say({ action: 'human' })).outcome).toBe('escalated');
    expect((await say({ text: `my wallet words are ${seededMnemonic('metrics-phrase', english)}` })).outcome).toBe('forwarded');
    // A path with an id that no route answers: counted as unmatched, never under its raw path.
    await fetch(`${running.url}/api/conversations/00000000-0000-4000-8000-000000000000/nothing-here`);

    const { text, families: after } = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) => seriesValue(after, name, labels) - seriesValue(before, name, labels);
    expect(moved('helpdesk_replies_total', { outcome: 'answered', channel: 'web' })).toBe(1);
    expect(moved('helpdesk_replies_total', { outcome: 'escalated', channel: 'web' })).toBe(1);
    expect(moved('helpdesk_replies_total', { outcome: 'forwarded', channel: 'web' })).toBe(1);
    expect(moved('helpdesk_escalations_total', { reason: 'customer_requested_human', priority: 'normal', channel: 'web' })).toBe(1);
    expect(moved('helpdesk_firewall_catches_total', { kind: 'recovery_phrase', channel: 'web' })).toBe(1);
    expect(moved('helpdesk_security_events_total', { type: 'secret_removed' })).toBe(1);
    expect(moved('helpdesk_retrieval_duration_seconds_count', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(moved('helpdesk_http_request_duration_seconds_count', { method: 'POST', route: '/api/conversations/:id/messages', status_class: '2xx' })).toBe(3);
    expect(moved('helpdesk_http_request_duration_seconds_count', { method: 'POST', route: '/api/conversations', status_class: '2xx' })).toBe(1);
    expect(moved('helpdesk_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_class: '4xx' })).toBe(1);
    // No label carries a raw path: ids never become series.
    for (const line of text.split('\n').filter((l) => !l.startsWith('#'))) expect(line).not.toMatch(UUID);
  });

  it('counts a Telegram customer under its channel and the webhook under a name, never its secret path', async () => {
    const before = (await scrape()).families;
    telegram.userSends(4242, 'What are the trading fees?');
    await telegram.waitFor(() => telegram.sentTo(4242).length > 0, 15_000, 'the answer');
    const { text, families: after } = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) => seriesValue(after, name, labels) - seriesValue(before, name, labels);
    expect(moved('helpdesk_replies_total', { outcome: 'answered', channel: 'telegram' })).toBe(1);
    expect(moved('helpdesk_http_request_duration_seconds_count', { method: 'POST', route: 'telegram-webhook', status_class: '2xx' })).toBe(1);
    expect(text).not.toContain('5ecret');
  });

  it('reports the turn log, the checkpoint and open handoffs read from the database', async () => {
    const say = await customer();
    await say({ action: 'human' });
    // Database figures are cached for a few seconds between scrapes: they catch up within that.
    await vi.waitFor(
      async () => {
        const { families } = await scrape();
        expect(seriesValue(families, 'helpdesk_operations_probe_success')).toBe(1);
        expect(seriesValue(families, 'helpdesk_turn_log_size_entries')).toBeGreaterThan(0);
        expect(seriesValue(families, 'helpdesk_turn_log_checkpoint_size_entries')).toBeGreaterThan(0);
        expect(families.some((f) => f.name === 'helpdesk_turn_log_checkpoint_age_seconds')).toBe(true);
        expect(seriesValue(families, 'helpdesk_handoffs_open', { claimed: 'false' })).toBeGreaterThanOrEqual(1);
        expect(seriesValue(families, 'helpdesk_handoff_oldest_unclaimed_age_seconds')).toBeGreaterThanOrEqual(0);
      },
      { timeout: 20_000, interval: 500 },
    );
  });
});
