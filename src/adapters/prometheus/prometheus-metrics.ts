import { createHash, timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HelpdeskObserver, OperationsProbe, OperationsSnapshot } from '../../core/index.js';

/** One HTTP request as the web app saw it: `route` is the matched pattern, never the raw path. */
export interface RequestSample {
  method: string;
  route: string;
  status: number;
  seconds: number;
}

export interface PrometheusMetricsOptions {
  /** Database-held figures (queues, turn log, handoffs), read on scrape. Absent: not exported. */
  probe?: OperationsProbe;
  /** How long a scrape waits for the probe; past it the database figures are left out of that scrape. */
  probeTimeoutMs?: number;
  /** How long a probe result (or failure) is reused: scrapes in between cost the database nothing. */
  probeCacheMs?: number;
  /** When set, /metrics answers only `Authorization: Bearer <token>`. */
  token?: string;
  /** Told when a probe fails or times out. */
  onProbeError?: (error: unknown) => void;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The helpdesk's Prometheus metrics (prom-client): counters fed by the core observer and the web
 * app's request hook, gauges read from storage through the operations probe when scraped. The
 * probe runs at most once per `probeCacheMs` and one at a time, so a scrape storm or a slow
 * database never piles queries onto the database.
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}) {
  const probeTimeoutMs = options.probeTimeoutMs ?? 2_000;
  const probeCacheMs = options.probeCacheMs ?? 5_000;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requestDuration = new Histogram({
    name: 'helpdesk_http_request_duration_seconds',
    help: 'HTTP request latency by method, matched route pattern and status class.',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const replies = new Counter({
    name: 'helpdesk_replies_total',
    help: 'Customer inputs handled, by outcome (answered, escalated, forwarded to agents, acknowledged, redirected, duplicate, rate_limited, failed) and channel.',
    labelNames: ['outcome', 'channel'] as const,
    registers,
  });
  const escalations = new Counter({
    name: 'helpdesk_escalations_total',
    help: 'Conversations handed to humans, by reason code, priority and channel.',
    labelNames: ['reason', 'priority', 'channel'] as const,
    registers,
  });
  const retrievalDuration = new Histogram({
    name: 'helpdesk_retrieval_duration_seconds',
    help: 'Knowledge-base retrieval latency, by result (ok or failed).',
    labelNames: ['result'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const firewallCatches = new Counter({
    name: 'helpdesk_firewall_catches_total',
    help: 'Secrets the inbound firewall removed from customer input, by kind (seed phrase, private key, 2FA code …), by channel.',
    labelNames: ['kind', 'channel'] as const,
    registers,
  });
  const outboundBlocked = new Counter({
    name: 'helpdesk_outbound_blocked_total',
    help: 'Outgoing messages (model answers, agent replies) the outbound guard kept from the customer, by reason.',
    labelNames: ['reason', 'channel'] as const,
    registers,
  });
  const securityEvents = new Counter({
    name: 'helpdesk_security_events_total',
    help: 'Security events by type (refusals counted one by one, though stored aggregated).',
    labelNames: ['type'] as const,
    registers,
  });

  const probeUp = new Gauge({
    name: 'helpdesk_operations_probe_success',
    help: '1 when the database figures of this scrape were read (or reused) successfully, else 0 (and they are left out).',
    registers: options.probe ? registers : [],
  });
  const probeDuration = new Gauge({
    name: 'helpdesk_operations_probe_duration_seconds',
    help: 'How long the last database read for the gauges took.',
    registers: options.probe ? registers : [],
  });
  let cached: { at: number; snapshot: OperationsSnapshot | undefined } | undefined;
  let inFlight: Promise<OperationsSnapshot | undefined> | undefined;

  /** The probe's latest result, read again when older than probeCacheMs; undefined when it failed. */
  async function snapshot(): Promise<OperationsSnapshot | undefined> {
    const probe = options.probe;
    if (!probe) return undefined;
    if (cached && performance.now() - cached.at < probeCacheMs) return cached.snapshot;
    // One read at a time: a read that outlived a scrape's timeout is still the one later scrapes wait for.
    inFlight ??= (async () => {
      const started = performance.now();
      try {
        const read = await probe.read();
        probeDuration.set((performance.now() - started) / 1000);
        cached = { at: performance.now(), snapshot: read };
        return read;
      } catch (error) {
        options.onProbeError?.(error);
        cached = { at: performance.now(), snapshot: undefined };
        return undefined;
      } finally {
        inFlight = undefined;
      }
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), probeTimeoutMs);
    });
    const result = await Promise.race([inFlight, timeout]).finally(() => clearTimeout(timer));
    if (result === 'timeout') {
      options.onProbeError?.(new Error(`operations probe took longer than ${probeTimeoutMs} ms`));
      return undefined;
    }
    return result;
  }

  /**
   * The database figures as their own exposition, made anew from a snapshot: a figure the
   * database did not give (no snapshot, no checkpoint yet) is absent, never a misleading 0.
   */
  async function databaseExposition(read: OperationsSnapshot | undefined): Promise<string> {
    if (options.probe) probeUp.set(read ? 1 : 0);
    if (!read) return '';
    const own = new Registry();
    const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [own] });
    const outboxPending = gauge('helpdesk_outbox_pending', 'Messages waiting in the outbox to be sent to customers, by channel.', ['channel']);
    const outboxAge = gauge('helpdesk_outbox_oldest_age_seconds', 'Age of the oldest message waiting in the outbox, by channel.', ['channel']);
    const inboxPending = gauge('helpdesk_inbox_pending', 'Channel updates received and not handled yet, by source.', ['source']);
    const inboxAge = gauge('helpdesk_inbox_oldest_age_seconds', 'Age of the oldest channel update not handled yet, by source.', ['source']);
    for (const q of read.outbox) {
      outboxPending.set({ channel: q.name }, q.pending);
      outboxAge.set({ channel: q.name }, q.oldestAgeSeconds);
    }
    for (const q of read.inbox) {
      inboxPending.set({ source: q.name }, q.pending);
      inboxAge.set({ source: q.name }, q.oldestAgeSeconds);
    }
    gauge('helpdesk_turn_log_size_entries', 'Entries in the verifiable turn log.').set(read.turnLog.size);
    gauge('helpdesk_turn_log_checkpoint_size_entries', 'Entries covered by the latest signed checkpoint.').set(read.turnLog.checkpointSize);
    if (read.turnLog.checkpointAgeSeconds !== null) {
      gauge('helpdesk_turn_log_checkpoint_age_seconds', 'Seconds since the latest checkpoint was signed (absent before the first).').set(
        read.turnLog.checkpointAgeSeconds,
      );
    }
    const handoffsOpen = gauge('helpdesk_handoffs_open', 'Open handoffs to humans, by whether an agent has claimed them.', ['claimed']);
    handoffsOpen.set({ claimed: 'false' }, read.handoffs.unclaimed);
    handoffsOpen.set({ claimed: 'true' }, read.handoffs.claimed);
    gauge('helpdesk_handoff_oldest_unclaimed_age_seconds', 'How long the longest-waiting unclaimed handoff has waited.').set(
      read.handoffs.oldestUnclaimedAgeSeconds,
    );
    return own.metrics();
  }

  const observer: HelpdeskObserver = {
    customerInput(outcome, channel) {
      replies.inc({ outcome, channel });
    },
    escalated(reason, priority, channel) {
      escalations.inc({ reason, priority, channel });
    },
    retrieval(seconds, failed) {
      retrievalDuration.observe({ result: failed ? 'failed' : 'ok' }, seconds);
    },
    securityEvent(event) {
      // Refusals reach the store aggregated; an event carries how many it stands for only then.
      securityEvents.inc({ type: event.type });
      const channel = event.channel ?? 'unknown';
      if (event.type === 'secret_removed') {
        for (const kind of event.detail.secretTypes ?? []) firewallCatches.inc({ kind, channel });
      }
      if (event.type === 'outbound_blocked') outboundBlocked.inc({ reason: event.detail.reason ?? 'unspecified', channel });
    },
  };

  const expected = options.token ? digest(options.token) : undefined;
  const authorized = (request: Request) => {
    if (!expected) return true;
    const given = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };

  return {
    registry,
    observer,
    /** Called by the web app once per request, after the response is made. */
    observeRequest(sample: RequestSample): void {
      const statusClass = `${Math.floor(sample.status / 100)}xx`;
      // Methods outside the usual set are one label value, so that a client cannot add series.
      const method = METHODS.has(sample.method) ? sample.method : 'OTHER';
      requestDuration.observe({ method, route: sample.route, status_class: statusClass }, sample.seconds);
    },
    /** GET /metrics: the Prometheus text exposition format. */
    async handle(request: Request): Promise<Response> {
      if (!authorized(request)) {
        return new Response(JSON.stringify({ error: { code: 'forbidden', message: 'A valid metrics token is required (Authorization: Bearer).' } }), {
          status: 401,
          headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer' },
        });
      }
      const database = await databaseExposition(await snapshot());
      const own = await registry.metrics();
      return new Response(database ? `${own.trimEnd()}\n${database}` : own, {
        status: 200,
        headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
      });
    },
  };
}

export type PrometheusMetrics = ReturnType<typeof createPrometheusMetrics>;
