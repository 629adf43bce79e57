import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import pino from 'pino';
import { createKnowledgeSync } from './adapters/knowledge-files/knowledge-sync.js';
import { createPassageSplitter } from './adapters/local/passage-splitter.js';
import { createOpenAIAnswerer } from './adapters/openai/openai-answerer.js';
import { createOpenAIClient } from './adapters/openai/openai-client.js';
import { loadContentKeys } from './adapters/postgres/db/content-keys.js';
import { openDatabase, redactDatabaseError } from './adapters/postgres/db/database.js';
import { startRetention } from './adapters/postgres/stores/pg-erasure.js';
import { createPgConversationStore } from './adapters/postgres/stores/conversation/pg-conversation-store.js';
import { createCheckpointFolder, loadSigningKey } from './adapters/postgres/turn-log/log-checkpoint-files.js';
import { createPgTurnLog } from './adapters/postgres/turn-log/pg-turn-log.js';
import { createPgKnowledgeIndex } from './adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { createPgSecurityEventLog } from './adapters/postgres/stores/pg-security-events.js';
import { createPgOperationsProbe } from './adapters/postgres/stores/pg-operations-probe.js';
import { createPrometheusMetrics } from './adapters/prometheus/prometheus-metrics.js';
import { createWebApp } from './adapters/web/web-app.js';
import { createCustomerUploadRoutes, createWebCustomerChannel } from './adapters/web/customer-uploads.js';
import { createCustomerContactRoutes, toDeskHours } from './adapters/web/customer-contact.js';
import { createPgCustomerFileStore, NoContentKeyError } from './adapters/postgres/stores/pg-customer-files.js';
import { createAdminHandoffRoutes } from './adapters/web/admin-handoff-routes.js';
import { createPgHandoffStore, createPgThreadMirrorStore } from './adapters/postgres/stores/pg-handoff-store.js';
import { createSlackHandoff } from './adapters/slack/slack-handoff.js';
import { createSlackLogPublisher, type SlackLogPublisher } from './adapters/slack/slack-log-publisher.js';
import { createLogProofRoutes } from './adapters/web/log-proof-routes.js';
import { bundleConsole } from './adapters/web/admin/console-routes.js';
import { bundleWidget, createWidgetRoutes } from './adapters/web/widget-routes.js';
import { createPgChannelOutbox, createPgUpdateInbox } from './adapters/postgres/stores/pg-telegram-store.js';
import { createTelegramChannel, deriveWebhookSecret } from './adapters/telegram/telegram-channel.js';
import { ConfigError, type Config, loadConfig } from './config.js';
import {
  createHelpdesk,
  createOfficialAllowlist,
  createRetriever,
  DEFAULT_TUNING,
  createHandoffDesk,
  estimateWait,
  type HandoffDeskDeps,
  notifyAppends,
  observeHelpdesk,
  observeRetriever,
  observeSecurityEvents,
  startDeskSweeps,
} from './core/index.js';
import { toReadiness } from './check-readiness.js';
import { createConsole } from './create-console.js';
import { createEmbedder } from './create-embedder.js';

/** How long the database has to answer a readiness or reachability probe. */
const PROBE_TIMEOUT_MS = 2_000;
/** How often settled payloads are purged and, with RETENTION_DAYS, old conversations erased. */
const RETENTION_SWEEP_MS = 5 * 60_000;

/**
 * The product's logger: pino, with errors serialized without the values a failed statement
 * carried (customer content), whatever logged them.
 */
export function createLogger(level: Config['logLevel'], destination?: pino.DestinationStream) {
  const options = { level, serializers: { err: (error: unknown) => pino.stdSerializers.err(redactDatabaseError(error) as Error) } };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Node's defaults let a client hold a socket for 300 s with a slow body and check that only every
 * 30 s. A request (headers and body) must arrive within `requestTimeoutMs`, its headers within
 * 10 s of that; an idle keep-alive socket closes after 5 s (a proxy in front should drop idle
 * upstream connections sooner).
 */
function serverTimeouts(requestTimeoutMs: number) {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(10_000, requestTimeoutMs),
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: Math.min(5_000, Math.max(250, Math.floor(requestTimeoutMs / 4))),
  };
}

