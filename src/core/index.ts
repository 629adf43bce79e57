export * from './model.js';
export * from './ports.js';
export * from './errors.js';
export { createHelpdesk, type Helpdesk, type CustomerInput, type CustomerOutcome, type HelpdeskDeps } from './helpdesk.js';
export { detectLanguage, detectLanguageSwitch, detectLocale, toLanguageOf, type Locale } from './language.js';
export { detectChineseScript, toSimplifiedChinese, toTraditionalChinese, type ChineseScript } from './chinese-script.js';
export { classifyDialogueAct, isSmallTalk, DIALOGUE_ACTS, type DialogueAct, type SmallTalkAct } from './conversation/dialogue-acts.js';
export { toDialogueActReply } from './conversation/dialogue-act-messages.js';
export { decideEscalation, asksForHuman, isScamReport, isSensitive, isUnsatisfied, type EscalationInput } from './escalation/decide-escalation.js';
export {
  validateEntries,
  checkMarkdown,
  describeIssues,
  ENTRY_LIMITS,
  type RawKnowledgeFile,
  type KnowledgeProblem,
  type FieldIssue,
  type FieldIssueCode,
} from './knowledge/validate-entries.js';
export {
  prepareUpserts,
  syncKnowledge,
  syncKnowledgeFiles,
  type VersionedEntry,
  toContentHash,
  toTopic,
  INDEX_FORMAT_VERSION,
  type PassageSplitter,
  type SyncReport,
} from './knowledge/sync-knowledge.js';
export { normalizeText, segmentWords, stemEnglish, termsOfWords, toTerms } from './retrieval/tokenize.js';
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
export type { CustomerChannel, CustomerFile, HandoffRecord, HandoffStore, HandoffWithConversation } from './handoff/handoff-store.js';
export { buildHandoffSummary, type HandoffSummary } from './handoff/build-handoff-summary.js';
export { estimateWait, parseWorkingHours, toMinuteOfWeek, type WaitEstimate, type WorkingHours } from './handoff/working-hours.js';
export { toRating } from './handoff/handoff-messages.js';
export { notifyAppends } from './handoff/notify-appends.js';
export {
  createAgentInbox,
  matchesSearch,
  toInboxFiles,
  toTriedEntries,
  SEARCH_CLOSED_HANDOFFS,
  type AgentInbox,
  type InboxAction,
  type InboxConversation,
  type InboxFile,
  type InboxItem,
  type InboxStore,
  type TriedEntry,
} from './handoff/agent-inbox.js';
export { createInboxFeed, type ChangeMark, type InboxFeed, type InboxSubscription } from './handoff/inbox-feed.js';
export {
  createSavedReplies,
  SAVED_REPLY_LIMITS,
  SavedReplyBlockedError,
  type SavedReplies,
  type SavedReply,
  type SavedReplyInput,
  type SavedReplyStore,
} from './handoff/saved-replies.js';
export { startDeskSweeps } from './handoff/start-desk-sweeps.js';
export { createKeyedRunner, type KeyedRunner } from './keyed-runner.js';
export { STAFF_ROLES, PERMISSIONS, can, isStaffRole, permissionsOf, type Permission, type StaffRole } from './admin/roles.js';
export {
  createAdminAccess,
  checkAccountName,
  DEFAULT_SESSION_SETTINGS,
  LoginLockedError,
  type AccountStore,
  type AdminAccess,
  type Principal,
  type SessionSettings,
  type SessionStore,
  type StaffAccount,
  type StaffSession,
} from './admin/admin-access.js';
export { hashPassword, verifyPassword, generatePassword, MIN_PASSWORD_CHARS } from './admin/passwords.js';
export { toEntryHash, toEntryContent, type EntryContent } from './knowledge/entry-content.js';
export type {
  EntryHeads,
  FileConflict,
  FileState,
  KnowledgeCommit,
  KnowledgeStore,
  NewRevision,
  Revision,
  RevisionOrigin,
} from './knowledge/knowledge-store.js';
export { EntryValidationError, VersionConflictError } from './knowledge/knowledge-errors.js';
export {
  createKnowledgeBase,
  type ChangeAuthor,
  type EntryInput,
  type EntrySummary,
  type EntryView,
  type ExportItem,
  type ExportPlan,
  type ImportReport,
  type KnowledgeBase,
  type SaveOptions,
  type TranslationState,
  type TranslationView,
} from './knowledge/knowledge-base.js';
export { toHitTestResult, type HitDecision, type HitTestResult } from './knowledge/hit-test.js';
export {
  clusterQuestions,
  createGapReport,
  findUnansweredQuestions,
  GAP_CLUSTER_THRESHOLD,
  GAP_SIGNALS,
  type GapCluster,
  type GapReport,
  type GapReporter,
  type GapSignal,
  type GapSource,
  type UnansweredQuestion,
} from './knowledge/gap-report.js';
export { createMemoryConversationStore } from './conversation/memory-conversation-store.js';
export { freshRandom } from './lib/fresh-random.js';
export { type Backoff, backoffMs, retry, type RetryOptions, sleep } from './lib/retry.js';
export { createWakeLoop, type WakeLoop } from './lib/wake-loop.js';
export { observeHelpdesk, observeRetriever, observeSecurityEvents, type HelpdeskObserver, type InputOutcome } from './operations/observe.js';
export type { OperationsProbe, OperationsSnapshot, QueueDepth } from './operations/operations-probe.js';
export {
  toHelpdeskStats,
  toStatsPeriod,
  toDurationSummary,
  StatsRangeError,
  MAX_STATS_DAYS,
  MOST_CITED,
  type HelpdeskStats,
  type DurationFacts,
  type StatsAgent,
  type StatsFacts,
  type StatsRange,
  type StatsSource,
} from './operations/stats.js';
