import { readKnowledgeFiles } from '../../../src/adapters/knowledge-files/read-knowledge-files.js';
import { createLocalEmbedder } from '../../../src/adapters/local/local-embedder.js';
import { createPassageSplitter } from '../../../src/adapters/local/passage-splitter.js';
import {
  type Answerer,
  createAgentInbox,
  createHandoffDesk,
  createHelpdesk,
  createMemoryConversationStore,
  createMemorySecurityEventLog,
  createOfficialAllowlist,
  type KnowledgeIndex,
  type Language,
  parseWorkingHours,
  syncKnowledgeFiles,
} from '../../../src/core/index.js';
import { KNOWLEDGE_DIR } from '../knowledge-dir.js';
import { ADMIN_TOKEN, OFFICIAL } from '../official.js';
import { testHelpdeskParts } from '../helpdesk-parts.js';
import { silentLogger } from '../silent-logger.js';
import { createMemoryHandoffStore } from './memory-handoff-store.js';
import { createMemoryInboxStore } from './memory-inbox-store.js';
import { createMemoryKnowledgeIndex } from './memory-knowledge-index.js';
import { createRecordingChannel } from './recording-channel.js';

export { silentLogger };

const embedder = createLocalEmbedder();
let starter: Promise<KnowledgeIndex> | undefined;

/** The starter knowledge base synced into an in-memory index, once per test file (searches do not change it). */
export function starterKnowledge(): Promise<KnowledgeIndex> {
  starter ??= (async () => {
    const index = createMemoryKnowledgeIndex();
    const report = await syncKnowledgeFiles(await readKnowledgeFiles(KNOWLEDGE_DIR), { index, embedder, splitPassages: createPassageSplitter() });
    if (report.problems.length > 0) throw new Error(`starter knowledge base: ${JSON.stringify(report.problems)}`);
    return index;
  })();
  return starter;
}

/** A clock the test moves: the desk and the handoff store read it. */
export function createClock(start = new Date('2026-03-02T10:00:00Z')) {
  let at = start.getTime();
  return {
    now: () => new Date(at),
    advance(ms: number) {
      at += ms;
    },
  };
}

export interface FakeHelpdeskOptions {
  answerer?: Answerer;
  threshold?: number;
  maxMessageChars?: number;
  /** Working hours as HANDOFF_HOURS takes them (default 24/7), in UTC. */
  hours?: string;
  minutesPerConversation?: number;
  unclaimedAfterMs?: number;
  genericAgentName?: string;
  /** The official contacts, rate limit and admin token main.ts configures (default: the starter's contacts, no practical limit). */
  rateLimit?: { limit: number; windowMs: number };
  clock?: ReturnType<typeof createClock>;
  /** Another knowledge index than the starter one (e.g. one that fails). */
  knowledge?: KnowledgeIndex;
}

/**
 * The real helpdesk and handoff desk, wired as main.ts wires them, on in-memory fakes of their
 * stores: the starter knowledge base, conversations, handoffs, security events, and a recording
 * Telegram channel; the agents' inbox over the same desk. No database, no server: for core's unit tests.
 */
export async function createHelpdeskOnFakes(options: FakeHelpdeskOptions = {}) {
  const knowledge = options.knowledge ?? (await starterKnowledge());
  const conversations = createMemoryConversationStore();
  const clock = options.clock ?? createClock();
  const handoffs = createMemoryHandoffStore(conversations, { now: clock.now });
  const events = createMemorySecurityEventLog();
  const telegram = createRecordingChannel();
  // As main.ts: the helpdesk asks the desk for the queue, the desk reviews agents' words with the helpdesk's guard.
  const queue = { status: (id: string, language: Language) => desk.status(id, language), withdraw: (id: string) => desk.withdraw(id) };
  const helpdesk = createHelpdesk({
    ...testHelpdeskParts({ knowledge, embedder, answerer: options.answerer, threshold: options.threshold, maxMessageChars: options.maxMessageChars }),
    queue,
    conversations,
    safety: {
      allowlist: createOfficialAllowlist(OFFICIAL),
      rateLimit: options.rateLimit ?? { limit: 1000, windowMs: 60_000 },
      events,
      adminToken: ADMIN_TOKEN,
    },
  });
  const desk = createHandoffDesk({
    conversations,
    handoffs,
    customerChannels: { telegram },
    logger: silentLogger,
    review: helpdesk.reviewOutbound,
    settings: {
      hours: parseWorkingHours(options.hours ?? '24/7', 'UTC'),
      minutesPerConversation: options.minutesPerConversation ?? 10,
      unclaimedAfterMs: options.unclaimedAfterMs ?? 60_000,
      genericAgentName: options.genericAgentName,
    },
    now: clock.now,
  });
  const inbox = createAgentInbox({ desk, handoffs, conversations, store: createMemoryInboxStore(handoffs), customerChannels: { telegram } });
  return { helpdesk, desk, inbox, conversations, handoffs, events, telegram, clock };
}