export interface RunningHelpdesk {
  url: string;
  config: Config;
  stop(): Promise<void>;
}

/**
 * Composition root: config → adapters → core → HTTP. Returns once the server listens. Log lines go
 * to stdout, or to `logDestination` (e.g. a test reading what the product logs).
 */
export async function startHelpdesk(options: { env: Record<string, string | undefined>; logDestination?: pino.DestinationStream }): Promise<RunningHelpdesk> {
  const config = loadConfig(options.env);
  const logger = createLogger(config.logLevel, options.logDestination);
  // Whatever has started is stopped in reverse order: by stop(), or at once when start-up fails
  // part way (a port in use must not leave the data folder locked and timers running).
  const stack = createStopStack(logger);
  try {
    return await start(config, logger, stack);
  } catch (error) {
    await stack.unwind();
    throw error;
  }
}

/** Things to stop, last started first; a failing step is logged and the rest still run. */
function createStopStack(logger: pino.Logger) {
  const steps: Array<{ name: string; stop: () => unknown }> = [];
  let unwound: Promise<void> | undefined;
  return {
    push(name: string, stop: () => unknown): void {
      steps.push({ name, stop });
    },
    unwind(): Promise<void> {
      unwound ??= (async () => {
        for (const step of steps.reverse()) {
          try {
            await step.stop();
          } catch (error) {
            logger.error({ err: error, step: step.name }, 'stopping failed');
          }
        }
      })();
      return unwound;
    },
  };
}

