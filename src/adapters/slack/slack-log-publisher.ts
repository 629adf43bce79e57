import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { webApi } from '@slack/bolt';
import { type Logger, type NoteVerifier, openCheckpoint, parseVerifierKey, type Violation } from '../../core/index.js';
import { retryDelayMs } from './slack-app.js';

export interface SlackLogPublisherOptions {
  botToken: string;
  /** Web API base URL (default Slack's). */
  apiUrl?: string | undefined;
  /** Channel id for signed checkpoints; undefined: checkpoints are not posted (alerts still are). */
  checkpointChannel: string | undefined;
  /** Channel id for integrity alerts (the log channel when set, else the support channel). */
  alertChannel: string;
  /** At most one checkpoint post per this many ms. */
  intervalMs: number;
  /** Retry delay after a failed post without Retry-After; doubles up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Checkpoint origin and the public key that verifies them (named in the posts). */
  origin: string;
  publicKey: string;
  /** Remembers the last posted size across restarts (e.g. in the checkpoint folder). */
  stateFile?: string | undefined;
  /** Timeout of one Web API call. */
  timeoutMs?: number;
}

/** The most alerts kept for de-duplication; older ones may alert again after this many distinct ones. */
const MAX_REMEMBERED_ALERTS = 10_000;
const MAX_ALERT_LINES = 10;

/** Slack's text escaping (only &, < and > are special); signed notes normally contain none. */
export const escapeSlackText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
export const unescapeSlackText = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The signed note inside a checkpoint post (the first code block), as it was signed. */
export function noteFromSlackText(text: string): string | undefined {
  const match = /```\n?([\s\S]*?)```/.exec(text);
  return match ? unescapeSlackText(match[1] as string) : undefined;
}

export function toCheckpointText(note: string, size: number, origin: string, publicKey: string): string {
  return [
    `Turn log checkpoint: ${size} entries (${escapeSlackText(origin)})`,
    `\`\`\`\n${escapeSlackText(note)}\`\`\``,
    `Verify with the public key \`${escapeSlackText(publicKey)}\` (also at GET /log/public-key); consistency proofs: GET /log/consistency?first=…&second=${size}`,
  ].join('\n');
}

export function toAlertText(violations: Violation[], origin: string): string {
  const lines = violations.slice(0, MAX_ALERT_LINES).map((v) => `• ${v.idx === null ? '' : `#${v.idx}: `}${escapeSlackText(v.reason)}`);
  const more = violations.length > MAX_ALERT_LINES ? [`… and ${violations.length - MAX_ALERT_LINES} more`] : [];
  const first = violations.reduce<number | null>((min, v) => (v.idx !== null && (min === null || v.idx < min) ? v.idx : min), null);
  return [
    `:rotating_light: TURN LOG INTEGRITY ALERT (${escapeSlackText(origin)}): ${violations.length} violation${violations.length === 1 ? '' : 's'}${first === null ? '' : `, first failing index ${first}`}`,
    ...lines,
    ...more,
    'Run `npm run audit:verify` against the published checkpoints.',
  ].join('\n');
}

function readState(file: string | undefined, channel: string | undefined): number {
  if (!file || !channel || !existsSync(file)) return 0;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as { channel?: string; size?: number };
    return state.channel === channel && Number.isSafeInteger(state.size) ? (state.size as number) : 0;
  } catch {
    return 0;
  }
}

/**
 * Publishes the turn log to Slack: the newest signed checkpoint at most once per interval (never the
 * same size twice), and integrity alerts once per distinct violation. Posting never blocks the log:
 * `notify` and `alert` only schedule; a failed post (429 with Retry-After, 5xx, network) is retried
 * later, and the retry carries the newest checkpoint by then.
 *
 * `latestCheckpoint` reads the newest stored checkpoint, so checkpoints signed by another instance
 * sharing the database are posted too. Each instance with a log channel posts on its own: set it on
 * one instance only.
 */
