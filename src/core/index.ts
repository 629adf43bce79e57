export * from './model.js';
export * from './ports.js';
export * from './errors.js';
export { createHelpdesk, type Helpdesk, type CustomerInput, type CustomerOutcome, type HelpdeskDeps } from './helpdesk.js';
export { detectLanguage, detectLanguageSwitch, detectLocale, toLanguageOf, type Locale } from './language.js';
export { detectChineseScript, toSimplifiedChinese, toTraditionalChinese, type ChineseScript } from './chinese-script.js';
export { classifyDialogueAct, isSmallTalk, DIALOGUE_ACTS, type DialogueAct, type SmallTalkAct } from './conversation/dialogue-acts.js';
export { toDialogueActReply } from './conversation/dialogue-act-messages.js';
export { decideEscalation, asksForHuman, isScamReport, isSensitive, isUnsatisfied, type EscalationInput } from './escalation/decide-escalation.js';
export { validateEntries, type RawKnowledgeFile, type KnowledgeProblem } from './knowledge/validate-entries.js';
export {
  syncKnowledge,
  syncKnowledgeFiles,
  toContentHash,
  toTopic,
  INDEX_FORMAT_VERSION,
  type PassageSplitter,
  type SyncReport,
} from './knowledge/sync-knowledge.js';
export { normalizeText, segmentWords, stemEnglish, toTerms } from './retrieval/tokenize.js';
export {
  createRetriever,
  toConfidence,
  DEFAULT_TUNING,
  FEATURE_NAMES,
  type Calibration,
  type Retriever,
  type RetrievalTuning,
  type RetrievalFeatures,
} from './retrieval/retrieve.js';
export { toCentroid } from './retrieval/centroid.js';
export { toGreeting } from './conversation/messages.js';
export * from './audit/index.js';
export * from './safety/index.js';
export {
  createHandoffDesk,
  isVisibleToCustomer,
  type Agent,
  type AgentActionResult,
  type DeskOrigin,
  type HandoffDesk,
  type HandoffDeskDeps,
} from './handoff/create-handoff-desk.js';
export type { CustomerChannel, CustomerFile, HandoffRecord, HandoffStore, HandoffWithConversation, MirrorProgress } from './handoff/handoff-store.js';
export { buildHandoffSummary, type HandoffSummary } from './handoff/build-handoff-summary.js';
export { estimateWait, parseWorkingHours, toMinuteOfWeek, type WaitEstimate, type WorkingHours } from './handoff/working-hours.js';
export { toRating } from './handoff/handoff-messages.js';
export { notifyAppends } from './handoff/notify-appends.js';
export { startDeskSweeps } from './handoff/start-desk-sweeps.js';
export { createKeyedRunner, type KeyedRunner } from './keyed-runner.js';
export { type Backoff, backoffMs, retry, type RetryOptions, sleep } from './lib/retry.js';
export { createWakeLoop, type WakeLoop } from './lib/wake-loop.js';
export { observeHelpdesk, observeRetriever, observeSecurityEvents, type HelpdeskObserver, type InputOutcome } from './operations/observe.js';
export type { OperationsProbe, OperationsSnapshot, QueueDepth } from './operations/operations-probe.js';
export {
  toHelpdeskStats,
  toStatsPeriod,
  summarizeDurations,
  StatsRangeError,
  MAX_STATS_DAYS,
  MOST_CITED,
  type HelpdeskStats,
  type HandoffSpan,
  type StatsAgent,
  type StatsFacts,
  type StatsRange,
  type StatsSource,
} from './operations/stats.js';