async function start(config: Config, logger: pino.Logger, stack: ReturnType<typeof createStopStack>): Promise<RunningHelpdesk> {
  // The content master key lives outside the database: configured, or a file (created on first start).
  const content = loadContentKeys({ text: config.turnLog.contentMasterKey, file: resolve(config.turnLog.contentKeyFile), createIfMissing: true });
  if (content.created && config.databaseUrl) {
    logger.warn(
      { file: resolve(config.turnLog.contentKeyFile) },
      'created a content master key: every instance sharing this database must use the same key file or CONTENT_MASTER_KEY',
    );
  }
  // The widget and the console are bundled (by esbuild, in its own process) while the database
  // opens; the console's bundle is kept, so wiring the console later finds it built.
  const [opened, bundled, consoleBundled] = await Promise.allSettled([
    openDatabase({ databaseUrl: config.databaseUrl, dataDir: resolve(config.dataDir), contentKeys: content.keys }),
    bundleWidget({ exchangeName: config.exchangeName, maxMessageChars: config.maxMessageChars }),
    bundleConsole({ exchangeName: config.exchangeName }),
  ]);
  if (opened.status === 'rejected') throw opened.reason;
  const database = opened.value;
  stack.push('database', () => database.close());
  if (bundled.status === 'rejected') throw bundled.reason;
  if (consoleBundled.status === 'rejected') throw consoleBundled.reason;
  const widget = bundled.value;
  await database.migrate();
  const openai = config.openai ? createOpenAIClient(config.openai) : undefined;
  const embedder = createEmbedder(config);
  const knowledge = createPgKnowledgeIndex(database);
  // The checkpoint key lives outside the database: configured, or a file (created on first start).
  const signing = loadSigningKey({
    key: config.turnLog.signingKey,
    file: resolve(config.turnLog.signingKeyFile),
    name: config.turnLog.origin,
    createIfMissing: true,
  });
  if (signing.created) {
    logger.warn(
      { file: resolve(config.turnLog.signingKeyFile), publicKey: signing.signer.verifierKey },
      database.engine === 'postgres'
        ? 'created a turn-log signing key: every instance sharing this database must use the same key (LOG_SIGNING_KEY)'
        : 'created a turn-log signing key; back it up and publish its public key',
    );
  }
  const checkpointFolder = createCheckpointFolder(resolve(config.turnLog.checkpointDir));
  // With Slack: signed checkpoints to SLACK_LOG_CHANNEL (at most once per interval), integrity alerts there or to the support channel.
  let slackLog: SlackLogPublisher | undefined;
  const turnLog = createPgTurnLog({
    database,
    origin: config.turnLog.origin,
    signer: signing.signer,
    publish: async (note) => {
      await checkpointFolder.publish(note);
      slackLog?.notify();
    },
    logger,
  });
  const slackForLog = config.handoff.slack;
  slackLog = slackForLog
    ? createSlackLogPublisher({
        options: {
          botToken: slackForLog.botToken,
          apiUrl: slackForLog.apiUrl,
          checkpointChannel: config.turnLog.slackChannel,
          alertChannel: config.turnLog.slackChannel ?? slackForLog.supportChannel,
          intervalMs: config.turnLog.slackIntervalMs,
          retryBaseMs: slackForLog.retryBaseMs,
          retryMaxMs: slackForLog.retryMaxMs,
          origin: config.turnLog.origin,
          publicKey: signing.signer.verifierKey,
          stateFile: resolve(config.turnLog.checkpointDir, 'slack-posted.json'),
        },
        latestCheckpoint: () => turnLog.latestCheckpoint(),
        logger,
      })
    : undefined;
  slackLog?.start();
  stack.push('slack log', () => slackLog?.stop());
  const checkpointing = turnLog.startCheckpointing(config.turnLog.checkpointIntervalMs);
  stack.push('checkpoints', async () => {
    await checkpointing.stop();
    // A last checkpoint covers the final appends before the process goes.
    await turnLog.checkpointNow();
  });
  const selfCheck = turnLog.startSelfCheck(config.turnLog.selfCheckIntervalMs, (violations) => {
    logger.error({ violations: violations.slice(0, 20), count: violations.length }, 'TURN LOG INTEGRITY ALERT: run npm run audit:verify');
    slackLog?.alert(violations);
  });
  stack.push('self-check', () => selfCheck.stop());
  // Every new turn wakes the handoff outbox at once (other instances catch up by polling).
  let wakeHandoff: () => void = () => undefined;
  const conversations = notifyAppends(createPgConversationStore(database), () => wakeHandoff());
  // Prometheus metrics: core reports through its observer; queue and log figures are read on scrape.
  const metrics = createPrometheusMetrics({
    probe: createPgOperationsProbe(database.db),
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    token: config.metrics.token,
    onProbeError: (error) => logger.warn({ err: error }, 'metrics: database figures unavailable for this scrape'),
  });
  const namedRoutes = new Map<string, string>();
  const splitPassages = createPassageSplitter();
  const allowlist = createOfficialAllowlist(config.safety.official);
  const helpdesk = observeHelpdesk(
    createHelpdesk({
      turnLog,
      // A customer waiting for a human is told their place in the queue and can go back to the bot.
      // The desk is made below (it reviews agents' replies with this helpdesk); customers write only
      // once the server has started, after both exist.
      queue: { status: (id, language) => desk.status(id, language), withdraw: (id) => desk.withdraw(id) },
      conversations,
      knowledge,
      embedder,
      retriever: observeRetriever(createRetriever({ index: knowledge, embedder, tuning: DEFAULT_TUNING }), metrics.observer),
      splitPassages,
      answerer: openai && config.openai ? createOpenAIAnswerer(openai, { model: config.openai.chatModel, exchangeName: config.exchangeName }) : undefined,
      logger,
      settings: {
        exchangeName: config.exchangeName,
        answerThreshold: config.answerThreshold,
        maxMessageChars: config.maxMessageChars,
      },
      safety: {
        allowlist,
        rateLimit: config.safety.rateLimit,
        events: observeSecurityEvents(createPgSecurityEventLog(database.db), metrics.observer),
        adminToken: config.safety.adminToken,
      },
    }),
    metrics.observer,
  );

  stack.push('security events', () => helpdesk.flushSecurityEvents());
  // The database is the knowledge base's source of truth; the Markdown folder is imported into it
  // (a file never overwrites a console edit: a conflict is kept) and exported by npm run kb:export.
  const customerFiles = createPgCustomerFileStore(database.db);
  const staffConsole = await createConsole({
    database,
    files: customerFiles,
    index: knowledge,
    helpdesk,
    embedder,
    splitPassages,
    allowlist,
    adminToken: config.safety.adminToken,
    exchangeName: config.exchangeName,
    logger,
    onError: (error) => logger.error({ err: error }, 'request failed'),
  });
  await staffConsole.knowledge.prepare();
  const knowledgeSync = createKnowledgeSync({ importFiles: (files) => staffConsole.knowledge.importFiles(files), dir: resolve(config.knowledgeDir), logger });
  stack.push('knowledge sync', () => knowledgeSync.idle());
  await knowledgeSync.syncNow();
  if (config.watchKnowledge) stack.push('knowledge watch', knowledgeSync.watch());
  const consoleWork = staffConsole.start();
  stack.push('console', () => consoleWork.stop());

  const app = createWebApp({
    helpdesk,
    bodyLimitBytes: config.httpBodyLimitBytes,
    health: async () => ({ database: database.engine, embedder: embedder.id, mode: openai ? 'model' : 'offline' }),
    readiness: async () => toReadiness(await database.probe(PROBE_TIMEOUT_MS)),
    onError: (error) => logger.error({ err: error }, 'request failed'),
    frameAncestors: config.frameAncestors,
    // A webhook path may carry a secret (…/telegram/<secret>): such routes are labelled by name.
    observeRequest: (timing) => metrics.observeRequest({ ...timing, route: namedRoutes.get(timing.route) ?? timing.route }),
    clients: {
      trustProxy: config.safety.clients.trustProxy,
      limits: config.safety.clients,
      warn: (message) => logger.warn({}, message),
    },
  });
  // Human handoff: Slack threads when configured; otherwise the admin API (see README).
  const handoffs = createPgHandoffStore(database.db);
  // Web customers poll for agents' turns; their files are in the product's store.
  const customerChannels: HandoffDeskDeps['customerChannels'] = { web: createWebCustomerChannel(customerFiles) };
  const desk = createHandoffDesk({
    conversations,
    handoffs,
    // Web customers read agent turns from the conversation; Telegram plugs in its outbox here (below).
    customerChannels,
    logger,
    // Agents' replies pass the same outbound guard as the bot's answers.
    review: helpdesk.reviewOutbound,
    settings: {
      hours: config.handoff.hours,
      minutesPerConversation: config.handoff.minutesPerConversation,
      unclaimedAfterMs: config.handoff.unclaimedAfterMs,
      genericAgentName: config.handoff.genericAgentName,
    },
  });
  const slackConfig = config.handoff.slack;
  const slack = slackConfig
    ? createSlackHandoff({
        helpdesk,
        desk,
        mirrors: createPgThreadMirrorStore(database.db),
        logger,
        // Telegram joins this map below; files are fetched when a thread is mirrored, by then it is there.
        customerChannels,
        redactions: createPgChannelOutbox(database),
        options: {
          ...slackConfig,
          unclaimedAfterMs: config.handoff.unclaimedAfterMs,
          leaseMs: Math.max(30_000, slackConfig.pollMs * 10),
        },
      })
    : undefined;
  const sweeps = slack ? undefined : startDeskSweeps(desk, logger, 1000);
  stack.push('desk sweeps', () => sweeps?.stop());
  wakeHandoff = () => {
    void (slack ? slack.wake() : sweeps?.wake());
    staffConsole.inboxFeed.wake();
  };
  app.route('/', createWidgetRoutes(widget));
  app.route(
    '/',
    createCustomerContactRoutes({
      helpdesk,
      deskHours: () => toDeskHours(estimateWait({ now: new Date(), hours: config.handoff.hours, queueAhead: 0, minutesPerConversation: 1 })),
    }),
  );
  app.route('/', createCustomerUploadRoutes({ helpdesk, files: customerFiles, isNoContentKey: (error) => error instanceof NoContentKeyError }));
  app.route('/', createAdminHandoffRoutes({ helpdesk, desk }));
  app.route('/', createLogProofRoutes({ log: turnLog }));
  // Telegram joins customerChannels below: the inbox fetches customers' files through it.
  staffConsole.mount(app, { desk, conversations, customerChannels });
  app.get('/metrics', (c) => metrics.handle(c.req.raw));
  if (slack) {
    app.post('/slack/events', (c) => slack.handle(c.req.raw));
    slack.start();
    stack.push('slack', () => slack.stop());
  }
  // Telegram: webhook on this same HTTP server when TELEGRAM_WEBHOOK_URL is set, long polling otherwise.
  const telegramConfig = config.telegram;
  const telegram = telegramConfig
    ? createTelegramChannel({
        token: telegramConfig.token,
        apiRoot: telegramConfig.apiRoot,
        webhook: telegramConfig.webhookUrl
          ? { url: telegramConfig.webhookUrl, secretToken: telegramConfig.webhookSecret ?? deriveWebhookSecret(telegramConfig.token) }
          : undefined,
        helpdesk,
        inbox: createPgUpdateInbox(database),
        outbox: createPgChannelOutbox(database),
        storeReachable: async () => (await database.probe(PROBE_TIMEOUT_MS)).reachable,
        // The embedded database is one process's (the data folder lock).
        soleSender: database.engine === 'pglite',
        logger,
        exchangeName: config.exchangeName,
      })
    : undefined;
  if (telegram) {
    customerChannels.telegram = telegram.customerChannel;
    // Stopped after the HTTP server: no webhook call arrives once it stops.
    stack.push('telegram', () => telegram.stop());
  }
  if (telegram?.webhookPath) {
    namedRoutes.set(telegram.webhookPath, 'telegram-webhook');
    app.post(telegram.webhookPath, (c) => telegram.handleWebhook(c.req.raw));
  }
  const server = await new Promise<ReturnType<typeof serve>>((resolveServer, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host, serverOptions: serverTimeouts(config.httpRequestTimeoutMs) }, () =>
      resolveServer(s),
    );
    s.once('error', reject);
  });
  stack.push('http server', () => new Promise<void>((done) => server.close(() => done())));
  await telegram?.start();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  // Settled reply payloads are emptied, and with RETENTION_DAYS old closed conversations erased.
  const retention = startRetention({ db: database.db, log: turnLog, retentionDays: config.turnLog.retentionDays, intervalMs: RETENTION_SWEEP_MS, logger });
  stack.push('retention', () => retention.stop());
  logger.info({ url, database: database.engine, embedder: embedder.id, mode: openai ? 'model' : 'offline' }, 'helpdesk ready');

  return { url, config, stop: () => stack.unwind() };
}

async function main(): Promise<void> {
  let running: RunningHelpdesk;
  try {
    running = await startHelpdesk({ env: process.env });
  } catch (error) {
    if (error instanceof ConfigError || (error as { code?: string }).code === 'data_dir_locked') {
      console.error((error as Error).message);
    } else {
      console.error('Start-up failed:', error);
    }
    process.exit(1);
  }
  console.log(`Helpdesk ready at ${running.url}`);
  const shutdown = async (signal: string) => {
    console.log(`${signal}: stopping…`);
    await running.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