export function createSlackLogPublisher(deps: {
  options: SlackLogPublisherOptions;
  latestCheckpoint: () => Promise<string | undefined>;
  logger: Logger;
  /** Clock in ms (tests drive it). */
  now?: () => number;
}) {
  const { options, logger } = deps;
  const now = deps.now ?? Date.now;
  const verifier: NoteVerifier = parseVerifierKey(options.publicKey);
  const client = new webApi.WebClient(options.botToken, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    // This publisher retries on its own schedule: the client must fail fast, not sleep through 429s.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: options.timeoutMs ?? 15_000,
    logLevel: webApi.LogLevel.ERROR,
  });

  let postedSize = readState(options.stateFile, options.checkpointChannel);
  /** No post at all before this time: the back-off after a failure (Slack's Retry-After when given). */
  let retryAt = 0;
  /** No checkpoint post before this time: the interval after the last one. Alerts do not wait for it. */
  let checkpointDueAt = 0;
  let failures = 0;
  const pendingAlerts: Violation[] = [];
  const alerted = new Set<string>();
  let running: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let poller: ReturnType<typeof setInterval> | undefined;
  let stopped = false;

  function saveState(size: number): void {
    if (!options.stateFile) return;
    try {
      mkdirSync(dirname(options.stateFile), { recursive: true });
      const tmp = `${options.stateFile}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ channel: options.checkpointChannel, size, postedAt: new Date(now()).toISOString() })}\n`);
      renameSync(tmp, options.stateFile);
    } catch (error) {
      logger.warn({ err: error }, 'could not save the Slack checkpoint state');
    }
  }

  function failed(error: unknown, what: string): void {
    failures += 1;
    const delay = retryDelayMs(error, failures - 1, options);
    retryAt = now() + delay;
    logger.warn({ err: error, retryInMs: delay }, `Slack ${what} post failed; retrying later`);
  }

  /** One pass: pending alerts first (not rate-limited by the interval), then the checkpoint when due. */
  async function pass(): Promise<void> {
    if (now() < retryAt) return;
    if (pendingAlerts.length > 0) {
      const batch = pendingAlerts.slice();
      try {
        await client.chat.postMessage({ channel: options.alertChannel, text: toAlertText(batch, options.origin), unfurl_links: false, unfurl_media: false });
        pendingAlerts.splice(0, batch.length);
        failures = 0;
      } catch (error) {
        failed(error, 'integrity alert');
        return;
      }
    }
    const channel = options.checkpointChannel;
    if (!channel || now() < checkpointDueAt) return;
    const note = await deps.latestCheckpoint();
    if (!note) return;
    const opened = openCheckpoint(note, verifier, options.origin);
    if (!opened.ok) {
      // Never publish what does not verify; the self-check reports why.
      logger.error({ reason: opened.reason }, 'latest checkpoint does not verify; not posted to Slack');
      return;
    }
    const { size } = opened.checkpoint;
    if (size <= postedSize) return;
    try {
      await client.chat.postMessage({
        channel,
        text: toCheckpointText(note, size, options.origin, options.publicKey),
        unfurl_links: false,
        unfurl_media: false,
      });
    } catch (error) {
      failed(error, 'checkpoint');
      return;
    }
    failures = 0;
    postedSize = size;
    checkpointDueAt = now() + options.intervalMs;
    saveState(size);
  }

  /** Runs one pass now (or joins the one running); then schedules the next one when work remains. */
  function runOnce(): Promise<void> {
    running ??= pass()
      .catch((error) => {
        failed(error, 'turn log');
      })
      .finally(() => {
        running = undefined;
        if (pendingAlerts.length > 0 || failures > 0) schedule(Math.max(now(), retryAt));
      });
    return running;
  }

  function schedule(at: number): void {
    if (stopped || !poller) return;
    if (timer && timerAt <= at) return;
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(
      () => {
        timer = undefined;
        timerAt = Number.POSITIVE_INFINITY;
        void runOnce();
      },
      Math.max(0, at - now()),
    );
    timer.unref();
  }

  return {
    /** A new checkpoint was signed (the publish hook): post it when the interval allows. */
    notify(): void {
      schedule(Math.max(now(), retryAt, checkpointDueAt));
    },
    /** Self-check violations: each distinct one (index and reason) is posted once. */
    alert(violations: Violation[]): void {
      const fresh = violations.filter((v) => {
        const key = `${v.idx ?? '-'}:${v.reason}`;
        if (alerted.has(key)) return false;
        alerted.add(key);
        if (alerted.size > MAX_REMEMBERED_ALERTS) alerted.delete(alerted.values().next().value as string);
        return true;
      });
      if (fresh.length === 0) return;
      pendingAlerts.push(...fresh);
      schedule(Math.max(now(), retryAt));
    },
    runOnce,
    /** Size of the last checkpoint posted (0 when none). */
    get postedSize(): number {
      return postedSize;
    },
    /** Starts posting: now, on `notify`/`alert`, and every interval for other instances' checkpoints. */
    start(): void {
      if (poller || stopped) return;
      poller = setInterval(() => schedule(Math.max(now(), retryAt, checkpointDueAt)), Math.max(1000, Math.min(options.intervalMs, 60_000)));
      poller.unref();
      schedule(now());
    },
    async stop(): Promise<void> {
      stopped = true;
      if (poller) clearInterval(poller);
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

export type SlackLogPublisher = ReturnType<typeof createSlackLogPublisher>;
